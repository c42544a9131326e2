/**
 * End-to-end decode of captures of real kubectl exec traffic:
 * `kubewire decode FILE --summary --json` (the bundled executable, as `bin`
 * installs it) against `tshark -r FILE -T fields -e spdy.streamid`, both as
 * whole processes (start-up included), with CPU time, peak memory, and how
 * many of the sessions' stream bytes each gets right against the ground truth.
 *
 * The captures are made here, in a temporary folder (bulk-capture.ts):
 * kubectl 1.27 exec -i -- cat through `kubewire serve` with 48 MiB of
 * deterministic stdin echoed back (~101 MB), and with 100 MiB (~210 MB),
 * recorded by tcpdump; and ~1 GB: ten copies of the first, moved in time by
 * `editcap -t` and joined by `mergecap -a` (ten sessions one after another).
 * Then the breakdown of our time on the first: start-up, reading, parsing,
 * hashing (bench/decode-breakdown.mjs, each stage in a fresh process).
 * Skipped (with the reason printed) where kubectl, tcpdump, tshark, editcap,
 * mergecap or root are missing.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { findTool } from '../scripts/fixtures/capture.js';
import { bulkCaptureUnavailable, recordBulkCapture } from './bulk-capture.js';
import { result, type Bench, type BenchResult } from './harness.js';

const CLI = resolve(import.meta.dirname, '..', 'dist', 'bin', 'kubewire.js');
const UNBUNDLED_CLI = resolve(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const BREAKDOWN = resolve(import.meta.dirname, 'decode-breakdown.mjs');
const RUNS = 5;
const BIG_STDIN_BYTES = 100 * 1024 * 1024;
const COPIES_FOR_1GB = 10;

interface Timed {
  seconds: number;
  /** User + system CPU seconds (steadier than wall time on a busy machine). */
  cpuSeconds: number;
  maxRssMiB: number;
  stdout: string;
  code: number | null;
}

/** Run a whole process under /usr/bin/time for its peak RSS; wall time measured here. */
export function timed(cmd: string, args: string[], keepStdout: boolean): Promise<Timed> {
  return new Promise((resolveP, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'kubewire-bench-maxrss %M cpu %U %S', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      if (keepStdout) out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const m = /kubewire-bench-maxrss (\d+) cpu ([\d.]+) ([\d.]+)/.exec(err);
      resolveP({
        seconds,
        cpuSeconds: m ? Number(m[2]) + Number(m[3]) : NaN,
        maxRssMiB: m ? Number(m[1]) / 1024 : NaN,
        stdout: Buffer.concat(out).toString(),
        code,
      });
    });
  });
}

function best(all: Timed[]): Timed {
  const fastest = all.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  // Fastest time and least CPU; the highest peak memory of any run.
  return { ...fastest, cpuSeconds: Math.min(...all.map((t) => t.cpuSeconds)), maxRssMiB: Math.max(...all.map((t) => t.maxRssMiB)) };
}

/**
 * Both commands the same number of times, alternating, so that a burst of
 * load from elsewhere on the machine does not favour either.
 */
export async function bestOfAlternating(
  a: { cmd: string; args: string[]; keepStdout: boolean },
  b: { cmd: string; args: string[]; keepStdout: boolean },
  runs: number,
): Promise<[Timed, Timed]> {
  const ta: Timed[] = [];
  const tb: Timed[] = [];
  for (let i = 0; i < runs; i++) {
    ta.push(await timed(a.cmd, a.args, a.keepStdout));
    tb.push(await timed(b.cmd, b.args, b.keepStdout));
  }
  return [best(ta), best(tb)];
}

/** Length of the common prefix of the bytes a decoder gave for a stream and the truth. */
export function rightPrefix(got: Buffer, want: Buffer): number {
  const n = Math.min(got.length, want.length);
  const CHUNK = 65536;
  let i = 0;
  while (i < n) {
    const e = Math.min(i + CHUNK, n);
    if (got.subarray(i, e).equals(want.subarray(i, e))) {
      i = e;
      continue;
    }
    while (i < e && got[i] === want[i]) i++;
    return i;
  }
  return n;
}

/**
 * Per stream, the DATA payload bytes tshark's SPDY dissector reports, in
 * order. With -T fields every field lists its occurrences in the packet; the
 * frames are walked with control_bit and length (present for every frame),
 * type (control frames), streamid (data frames and control frames that carry
 * one) and data (DATA frames with a payload).
 */
export async function tsharkStreams(tshark: string, file: string, extraArgs: string[] = []): Promise<Map<number, Buffer>> {
  const WITH_STREAM = new Set([1, 2, 3, 8, 9]);
  const child = spawn(
    tshark,
    ['-r', file, ...extraArgs, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=;', '-e', 'spdy.control_bit', '-e', 'spdy.type', '-e', 'spdy.streamid', '-e', 'spdy.length', '-e', 'spdy.data'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const parts = new Map<number, Buffer[]>();
  const rl = createInterface({ input: child.stdout });
  const list = (s: string | undefined) => (s ? s.split(';') : []);
  for await (const line of rl) {
    if (!line) continue;
    const [cb, ty, sid, len, data] = line.split('\t');
    const control = list(cb);
    const types = list(ty);
    const ids = list(sid);
    const lengths = list(len);
    const datas = list(data);
    let t = 0;
    let s = 0;
    let d = 0;
    for (let f = 0; f < control.length; f++) {
      const isControl = control[f] === '1' || control[f] === 'True';
      if (isControl) {
        const type = Number(types[t++]);
        if (WITH_STREAM.has(type)) s++;
        continue;
      }
      const id = Number(ids[s++]);
      if (Number(lengths[f]) > 0) {
        const hex = datas[d++] ?? '';
        const arr = parts.get(id) ?? [];
        arr.push(Buffer.from(hex.replace(/:/g, ''), 'hex'));
        parts.set(id, arr);
      }
    }
  }
  return new Map([...parts].map(([id, p]) => [id, Buffer.concat(p)]));
}

/**
 * Bytes tshark's SPDY dissector gets right, per TCP connection and SPDY
 * stream, against `want` for the streams in `expect` (stream id → the bytes
 * it should carry, from its start): the length of the common prefix, summed.
 * Streams through tshark's output (a 1 GB capture's data is several GB of
 * hex), keeping only a position per stream.
 */
export async function tsharkRight(tshark: string, file: string, expect: ReadonlyMap<number, Buffer>): Promise<{ right: number; given: number }> {
  const WITH_STREAM = new Set([1, 2, 3, 8, 9]);
  const child = spawn(
    tshark,
    ['-r', file, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=;', '-e', 'tcp.stream', '-e', 'spdy.control_bit', '-e', 'spdy.type', '-e', 'spdy.streamid', '-e', 'spdy.length', '-e', 'spdy.data'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const state = new Map<string, { at: number; broken: boolean }>();
  let right = 0;
  let given = 0;
  const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
  const list = (x: string | undefined) => (x ? x.split(';') : []);
  for await (const line of rl) {
    if (!line) continue;
    const [conn, cb, ty, sid, len, data] = line.split('\t');
    const control = list(cb);
    if (control.length === 0) continue;
    const types = list(ty);
    const ids = list(sid);
    const lengths = list(len);
    const datas = list(data);
    let t = 0;
    let si = 0;
    let d = 0;
    for (let f = 0; f < control.length; f++) {
      if (control[f] === '1' || control[f] === 'True') {
        if (WITH_STREAM.has(Number(types[t++]))) si++;
        continue;
      }
      const id = Number(ids[si++]);
      if (Number(lengths[f]) <= 0) continue;
      const hex = datas[d++] ?? '';
      const w = expect.get(id);
      if (!w) continue;
      const piece = Buffer.from(hex.replace(/:/g, ''), 'hex');
      given += piece.length;
      const key = `${conn}/${id}`;
      const s = state.get(key) ?? { at: 0, broken: false };
      state.set(key, s);
      if (s.broken) continue;
      const ok = rightPrefix(piece, w.subarray(s.at, s.at + piece.length));
      right += ok;
      s.at += ok;
      if (ok < piece.length) s.broken = true;
    }
  }
  return { right, given };
}

interface Truth {
  /** What each session's stdin carried, echoed on its stdout. */
  data: Buffer;
  sessions: number;
}

interface DecodeDoc {
  sessions: Array<{ streams: Array<{ role: string; clientToServer: { bytes: number; sha256: string }; serverToClient: { bytes: number; sha256: string } }> }>;
}

/** Bytes of stdin (client → server) and stdout (server → client) whose session digests are the truth's. */
function oursRight(doc: DecodeDoc, want: string): number {
  let right = 0;
  for (const s of doc.sessions) {
    const stdin = s.streams.find((x) => x.role === 'stdin')?.clientToServer;
    const stdout = s.streams.find((x) => x.role === 'stdout')?.serverToClient;
    right += (stdin?.sha256 === want ? stdin.bytes : 0) + (stdout?.sha256 === want ? stdout.bytes : 0);
  }
  return right;
}

const load = () => loadavg()[0]!.toFixed(1);

async function compare(name: string, file: string, truth: Truth, tshark: string, runs: number, target: string): Promise<BenchResult> {
  const loadBefore = load();
  const [ours, peer] = await bestOfAlternating(
    { cmd: process.execPath, args: [CLI, 'decode', file, '--summary', '--json'], keepStdout: true },
    { cmd: tshark, args: ['-r', file, '-T', 'fields', '-e', 'spdy.streamid'], keepStdout: false },
    runs,
  );
  const loadAfter = load();
  const mb = statSync(file).size / 1e6;
  const wantSha = createHash('sha256').update(truth.data).digest('hex');
  const sessionBytes = truth.sessions * 2 * truth.data.length;
  const right = oursRight(JSON.parse(ours.stdout) as DecodeDoc, wantSha);
  // kubectl opens error, stdin, stdout, stderr in that order: stdin is stream 3, stdout stream 5.
  const ts = await tsharkRight(tshark, file, new Map([[3, truth.data], [5, truth.data]]));
  return result(`${name} (whole process)`, 'MB/s', mb / ours.seconds, mb / peer.seconds, {
    peerName: 'tshark -T fields -e spdy.streamid',
    target,
    notes:
      `ours ${ours.seconds.toFixed(2)} s (cpu ${ours.cpuSeconds.toFixed(2)} s) peak ${ours.maxRssMiB.toFixed(0)} MiB, right ${right}/${sessionBytes} B; ` +
      `tshark ${peer.seconds.toFixed(2)} s (cpu ${peer.cpuSeconds.toFixed(2)} s) peak ${peer.maxRssMiB.toFixed(0)} MiB, right ${ts.right}/${sessionBytes} B (${((100 * ts.right) / sessionBytes).toFixed(0)}%, gave ${ts.given} B); ` +
      `cpu ratio ${(peer.cpuSeconds / ours.cpuSeconds).toFixed(2)}x; best of ${runs} each, alternating; load ${loadBefore}→${loadAfter} on ${cpus().length} cores`,
  });
}

/** Ten copies of `file` one after another in time: editcap -t moves each, mergecap -a joins them. */
async function buildJoined(file: string, copies: number, out: string): Promise<void> {
  const editcap = findTool('editcap')!;
  const mergecap = findTool('mergecap')!;
  const parts: string[] = [];
  for (let i = 0; i < copies; i++) {
    const part = `${out}.${i}`;
    // Each copy an hour after the one before: its connections are new ones, later.
    await run(editcap, ['-t', String(i * 3600), file, part]);
    parts.push(part);
  }
  await run(mergecap, ['-a', '-F', 'pcap', '-w', out, ...parts]);
  for (const p of parts) rmSync(p, { force: true });
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolveP, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolveP() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

interface Stage {
  mode: string;
  importMs: number;
  importCpuMs: number;
  wallMs: number;
  threadCpuMs: number;
  processCpuMs: number;
}

async function stage(file: string, mode: string): Promise<Stage> {
  const t = await timed(process.execPath, [BREAKDOWN, file, mode], true);
  return JSON.parse(t.stdout) as Stage;
}

/** Each stage in a fresh process, alternating, `runs` times; the least of each figure. */
async function breakdown(file: string, runs: number): Promise<BenchResult[]> {
  const loadBefore = load();
  const modes = ['read', 'read-fresh', 'parse', 'inline', 'worker'];
  const all = new Map<string, Stage[]>(modes.map((m) => [m, []]));
  const empty = join(dirname(file), 'empty.pcap');
  // A pcap file header and no packets: what start-up costs.
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(1, 20);
  writeFileSync(empty, header);
  const starts: Record<'node' | 'bundled' | 'unbundled', Array<{ seconds: number; cpuSeconds: number }>> = { node: [], bundled: [], unbundled: [] };
  for (let i = 0; i < runs; i++) {
    for (const m of modes) all.get(m)!.push(await stage(file, m));
    starts.node.push(await timed(process.execPath, ['-e', '0'], false));
    starts.bundled.push(await timed(process.execPath, [CLI, 'decode', empty, '--summary', '--json'], false));
    starts.unbundled.push(await timed(process.execPath, [UNBUNDLED_CLI, 'decode', empty, '--summary', '--json'], false));
  }
  const loadAfter = load();
  const least = (m: string, k: keyof Omit<Stage, 'mode'>) => Math.min(...all.get(m)!.map((s) => s[k]));
  const ms = (xs: Array<{ seconds: number; cpuSeconds: number }>) =>
    `${(1000 * Math.min(...xs.map((x) => x.seconds))).toFixed(0)} ms (cpu ${(1000 * Math.min(...xs.map((x) => x.cpuSeconds))).toFixed(0)} ms)`;
  const mb = statSync(file).size / 1e6;
  const row = (what: string, value: number, notes: string) =>
    result(`decode ${mb.toFixed(0)} MB breakdown: ${what}`, 'ms', value, null, { notes: `${notes}; least of ${runs} fresh processes each; load ${loadBefore}→${loadAfter} on ${cpus().length} cores` });
  const parse = least('parse', 'threadCpuMs');
  const inline = least('inline', 'threadCpuMs');
  return [
    row('start-up (node, imports, an empty capture)', 1000 * Math.min(...starts.bundled.map((x) => x.seconds)), `bundled ${ms(starts.bundled)}; unbundled dist/cli ${ms(starts.unbundled)}; node -e 0 ${ms(starts.node)}`),
    row('read (1 MiB reads into recycled buffers)', least('read', 'wallMs'), `this thread cpu ${least('read', 'threadCpuMs').toFixed(0)} ms, process cpu ${least('read', 'processCpuMs').toFixed(0)} ms; a fresh buffer per read (as before): wall ${least('read-fresh', 'wallMs').toFixed(0)} ms, process cpu ${least('read-fresh', 'processCpuMs').toFixed(0)} ms (the reads and their page faults run on libuv's pool)`),
    row('parse (capture → TCP → SPDY → timeline, no digests)', least('parse', 'wallMs'), `this thread cpu ${parse.toFixed(0)} ms, process cpu ${least('parse', 'processCpuMs').toFixed(0)} ms, reading included`),
    row('hash (sha256 of the stream bytes, inline)', inline - parse, `this thread cpu with digests ${inline.toFixed(0)} ms - without ${parse.toFixed(0)} ms; wall with inline digests ${least('inline', 'wallMs').toFixed(0)} ms`),
    row('parse + hash on the worker thread (the CLI, given a spare core)', least('worker', 'wallMs'), `this thread cpu ${least('worker', 'threadCpuMs').toFixed(0)} ms (copies into the ring, waits), process cpu ${least('worker', 'processCpuMs').toFixed(0)} ms`),
  ];
}

const bench: Bench = {
  group: 'decode',
  async run(): Promise<BenchResult[]> {
    const tshark = findTool('tshark');
    const why =
      bulkCaptureUnavailable() ??
      (tshark ? null : 'tshark not installed') ??
      (findTool('editcap') && findTool('mergecap') ? null : 'editcap or mergecap not installed') ??
      (statSync(CLI, { throwIfNoEntry: false }) ? null : 'dist/bin/kubewire.js not built (npm run build)');
    if (why) {
      console.warn(`decode bench skipped: ${why}`);
      return [];
    }
    const work = mkdtempSync(join(tmpdir(), 'kubewire-decode-bench-'));
    try {
      const out: BenchResult[] = [];
      const file = join(work, 'exec-cat.pcap');
      const data = await recordBulkCapture(file);
      out.push(await compare(`decode ${(statSync(file).size / 1e6).toFixed(0)} MB kubectl exec capture`, file, { data, sessions: 1 }, tshark!, RUNS, '>= 3x, every byte right, < 150 MB'));

      const big = join(work, 'exec-cat-big.pcap');
      const bigData = await recordBulkCapture(big, BIG_STDIN_BYTES);
      out.push(await compare(`decode ${(statSync(big).size / 1e6).toFixed(0)} MB kubectl exec capture`, big, { data: bigData, sessions: 1 }, tshark!, 3, '>= 3x, every byte right, < 150 MB'));
      rmSync(big, { force: true });

      const joined = join(work, 'exec-cat-1g.pcap');
      await buildJoined(file, COPIES_FOR_1GB, joined);
      out.push(await compare(`decode ${(statSync(joined).size / 1e6).toFixed(0)} MB capture (${COPIES_FOR_1GB} sessions, editcap -t + mergecap -a)`, joined, { data, sessions: COPIES_FOR_1GB }, tshark!, 3, '>= 4x, every byte right, < 150 MB'));
      rmSync(joined, { force: true });

      out.push(...(await breakdown(file, RUNS)));
      return out;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
};

export default bench;
