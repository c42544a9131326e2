/**
 * The built CLI on hostile variants written to files: exit codes as
 * documented (0 clean, 1 diagnostics, 2 unreadable), never a stack trace,
 * bounded time, and a heap capped at 96 MB for the 2 MiB transfer.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtures, truthProblems } from './harness.js';
import { render } from './model.js';
import { drop, reorder, resegment, toIpv6 } from './transforms.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
const all = fixtures();
const dir = mkdtempSync(join(tmpdir(), 'kubewire-robust-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(name: string, bytes: Uint8Array, args = ['--summary', '--json']): { code: number | null; stdout: string; stderr: string } {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const r = spawnSync(process.execPath, ['--max-old-space-size=96', CLI, 'decode', path, ...args], { timeout: 30_000, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const noStack = (s: string) => !/^\s+at .+[:(]\d+/m.test(s) && !/Error: .*\n\s+at /.test(s);

describe.skipIf(all.length === 0 || !existsSync(CLI))('the CLI on hostile variants', () => {
  if (!existsSync(CLI)) console.warn(`${CLI} not built: run npm run build`);

  it('lossless variants: exit 0 and the summary equals the truth', () => {
    for (const f of all.filter((x) => !x.truth.midSession && x.name !== 'k127-transfer-2mib').slice(0, 4)) {
      const r = run(`${f.name}-v6.pcap`, render(toIpv6(reorder(f.model.segments, 3, 6, true)), { format: 'pcap', link: 'null' }));
      expect(noStack(r.stderr), r.stderr).toBe(true);
      expect(r.code, `${f.name}: ${r.stderr}`).toBe(0);
      expect(truthProblems(JSON.parse(r.stdout).sessions, f.truth)).toEqual([]);
    }
  });

  it('loss, corruption and truncation: exit 1 (or 2 when nothing is readable), no stack trace, JSON out', () => {
    const f = all.find((x) => x.name === 'k127-exec')!;
    const file = render(f.model.segments, { format: 'pcapng' });
    // Scribble over the total length of the block in the middle: structural
    // damage wherever the recording put its packets.
    const bad = file.slice();
    const view = new DataView(bad.buffer);
    let block = 0;
    while (block + view.getUint32(block + 4, true) < file.length / 2) block += view.getUint32(block + 4, true);
    view.setUint32(block + 4, 0xdeadbeef, true);
    const cases: Array<[string, Uint8Array, number]> = [
      ['lossy.pcap', render(drop(f.model.segments, [Math.floor(f.model.segments.length / 2)]), { format: 'pcap' }), 1],
      ['truncated.pcapng', file.subarray(0, Math.floor(file.length * 0.6)), 1],
      ['scribbled.pcapng', bad, 1],
      ['header-only.pcap', file.subarray(0, 10), 2],
      ['garbage.pcap', Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) & 255), 2],
    ];
    for (const [name, bytes, code] of cases) {
      const r = run(name, bytes);
      expect(noStack(r.stderr), `${name}: ${r.stderr}`).toBe(true);
      expect(r.code, `${name}: ${r.stderr}`).toBe(code);
      if (code === 1) expect(() => JSON.parse(r.stdout), name).not.toThrow();
      else expect(r.stderr, name).toMatch(/not a readable pcap or pcapng capture/);
    }
    // the human timeline names the place of the damage
    const t = run('truncated-timeline.pcapng', file.subarray(0, Math.floor(file.length * 0.6)), []);
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(/CAPTURE_TRUNCATED_PACKET .*block \d+.*offset \d+|CAPTURE_TRUNCATED_PACKET .*offset \d+.*block \d+/);
    const l = run('lossy-timeline.pcap', render(drop(f.model.segments, [Math.floor(f.model.segments.length / 2)]), { format: 'pcap' }), []);
    expect(l.code).toBe(1);
    expect(l.stdout).toMatch(/GAP.*offset \d+/);
  });

  it('--extract on captures joined mid-frame: every file the tail of the full capture\'s', () => {
    for (const name of ['k127-exec', 'k133-exec-ws', 'k133-portforward-tunnel']) {
      const f = all.find((x) => x.name === name);
      if (!f) continue;
      const segs = resegment(f.model.segments, 5);
      const i101 = segs.findIndex((s) => Buffer.from(s.payload.subarray(0, 12)).toString('latin1') === 'HTTP/1.1 101');
      const extract = (label: string, from: number) => {
        const out = join(dir, `${name}-${label}`);
        const r = run(`${name}-${label}.pcap`, render(segs.slice(from), { format: 'pcap' }), ['--extract', out]);
        expect(noStack(r.stderr), r.stderr).toBe(true);
        expect([0, 1], `${name} ${label}: ${r.stderr}`).toContain(r.code);
        const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { files: Array<{ file: string; streamId: number; direction: string; session: number }> };
        return new Map(index.files.map((x) => [`${x.streamId}/${x.direction}`, readFileSync(join(out, x.file))]));
      };
      const full = extract('full', 0);
      const cut = extract('cut', i101 + 1 + Math.floor((segs.length - i101) / 3));
      expect(cut.size, name).toBeGreaterThan(0);
      for (const [k, b] of cut) {
        const want = full.get(k) ?? Buffer.alloc(0);
        expect(b.length <= want.length && want.subarray(want.length - b.length).equals(b), `${name} ${k}: ${b.length} of ${want.length}`).toBe(true);
      }
    }
  });

  it('a reordered IPv6 variant on standard input (decode -)', () => {
    const f = all.find((x) => x.name === 'k133-portforward-tunnel') ?? all[0]!;
    const bytes = render(toIpv6(reorder(f.model.segments, 8, 5, true)), { format: 'pcapng', link: 'sll2', nanos: true });
    const r = spawnSync(process.execPath, ['--max-old-space-size=96', CLI, 'decode', '-', '--summary', '--json'], { input: bytes, timeout: 30_000, encoding: 'utf8' });
    expect(noStack(r.stderr), r.stderr).toBe(true);
    expect(r.status, r.stderr).toBe(0);
    expect(truthProblems(JSON.parse(r.stdout).sessions, f.truth)).toEqual([]);
  });

  it('the 2 MiB transfer, reordered, in a 96 MB heap', () => {
    const f = all.find((x) => x.name === 'k127-transfer-2mib');
    if (!f) return void console.warn('k127-transfer-2mib fixture missing');
    const r = run('transfer.pcapng', render(reorder(f.model.segments, 5, 8, true), { format: 'pcapng', link: 'sll2' }));
    expect(noStack(r.stderr), r.stderr).toBe(true);
    expect(r.code, r.stderr).toBe(0);
    expect(truthProblems(JSON.parse(r.stdout).sessions, f.truth)).toEqual([]);
  });
});
