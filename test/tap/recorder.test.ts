import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, createWriteStream, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { CaptureDecoder } from '../../src/tcp/index.js';
import type { KubewireError } from '../../src/common/errors.js';
import { PcapngRecorder, startTap } from '../../src/tap/index.js';
import { EventRecorder, runClient, startSinkServer } from './helpers.js';

const KiB = 1024;
let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function tsharkPath(): string | null {
  try {
    return execFileSync('which', ['tshark'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

async function recordSessions(sessions: number, up: number, down: number) {
  const server = await startSinkServer(() => down);
  cleanups.push(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-tap-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tap.pcapng');
  const recorder = new PcapngRecorder(createWriteStream(file));
  const live = new EventRecorder();
  const tap = await startTap({
    upstream: { protocol: 'http', host: '127.0.0.1', port: server.port },
    record: recorder.record,
    consumer: live.consume,
  });
  const clients = await Promise.all(Array.from({ length: sessions }, (_, s) => runClient(tap.address.port, s, up)));
  await tap.close(1000);
  await recorder.close();
  return { file, live, clients, server, recorder };
}

describe('tap --write recording', () => {
  it('reads back through our capture pipeline as the same connections, bytes and endings', async () => {
    const { file, live, recorder } = await recordSessions(5, 300 * KiB, 200 * KiB);
    const readBack = new EventRecorder();
    const decoder = new CaptureDecoder(readBack.consume);
    decoder.push(readFileSync(file));
    decoder.end();
    const a = live.connections();
    const b = readBack.connections();
    expect(b.size).toBe(5);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [id, l] of a) {
      const r = b.get(id)!;
      expect(r.problems).toEqual([]);
      expect(r.session).toBe(l.session);
      expect(r.bytes).toEqual(l.bytes);
      expect(r.hash).toEqual(l.hash);
      expect(r.closeReason).toBe('fin');
    }
    expect(recorder.stats()).toMatchObject({ connections: 5, truncated: 0 });
  });

  it('is a capture tshark follows to the same bytes', async (ctx) => {
    const tshark = tsharkPath();
    if (!tshark) {
      console.warn('tshark not found on PATH; skipping the Wireshark read-back check');
      ctx.skip();
      return;
    }
    const { file, clients, server } = await recordSessions(2, 100 * KiB, 150 * KiB);
    const byStream = new Map<number, { c2s: string; s2c: string }>();
    for (const stream of [0, 1]) {
      const out = execFileSync(tshark, ['-r', file, '-q', '-z', `follow,tcp,raw,${stream}`], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      // Raw follow output: client bytes as hex lines, server bytes as tab-indented hex lines.
      const body = out.split(/={60,}/)[1]!;
      const c2s: Buffer[] = [];
      const s2c: Buffer[] = [];
      for (const line of body.split('\n')) {
        if (!/^\t?[0-9a-f]+$/.test(line)) continue;
        (line.startsWith('\t') ? s2c : c2s).push(Buffer.from(line.trim(), 'hex'));
      }
      const c = Buffer.concat(c2s);
      byStream.set(c.readUInt32BE(0), {
        c2s: createHash('sha256').update(c.subarray(4)).digest('hex'),
        s2c: createHash('sha256').update(Buffer.concat(s2c)).digest('hex'),
      });
    }
    for (const s of [0, 1]) {
      const srv = await server.results.get(s)!;
      expect(byStream.get(s)).toEqual({ c2s: clients[s]!.sentHash, s2c: srv.sentHash });
    }
    const warnings = execFileSync(tshark, ['-r', file, '-o', 'tcp.check_checksum:TRUE', '-Y', '_ws.expert.severity >= warning'], {
      encoding: 'utf8',
    });
    expect(warnings.trim()).toBe('');
  });

  it('records a tap listening on IPv6 in front of an IPv4 upstream (IPv4-mapped addresses), readable back', async () => {
    const server = await startSinkServer(() => 50 * KiB);
    cleanups.push(() => server.close());
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (d: Buffer) => chunks.push(d));
    const recorder = new PcapngRecorder(out);
    const live = new EventRecorder();
    let tap;
    try {
      tap = await startTap({
        listen: { host: '::1', port: 0 },
        upstream: { protocol: 'http', host: '127.0.0.1', port: server.port },
        record: recorder.record,
        consumer: live.consume,
      });
    } catch (e) {
      console.warn(`no IPv6 loopback here (${(e as Error).message}); skipping`);
      return;
    }
    const { connect } = await import('node:net');
    await runClient(tap.address.port, 3, 40 * KiB, (port) => connect({ port, host: '::1', allowHalfOpen: true }));
    await tap.close(1000);
    await recorder.close();
    const readBack = new EventRecorder(true);
    const decoder = new CaptureDecoder(readBack.consume);
    decoder.push(Buffer.concat(chunks));
    decoder.end();
    const openEv = readBack.events.find((e) => e.kind === 'open');
    expect(openEv).toMatchObject({ client: { address: '::1' }, server: { address: '::ffff:7f00:1', port: server.port } });
    const [a] = [...live.connections().values()];
    const [b] = [...readBack.connections().values()];
    expect(b!.hash).toEqual(a!.hash);
    expect(b!.bytes).toEqual({ clientToServer: 40 * KiB + 4, serverToClient: 50 * KiB });
  });

  it('cuts a recording with a RST and a report when its output falls behind, instead of buffering', () => {
    // An output that never drains.
    const out = new PassThrough({ highWaterMark: 1 });
    const reports: KubewireError[] = [];
    const rec = new PcapngRecorder(out, { maxPendingBytes: 64 * KiB, onReport: (e) => reports.push(e) });
    const client = { address: '127.0.0.1', port: 40000 };
    const server = { address: '127.0.0.1', port: 6443 };
    rec.record({ kind: 'open', connection: 1, client, server, time: 1, startedLate: false });
    const chunk = new Uint8Array(16 * KiB);
    for (let i = 0; i < 20; i++) {
      rec.record({ kind: 'data', connection: 1, direction: 'clientToServer', bytes: chunk, offset: i * chunk.length, time: 2 + i });
    }
    expect(rec.stats().truncated).toBe(1);
    expect(reports.map((e) => e.code)).toEqual(['TAP_WRITE_BEHIND']);
    expect(out.writableLength).toBeLessThan(64 * KiB + 2 * chunk.length);
  });
});
