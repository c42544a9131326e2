import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapngEventWriter, readCaptureBytes, writeSyntheticPcapng, type SyntheticExchange } from '../../src/capture/index.js';
import type { ConnectionEvent } from '../../src/tcp/types.js';
import { decodeCaptureBytes } from '../../src/tcp/index.js';
import { byConnection, knownBytes, which } from './live-helpers.js';

const T0 = 1_764_000_000_000_000; // µs

function exchanges(): SyntheticExchange[] {
  const chunks = (seed: number): SyntheticExchange['chunks'] => [
    { direction: 'clientToServer', bytes: knownBytes(seed, 300), time: T0 + 1 },
    { direction: 'serverToClient', bytes: knownBytes(seed + 1, 100_000), time: T0 + 250 }, // several segments
    { direction: 'clientToServer', bytes: knownBytes(seed + 2, 1), time: T0 + 1_000_000 },
    { direction: 'serverToClient', bytes: knownBytes(seed + 3, 70_000), time: T0 + 2_500_000 },
  ];
  return [
    { client: { address: '127.0.0.1', port: 50123 }, server: { address: '127.0.0.1', port: 10250 }, chunks: chunks(1) },
    { client: { address: '::1', port: 50124 }, server: { address: '::1', port: 6443 }, chunks: chunks(5), end: 'rst' },
    { client: { address: '10.1.2.3', port: 40000 }, server: { address: '10.1.2.4', port: 8080 }, chunks: chunks(9), mss: 1448 },
  ];
}

const expected = (ex: SyntheticExchange, d: 'clientToServer' | 'serverToClient') =>
  Buffer.concat(ex.chunks.filter((c) => c.direction === d).map((c) => c.bytes));

const dir = mkdtempSync(join(tmpdir(), 'kubewire-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pcapng writer', () => {
  const file = writeSyntheticPcapng(exchanges(), { interfaceName: 'tap' });

  it('our reader reassembles it to the same bytes, times and endings', () => {
    const records = [...readCaptureBytes(file)];
    expect(records[0]).toMatchObject({ kind: 'interface', linkType: 1, name: 'tap', resolution: 1e-6 });
    const events = decodeCaptureBytes(file);
    expect(events.filter((e) => e.kind === 'diagnostic' || e.kind === 'gap')).toEqual([]);
    const conns = byConnection(events);
    expect(conns.size).toBe(3);
    exchanges().forEach((ex, i) => {
      const c = conns.get(i + 1)!;
      expect(c.client).toEqual(ex.client);
      expect(c.server).toEqual(ex.server);
      expect(c.startedLate).toBe(false);
      expect(c.c2s.equals(expected(ex, 'clientToServer'))).toBe(true);
      expect(c.s2c.equals(expected(ex, 'serverToClient'))).toBe(true);
      expect(c.closeReason).toBe(ex.end === 'rst' ? 'rst' : 'fin');
    });
    const times = events.filter((e) => e.kind === 'data' && e.connection === 1).map((e) => e.time);
    expect(times[0]).toBe(T0 + 1);
    expect(times[times.length - 1]).toBe(T0 + 2_500_000);
  });

  const tshark = which('tshark');
  it.skipIf(!tshark)('tshark reads it with valid checksums and follows the same streams', () => {
    const path = join(dir, 'synthetic.pcapng');
    writeFileSync(path, file);
    const expert = spawnSync(
      'tshark',
      ['-r', path, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-q', '-z', 'expert'],
      { encoding: 'utf8' },
    );
    expect(expert.status).toBe(0);
    expect(expert.stdout).not.toMatch(/Errors|Warnings|checksum/i);
    exchanges().forEach((ex, stream) => {
      const r = spawnSync('tshark', ['-r', path, '-q', '-z', `follow,tcp,raw,${stream}`], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      expect(r.status).toBe(0);
      const body = r.stdout.split('\n').filter((l) => /^\t?[0-9a-f]+$/.test(l));
      const c2s = Buffer.from(body.filter((l) => !l.startsWith('\t')).join(''), 'hex');
      const s2c = Buffer.from(body.filter((l) => l.startsWith('\t')).map((l) => l.slice(1)).join(''), 'hex');
      expect(c2s.equals(expected(ex, 'clientToServer'))).toBe(true);
      expect(s2c.equals(expected(ex, 'serverToClient'))).toBe(true);
    });
  });
  if (!tshark) console.warn('tshark not found: skipping the tshark read-back of the pcapng writer');
});

describe('pcapng event writer', () => {
  type Step = { c2s: boolean; data: Uint8Array | null; gap: number };
  const step = fc.record({
    c2s: fc.boolean(),
    data: fc.option(fc.uint8Array({ minLength: 1, maxLength: 2500 }), { nil: null }),
    gap: fc.integer({ min: 1, max: 4000 }),
  });
  const conn = fc.record({ steps: fc.array(step, { maxLength: 8 }), end: fc.constantFrom<'fin' | 'rst'>('fin', 'rst'), rstFromClient: fc.boolean() });

  /** Runs of data (concatenated) and gaps (summed), in stream order. */
  function runs(list: { data: Uint8Array | null; gap: number }[]): string[] {
    const out: string[] = [];
    let cur = '';
    let gap = 0;
    for (const x of list) {
      if (x.data) {
        if (gap) out.push(`gap ${gap}`), (gap = 0);
        cur += Buffer.from(x.data).toString('hex');
      } else {
        if (cur) out.push(cur), (cur = '');
        gap += x.gap;
      }
    }
    if (cur) out.push(cur);
    if (gap) out.push(`gap ${gap}`);
    return out;
  }

  it('events → pcapng → our reader gives back the same streams, gaps and endings', () => {
    fc.assert(
      fc.property(fc.array(conn, { minLength: 1, maxLength: 3 }), (conns) => {
        const w = new PcapngEventWriter({ mss: 1000 });
        const blocks = [w.header()];
        let t = T0;
        conns.forEach((c, i) => {
          const id = i + 1;
          const offsets = { clientToServer: 0, serverToClient: 0 };
          const events: ConnectionEvent[] = [
            { kind: 'open', connection: id, client: { address: '10.0.0.1', port: 40000 + i }, server: { address: '10.0.0.2', port: 443 }, time: (t += 10), startedLate: false },
          ];
          for (const s of c.steps) {
            const direction = s.c2s ? 'clientToServer' : 'serverToClient';
            if (s.data) events.push({ kind: 'data', connection: id, direction, bytes: s.data, offset: offsets[direction], time: (t += 10) });
            else events.push({ kind: 'gap', connection: id, direction, offset: offsets[direction], size: s.gap, time: (t += 10) });
            offsets[direction] += s.data ? s.data.length : s.gap;
          }
          const closer = c.end === 'rst' && !c.rstFromClient ? 'serverToClient' : 'clientToServer';
          events.push({ kind: 'close', connection: id, reason: c.end, direction: closer, time: (t += 10) });
          for (const e of events) blocks.push(...w.event(e));
        });
        const file = Buffer.concat(blocks);
        const back = decodeCaptureBytes(file);
        expect(back.filter((e) => e.kind === 'diagnostic')).toEqual([]);
        conns.forEach((c, i) => {
          const id = i + 1;
          for (const dir of ['clientToServer', 'serverToClient'] as const) {
            const sent = runs(c.steps.filter((s) => s.c2s === (dir === 'clientToServer')));
            const got = runs(
              back
                .filter((e) => (e.kind === 'data' || e.kind === 'gap') && e.connection === id && e.direction === dir)
                .map((e) => (e.kind === 'data' ? { data: e.bytes, gap: 0 } : { data: null, gap: e.kind === 'gap' ? e.size : 0 })),
            );
            expect(got).toEqual(sent);
          }
          const close = back.find((e) => e.kind === 'close' && e.connection === id);
          expect(close).toMatchObject({ reason: c.end });
        });
      }),
      { numRuns: 150 },
    );
  });
});
