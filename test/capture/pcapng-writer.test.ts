import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCaptureBytes, writeSyntheticPcapng, type SyntheticExchange } from '../../src/capture/index.js';
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
