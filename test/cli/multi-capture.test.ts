/**
 * `kubewire decode a.pcapng b.pcapng …` end to end on real captures: the two
 * hops of one kubectl exec (through a real kube-apiserver) recorded in two
 * files, decoded together as they are alone; one capture given twice, or
 * with a copy (`editcap -t 0`), or split by count or time (`editcap -c`,
 * `-A`/`-B`), decoded as the whole; `--clock-offset`; a corrupt, a foreign
 * and a missing file beside a good one; every output form on the merge.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DecodeSummary, SessionSummary } from '../../src/timeline/index.js';
import { which } from '../capture/live-helpers.js';
import { sharedDir } from '../helpers/shared-captures.js';
import { cliMissing, runCli } from './helpers.js';

const dir = sharedDir('real-apiserver');
const missing = cliMissing() ?? (dir ? null : 'no ../shared/real-apiserver beside the repository');
if (missing) console.warn(`skipping decode of several captures: ${missing}`);
const editcap = which('editcap');
const RUNS = ['kubectl-1.33.exec-cat', 'kubectl-1.33.exec-exit7', 'kubectl-1.33.portforward'];
const tmp = mkdtempSync(join(tmpdir(), 'kubewire-multi-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const hop = (run: string, which: 'api' | 'kubelet') => join(dir ?? '', `${run}.${which}-hop.pcapng`);

async function summaryOf(...args: string[]): Promise<{ code: number | null; summary: DecodeSummary; stderr: string }> {
  const r = await runCli(['decode', ...args, '--summary', '--json']);
  return { code: r.code, summary: r.stdout.length ? (JSON.parse(r.stdout.toString('utf8')) as DecodeSummary) : (null as unknown as DecodeSummary), stderr: r.stderr };
}

/** What must not change when the same traffic comes from other files. */
function essence(s: SessionSummary) {
  const { files: _files, ...rest } = s;
  return rest;
}

function withoutFiles(s: DecodeSummary): unknown {
  return JSON.parse(JSON.stringify(s, (k, v: unknown) => (k === 'files' ? undefined : v))) as unknown;
}

function run(tool: string, args: string[]): void {
  const r = spawnSync(tool, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')}: ${r.stderr}`);
}

describe.skipIf(missing !== null)('kubewire decode of several captures', () => {
  it.each(RUNS)('%s: both hops together give both sessions, each as decoded alone, with its file', async (name) => {
    const api = await summaryOf(hop(name, 'api'));
    const kubelet = await summaryOf(hop(name, 'kubelet'));
    expect(api.code).toBe(0);
    expect(kubelet.code).toBe(0);
    expect(api.summary.sessions).toHaveLength(1);
    expect(kubelet.summary.sessions).toHaveLength(1);
    expect(api.summary.sessions[0]!.files).toEqual([hop(name, 'api')]);
    for (const order of [
      [hop(name, 'api'), hop(name, 'kubelet')],
      [hop(name, 'kubelet'), hop(name, 'api')],
    ]) {
      const both = await summaryOf(...order);
      expect(both.code, both.stderr).toBe(0);
      expect(both.summary.sessions).toHaveLength(2);
      // sessions are numbered in the order of their upgrades in merged time
      const first = both.summary.sessions.find((s) => s.hop === 'client-apiserver');
      const second = both.summary.sessions.find((s) => s.hop === 'apiserver-kubelet');
      expect(both.summary.sessions.map((s) => s.session)).toEqual([1, 2]);
      expect(first!.files).toEqual([hop(name, 'api')]);
      expect(second!.files).toEqual([hop(name, 'kubelet')]);
      const alone = (s: SessionSummary) => ({ ...essence(s), session: 0, connection: 0 });
      expect(alone(first!)).toEqual(alone(api.summary.sessions[0]!));
      expect(alone(second!)).toEqual(alone(kubelet.summary.sessions[0]!));
      for (const s of both.summary.sessions) for (const st of s.streams) expect(st.clientToServer.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('the API server hop with the kubelet hop as TLS packets with a secrets block: decrypted in the merge too', async () => {
    const tls = join(dir!, 'kubectl-1.33.exec-cat.kubelet-hop.tls-dsb.pcapng');
    const alone = await summaryOf(tls);
    const both = await summaryOf(hop(RUNS[0]!, 'api'), tls);
    expect(both.code, both.stderr).toBe(alone.code);
    expect(both.summary.tlsConnections?.length).toBeGreaterThan(0);
    expect(both.summary.tlsConnections!.every((t) => t.decrypted && t.files?.[0] === tls)).toBe(true);
    const kubeletSession = both.summary.sessions.find((s) => s.hop === 'apiserver-kubelet')!;
    expect({ ...essence(kubeletSession), session: 0, connection: 0 }).toEqual({ ...essence(alone.summary.sessions[0]!), session: 0, connection: 0 });
  });

  it('the same file twice is one connection per 4-tuple, byte-exact, no diagnostics, both files named', async () => {
    const f = hop(RUNS[0]!, 'kubelet');
    const alone = await summaryOf(f);
    const twice = await summaryOf(f, f);
    expect(twice.code).toBe(0);
    expect(twice.summary.diagnostics).toBe(0);
    expect(withoutFiles(twice.summary)).toEqual(withoutFiles(alone.summary));
    expect(twice.summary.sessions[0]!.files).toEqual([f, f]);
  });

  it.skipIf(!editcap)('a file and its copy (editcap -t 0), every run: one connection per 4-tuple, byte-exact, no diagnostics', async () => {
    for (const name of RUNS) {
      for (const side of ['api', 'kubelet'] as const) {
        const f = hop(name, side);
        const copy = join(tmp, `copy-${basename(f)}`);
        run('editcap', ['-t', '0', f, copy]);
        const alone = await summaryOf(f);
        const both = await summaryOf(copy, f);
        expect(both.code, `${f}: ${both.stderr}`).toBe(0);
        expect(both.summary.diagnostics).toBe(0);
        expect(withoutFiles(both.summary)).toEqual(withoutFiles(alone.summary));
        for (const s of both.summary.sessions) expect(s.files).toEqual([copy, f]);
        for (const r of both.summary.requests) expect(r.files).toEqual([copy, f]);
      }
    }
  });

  it('--clock-offset shifts every time by exactly that much (by path or basename)', async () => {
    const f = hop(RUNS[1]!, 'kubelet');
    const plain = await summaryOf(f);
    const later = await summaryOf(f, '--clock-offset', `${basename(f)}=+1.5`);
    const earlier = await summaryOf(f, '--clock-offset', `${f}=-0.000250`);
    expect(later.code).toBe(0);
    const s = plain.summary.sessions[0]!;
    expect(later.summary.sessions[0]!.startTime).toBe(s.startTime + 1_500_000);
    expect(later.summary.sessions[0]!.endTime).toBe(s.endTime! + 1_500_000);
    expect(earlier.summary.sessions[0]!.startTime).toBe(s.startTime - 250);
    expect(later.summary.requests.map((r) => r.time)).toEqual(plain.summary.requests.map((r) => r.time + 1_500_000));
  });

  it.skipIf(!editcap)('a copy from a clock 3.25 s ahead is a second connection until --clock-offset corrects it', async () => {
    const f = hop(RUNS[0]!, 'api');
    const ahead = join(tmp, 'ahead.pcapng');
    run('editcap', ['-t', '3.25', f, ahead]);
    const alone = await summaryOf(f);
    const wrong = await summaryOf(f, ahead);
    expect(wrong.summary.sessions).toHaveLength(2);
    const right = await summaryOf(f, ahead, '--clock-offset', 'ahead.pcapng=-3.25');
    expect(right.code).toBe(0);
    expect(withoutFiles(right.summary)).toEqual(withoutFiles(alone.summary));
    expect(right.summary.sessions[0]!.files).toEqual([f, ahead]);
  });

  it.skipIf(!editcap)('a capture split by packet count (editcap -c) or by time (-A/-B), given as several files in any order, equals the whole', async () => {
    for (const name of RUNS) {
      const f = hop(name, 'api');
      const whole = await runCli(['decode', f, '--ndjson']);
      const wholeSummary = await summaryOf(f);
      const splitDir = mkdtempSync(join(tmp, 'split-'));
      run('editcap', ['-c', '7', f, join(splitDir, 'part.pcapng')]);
      const parts = readdirSync(splitDir).sort().map((p) => join(splitDir, p));
      expect(parts.length).toBeGreaterThan(2);
      const reversed = [...parts].reverse();
      const merged = await runCli(['decode', ...reversed, '--ndjson']);
      expect(merged.code).toBe(0);
      // the same events, packet numbers included (merged order is the file's order);
      // only the connections' closes name their files
      const lines = (b: Buffer) => b.toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const mergedEvents = lines(merged.stdout);
      for (const e of mergedEvents.filter((x) => x.kind === 'connection-close')) {
        expect((e.files as string[]).length).toBeGreaterThan(0);
        expect((e.files as string[]).every((x) => parts.includes(x))).toBe(true);
        delete e.files;
      }
      expect(mergedEvents).toEqual(lines(whole.stdout));
      const mergedSummary = await summaryOf(...reversed);
      expect(withoutFiles(mergedSummary.summary)).toEqual(withoutFiles(wholeSummary.summary));

      // by time: before and from the session's start
      const start = wholeSummary.summary.sessions[0]!.startTime;
      const cut = new Date(Math.floor(start / 1000)).toISOString().replace('T', ' ').replace('Z', '');
      const before = join(tmp, `${name}-before.pcapng`);
      const after = join(tmp, `${name}-after.pcapng`);
      run('editcap', ['-B', cut, f, before]);
      run('editcap', ['-A', cut, f, after]);
      const byTime = await summaryOf(after, before);
      expect(byTime.code, byTime.stderr).toBe(0);
      expect(withoutFiles(byTime.summary)).toEqual(withoutFiles(wholeSummary.summary));
      expect(byTime.summary.sessions[0]!.files.length).toBeGreaterThan(0);
    }
  });

  it('a corrupt second file: its typed error names it and the offset, the first still decodes (exit 1)', async () => {
    const good = hop(RUNS[0]!, 'api');
    const other = readFileSync(hop(RUNS[1]!, 'kubelet'));
    const cut = join(tmp, 'cut.pcapng');
    writeFileSync(cut, other.subarray(0, 3000));
    const alone = await summaryOf(good);
    const r = await runCli(['decode', good, cut, '--summary']);
    expect(r.code).toBe(1);
    const text = r.stdout.toString('utf8');
    expect(text).toMatch(/CAPTURE_TRUNCATED_PACKET .*\(file .*cut\.pcapng, block \d+, packet \d+, offset \d+\)/);
    const json = await summaryOf(good, cut);
    expect(json.code).toBe(1);
    const session = json.summary.sessions.find((s) => s.files.includes(good))!;
    expect(essence(session)).toEqual(essence(alone.summary.sessions[0]!));
    // the NDJSON diagnostic carries the file as a field
    const nd = await runCli(['decode', good, cut, '--ndjson']);
    const diag = nd.stdout.toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; error?: { code: string; file?: string; offset?: number } }).find((e) => e.kind === 'diagnostic')!;
    expect(diag.error).toMatchObject({ code: 'CAPTURE_TRUNCATED_PACKET', file: cut });
    expect(diag.error!.offset).toBeGreaterThan(0);
  });

  it('a file that is not a capture, or missing, beside a good one: named on stderr, the good one decoded, exit 2', async () => {
    const good = hop(RUNS[0]!, 'api');
    const garbage = join(tmp, 'notes.txt');
    writeFileSync(garbage, 'not a capture at all\n');
    const gone = join(tmp, 'gone.pcap');
    const alone = await summaryOf(good);
    const r = await summaryOf(garbage, good, gone);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${garbage} is not a readable pcap or pcapng capture (CAPTURE_UNKNOWN_FORMAT`);
    expect(r.stderr).toContain(`${gone} is not a readable pcap or pcapng capture (CAPTURE_UNREADABLE: cannot read the capture: ENOENT`);
    expect(r.summary.sessions.map(essence)).toEqual(alone.summary.sessions.map(essence));
    const none = await runCli(['decode', garbage, gone, '--summary']);
    expect(none.code).toBe(2);
    expect(none.stdout.length).toBe(0);
  });

  it('usage errors: standard input mixed with files, an offset for no capture, an offset that is not a number', async () => {
    const f = hop(RUNS[0]!, 'api');
    const cases: Array<[string[], RegExp]> = [
      [['decode', '-', f], /standard input \(-\) is decoded alone/],
      [['decode', f, '-'], /standard input \(-\) is decoded alone/],
      [['decode', f, '--clock-offset', 'other.pcap=1'], /--clock-offset other\.pcap: not one of the captures/],
      [['decode', f, '--clock-offset', `${basename(f)}=1s`], /is not a number of seconds/],
      [['decode', f, '--clock-offset', '5'], /expected FILE=±SECONDS/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, { input: readFileSync(f) });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout.length).toBe(0);
    }
  });

  it('every output form works on the merge: timeline, --follow, --extract, --asciicast, --html', async () => {
    const name = RUNS[0]!;
    const files = [hop(name, 'api'), hop(name, 'kubelet')];
    const truth = JSON.parse(readFileSync(join(dir!, `${name}.truth.json`), 'utf8')) as { stdout: { sha256: string; bytes: number } };
    const timeline = await runCli(['decode', ...files]);
    expect(timeline.code).toBe(0);
    expect(timeline.stdout.toString('utf8')).toMatch(/#1 /);
    expect(timeline.stdout.toString('utf8')).toMatch(/s2 /);
    expect(timeline.stdout.toString('utf8')).toContain(`connection closed (fin)  file ${files[1]}`);

    const follow = await runCli(['decode', ...files, '--follow', '--session', '2', '--role', 'stdout']);
    expect(follow.code).toBe(0);
    expect(createHash('sha256').update(follow.stdout).digest('hex')).toBe(truth.stdout.sha256);

    const out = join(tmp, 'extract');
    const html = join(tmp, 'report.html');
    const casts = join(tmp, 'casts');
    const r = await runCli(['decode', ...files, '--summary', '--extract', out, '--html', html, '--asciicast', casts, '--asciicast-all']);
    expect(r.code, r.stderr).toBe(0);
    const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { files: Array<{ file: string; session: number; role: string; direction: string; sha256: string; bytes: number }> };
    const stdouts = index.files.filter((x) => x.role === 'stdout' && x.direction === 'serverToClient');
    expect(stdouts.map((x) => x.session).sort()).toEqual([1, 2]);
    for (const x of stdouts) {
      expect(x.sha256).toBe(truth.stdout.sha256);
      expect(createHash('sha256').update(readFileSync(join(out, x.file))).digest('hex')).toBe(truth.stdout.sha256);
    }
    expect(existsSync(join(casts, 'session1.cast')) && existsSync(join(casts, 'session2.cast'))).toBe(true);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain(basename(files[0]!));
    expect(page).toContain(basename(files[1]!));
    // the text summary names each session's file when several were given
    expect(r.stdout.toString('utf8')).toContain(`file ${files[1]}`);
  });

  it('decode --help shows the usage with several captures, --clock-offset and an example', async () => {
    const r = await runCli(['decode', '--help']);
    expect(r.code).toBe(0);
    const text = r.stdout.toString('utf8');
    expect(text).toContain('kubewire decode <capture..>');
    expect(text).toMatch(/--clock-offset\s+FILE=±SECONDS/);
    expect(text).toContain('kubewire decode a.pcap b.pcap --clock-offset b.pcap=-0.25');
  });

  it('one file: the summary names it in files and the text summary has no file line', async () => {
    const f = hop(RUNS[0]!, 'api');
    const copy = join(tmp, 'single.pcapng');
    copyFileSync(f, copy);
    const s = await summaryOf(copy);
    expect(s.summary.sessions[0]!.files).toEqual([copy]);
    const text = await runCli(['decode', copy, '--summary']);
    expect(text.stdout.toString('utf8')).not.toMatch(/^ {2}file /m);
  });
});
