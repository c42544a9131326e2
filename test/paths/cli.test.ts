/**
 * `kubewire decode` with paths: the JSON summary's `paths`, the text
 * summary's Paths block, and `--path N` in the timeline and `--follow`, on a
 * synthetic capture of three execs across three hops.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PathSummary } from '../../src/paths/index.js';
import { spawnSync } from 'node:child_process';
import { cliMissing, runCli } from '../cli/helpers.js';
import { execPathCapture, manyExecs } from '../helpers/exec-paths.js';
import { sharedDir } from '../helpers/shared-captures.js';
import type { ClockOffset } from '../../src/paths/index.js';

const editcap = spawnSync('editcap', ['-h'], { stdio: 'ignore' }).error ? null : 'editcap';
const realDir = sharedDir('real-apiserver');

const missing = cliMissing();
if (missing) console.warn(`skipping the paths CLI tests: ${missing}`);

describe.skipIf(missing !== null)('kubewire decode: paths', () => {
  let dir: string;
  let file: string;
  const execs = manyExecs(3, { spacingUs: 300 });
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kubewire-paths-'));
    file = join(dir, 'node.pcapng');
    writeFileSync(file, execPathCapture(execs));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--summary --json: one path per exec, hops in order, links with their evidence', async () => {
    const r = await runCli(['decode', file, '--summary', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout.toString()) as { sessions: Array<{ session: number; client: string }>; paths: PathSummary[]; clockOffsets: unknown[] };
    expect(doc.clockOffsets).toEqual([]);
    expect(doc.paths).toHaveLength(3);
    const clientOf = new Map(doc.sessions.map((s) => [s.session, s.client]));
    for (const [n, p] of doc.paths.entries()) {
      expect(p.path).toBe(n + 1);
      expect(p.hops.map((h) => h.hop)).toEqual(['client-apiserver', 'apiserver-kubelet', 'kubelet-runtime']);
      expect(p.hops.map((h) => clientOf.get(h.session))).toEqual(execs[n]!.ports.map((port) => `127.0.0.1:${port}`));
      expect(p.hops.every((h) => h.file === file)).toBe(true);
      expect(p.links.map((l) => l.evidence)).toEqual([
        ['identity', 'bytes', 'timing'],
        ['bytes', 'timing'],
      ]);
    }
  });

  it('--summary: a Paths block', async () => {
    const r = await runCli(['decode', file, '--summary']);
    const text = r.stdout.toString();
    expect(text).toContain('Paths (3)');
    expect(text).toMatch(/Path 1: exec default\/web container main: cat/);
    expect(text).toMatch(/link 1→2 high \(identity, bytes, timing\)/);
    expect(text).toMatch(/delay added: stdin \+\d+ µs p50/);
    expect(text).toMatch(/exit Success code 0 reached hop 1 from hop 3 in \d+ µs/);
  });

  it('--session N: only the paths that session is a hop of', async () => {
    const all = JSON.parse((await runCli(['decode', file, '--summary', '--json'])).stdout.toString()) as { paths: PathSummary[] };
    const hop2 = all.paths[1]!.hops[1]!.session;
    const r = await runCli(['decode', file, '--summary', '--json', '--session', String(hop2)]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout.toString()) as { sessions: Array<{ session: number }>; paths: PathSummary[] };
    expect(doc.sessions.map((s) => s.session)).toEqual([hop2]);
    // the path whole, its other hops included
    expect(doc.paths).toEqual([all.paths[1]]);
    const text = (await runCli(['decode', file, '--summary', '--session', String(hop2)])).stdout.toString();
    expect(text).toContain('Paths (1)');
    expect(text).toContain('Path 2: exec');
    const none = (await runCli(['decode', file, '--summary', '--session', '99'])).stdout.toString();
    expect(none).not.toContain('Paths (');
  });

  it('--path N: only that path, every event marked with its hop', async () => {
    const json = JSON.parse((await runCli(['decode', file, '--summary', '--json'])).stdout.toString()) as { paths: PathSummary[] };
    const want = json.paths[1]!.hops.map((h) => h.session);
    const r = await runCli(['decode', file, '--path', '2']);
    expect(r.code).toBe(0);
    const lines = r.stdout.toString().trim().split('\n').slice(0, -1);
    expect(lines.length).toBeGreaterThan(20);
    const seen = new Set<number>();
    for (const l of lines) {
      const m = /^\S+ \[(hop \d \S+|connection)\]\s+#\d+ s(\d+)/.exec(l);
      if (!m) {
        expect(l).toMatch(/^\S+ \[connection\]/);
        continue;
      }
      const session = Number(m[2]);
      expect(want).toContain(session);
      expect(m[1]).toBe(`hop ${want.indexOf(session) + 1} ${json.paths[1]!.hops[want.indexOf(session)]!.hop}`);
      seen.add(session);
    }
    expect([...seen].sort()).toEqual([...want].sort());
    // the summary of one path
    const one = JSON.parse((await runCli(['decode', file, '--path', '2', '--summary', '--json'])).stdout.toString()) as { sessions: Array<{ session: number }>; paths: PathSummary[] };
    expect(one.paths.map((p) => p.path)).toEqual([2]);
    expect(one.sessions.map((s) => s.session).sort()).toEqual([...want].sort());
  });

  it('--path N --follow: the bytes of each hop under a line naming it', async () => {
    const r = await runCli(['decode', file, '--path', '1', '--follow']);
    expect(r.code).toBe(0);
    const out = r.stdout.toString('latin1');
    for (const hop of ['hop 1 client-apiserver', 'hop 2 apiserver-kubelet', 'hop 3 kubelet-runtime']) expect(out).toContain(`--- ${hop} (session`);
    // stdin and stdout at three hops: six times 4096 bytes, plus the hop lines
    expect(r.stdout.length).toBeGreaterThan(6 * 4096);
  });

  it('--path beyond the paths, or on standard input, is a usage error', async () => {
    const r = await runCli(['decode', file, '--path', '9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--path 9: the capture has 3 paths');
    const s = await runCli(['decode', '-', '--path', '1'], { input: execPathCapture(execs) });
    expect(s.code).toBe(2);
    expect(s.stderr).toContain('--path reads the capture twice');
  });

  it('two captures, one a second ahead: the path across them and the offset within a millisecond', async () => {
    const client = join(dir, 'client.pcapng');
    const node = join(dir, 'node.pcapng');
    writeFileSync(client, execPathCapture(execs, { hops: [0] }));
    writeFileSync(node, execPathCapture(execs, { hops: [1, 2], shiftUs: { 1: 1_000_000, 2: 1_000_000 } }));
    const r = await runCli(['decode', node, client, '--summary', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout.toString()) as { paths: PathSummary[]; clockOffsets: ClockOffset[] };
    expect(doc.paths).toHaveLength(3);
    for (const p of doc.paths) expect(p.hops.map((h) => h.file)).toEqual([client, node, node]);
    const off = doc.clockOffsets.find((c) => c.file === node)!;
    expect(off.reference).toBe(client);
    expect(Math.abs(off.offsetUs! - 1_000_000)).toBeLessThan(1000);
    const text = (await runCli(['decode', node, client, '--summary'])).stdout.toString();
    expect(text).toMatch(/clock of \S+node\.pcapng: \+1\.000\d{3} s ± \d+ µs against \S+client\.pcapng \(from 3 linked sessions\)/);
  });

  it.skipIf(!editcap || !realDir)('a real API server\'s two hops, one shifted by editcap -t 1: one path, the offset within its bounds', async () => {
    const shifted = join(dir, 'kubelet-shifted.pcapng');
    const res = spawnSync(editcap!, ['-t', '1', `${realDir}/kubectl-1.33.exec-cat.kubelet-hop.pcapng`, shifted]);
    expect(res.status).toBe(0);
    const api = `${realDir}/kubectl-1.33.exec-cat.api-hop.pcapng`;
    const r = await runCli(['decode', api, shifted, '--summary', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout.toString()) as { paths: PathSummary[]; clockOffsets: ClockOffset[] };
    expect(doc.paths).toHaveLength(1);
    expect(doc.paths[0]!.hops.map((h) => [h.hop, h.file])).toEqual([
      ['client-apiserver', api],
      ['apiserver-kubelet', shifted],
    ]);
    expect(doc.paths[0]!.links[0]!.evidence).toEqual(['identity', 'bytes', 'timing']);
    const off = doc.clockOffsets.find((c) => c.file === shifted)!;
    expect(Math.abs(off.offsetUs! - 1_000_000)).toBeLessThanOrEqual(off.uncertaintyUs!);
  });
});
