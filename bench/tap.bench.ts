/**
 * Tap throughput, both directions of an exec: uploads (stdin) and downloads
 * (stdout, as `kubectl exec … -- tar c` or `kubectl cp` from a pod).
 *
 * 1. A synthetic WebSocket exec (v5.channel.k8s.io, 32 KiB frames, masked
 *    from the client as a client must) sent directly over loopback and
 *    through the tap: forwarding only, decoding for the timeline (`--ndjson`,
 *    `--follow`: frame events, no digests) and decoding with digests
 *    (`--summary`/`--json`: a sha256 of every stream and direction). The two
 *    ends run in a child process, so this process holds only the tap and its
 *    decoder: its CPU time and memory are the tap's.
 * 2. Real `kubectl exec` against `kubewire serve` (a child process) through
 *    the tap decoding for the timeline and through `kubectl proxy`, the tool
 *    a user would put in between otherwise.
 *
 * Each row is the median of paired rounds (ours and the peer alternately);
 * CPU seconds per GiB are printed too: on a shared machine they vary far
 * less than wall-clock throughput.
 *
 * `KUBEWIRE_TAP_BENCH_MIB` sets the bytes per synthetic run (default 1024),
 * `KUBEWIRE_TAP_BENCH_KUBECTL_MIB` per kubectl run (default 256),
 * `KUBEWIRE_TAP_BENCH_ROUNDS` the rounds (default 3), and
 * `KUBEWIRE_TAP_BENCH_ONLY=synthetic|kubectl` one part, and
 * `KUBEWIRE_TAP_BENCH_CASES` (a regular expression) only the synthetic rows
 * whose name matches (e.g. `up.*timeline`, for a profile of one case).
 *
 * Decoding runs on a worker thread, as `kubewire tap` runs it on a machine
 * with two cores (the forwarding thread copies each read into a bounded
 * ring, see `RingQueue`), or with `KUBEWIRE_TAP_BENCH_WORKER=0` on the
 * forwarding thread in bounded slices (see `DecodeQueue`). Either way, when
 * it cannot keep up, bytes are forwarded but not decoded, so the notes give
 * the share actually decoded next to the speed. CPU time is the whole
 * process's (both threads).
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { result, type Bench, type BenchResult } from './harness.js';
import { startTap, type Tap } from '../src/tap/index.js';
import { SessionDecoder } from '../src/timeline/index.js';

const MiB = 1024 * 1024;
const TOTAL_MIB = Number(process.env.KUBEWIRE_TAP_BENCH_MIB ?? 1024);
const KUBECTL_MIB = Number(process.env.KUBEWIRE_TAP_BENCH_KUBECTL_MIB ?? 256);
const here = dirname(fileURLToPath(import.meta.url));
const ON_WORKER = process.env.KUBEWIRE_TAP_BENCH_WORKER !== '0';

/** bench/tap-decode-worker.ts, through tsx's API (a worker's entry does not get `--import tsx` hooks on Node 20). */
async function startDecodeWorker(options: object): Promise<Worker> {
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const file = pathToFileURL(join(here, 'tap-decode-worker.ts')).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => m.tsImport(${JSON.stringify(file)}, ${JSON.stringify(import.meta.url)}))`;
  const worker = new Worker(boot, { eval: true, workerData: options });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  return worker;
}

/**
 * The two ends, in plain JavaScript for a child process: a server that
 * answers the WebSocket upgrade, and clients that upgrade; the sending side
 * writes prebuilt frames with backpressure, the other counts them.
 */
const ENDS = String.raw`
const net = require('node:net');
const crypto = require('node:crypto');
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const PAYLOAD = 32768;
const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
function maskedFrame(opcode, payload) {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len])
    : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 255]);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i] ^ MASK[i & 3];
  return Buffer.concat([head, MASK, body]);
}
const data = crypto.randomBytes(PAYLOAD);
data[0] = 0; // channel 0: stdin
const FRAME = maskedFrame(2, data);
// Downloads: unmasked server frames on channel 1 (stdout).
const out = Buffer.from(data);
out[0] = 1;
const OUT_FRAME = Buffer.concat([Buffer.from([0x82, 126, PAYLOAD >> 8, PAYLOAD & 255]), out]);
const OUT_BATCH = Buffer.concat(Array(8).fill(OUT_FRAME));
const SERVER_CLOSE = Buffer.from([0x88, 0x02, 0x03, 0xe8]);
const CLOSE = maskedFrame(8, Buffer.from([0x03, 0xe8]));
// Send frames in batches so the sender is not the bottleneck.
const BATCH = Buffer.concat(Array(8).fill(FRAME));
const REQUEST = 'GET /api/v1/namespaces/default/pods/bench/exec?command=cat&stdin=true&stdout=true HTTP/1.1\r\n' +
  'Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
  'Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n';

let expected = 0, done = 0, streams = 0, t0 = 0, cpu0, download = false, frames = 0;
function finished() {
  if (++done === streams) {
    const cpu = process.cpuUsage(cpu0);
    process.send({ elapsedMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 });
  }
}
// Write count frames from batch (8 frames each), then last, with backpressure.
function sendFrames(s, count, frame, batch, last) {
  let left = count;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, 8);
      left -= n;
      const ok = s.write(n === 8 ? batch : batch.subarray(0, n * frame.length));
      if (!ok) return void s.once('drain', pump);
    }
    s.end(last);
  };
  pump();
}
const server = net.createServer((s) => {
  let head = Buffer.alloc(0), upgraded = false, got = 0;
  s.on('data', (d) => {
    if (!upgraded) {
      head = Buffer.concat([head, d]);
      const i = head.indexOf('\r\n\r\n');
      if (i < 0) return;
      const key = /sec-websocket-key: *(\S+)/i.exec(head.subarray(0, i).toString())[1];
      const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
      s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: ' + accept + '\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n');
      upgraded = true;
      got = head.length - i - 4;
      if (download) return sendFrames(s, frames, OUT_FRAME, OUT_BATCH, SERVER_CLOSE);
    } else got += d.length;
    if (!download && got === expected) {
      s.end(SERVER_CLOSE);
      finished();
    }
  });
  s.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));

function client(port) {
  const s = net.connect({ port, host: '127.0.0.1' });
  s.on('error', (e) => process.send({ error: String(e) }));
  s.write(REQUEST);
  let upgraded = false, head = Buffer.alloc(0), got = 0;
  s.on('data', (d) => {
    if (upgraded) {
      got += d.length;
      if (download && got === expected) {
        s.end(CLOSE);
        finished();
      }
      return;
    }
    head = Buffer.concat([head, d]);
    const i = head.indexOf('\r\n\r\n');
    if (i < 0) return;
    upgraded = true;
    got = head.length - i - 4;
    if (!download) sendFrames(s, frames, FRAME, BATCH, CLOSE);
  });
}

// Never outlive the benchmark, however it ends.
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  if (m.exit) return process.exit(0);
  frames = Math.ceil(m.bytesPerStream / PAYLOAD);
  download = m.download;
  expected = download ? frames * OUT_FRAME.length + SERVER_CLOSE.length : frames * FRAME.length + CLOSE.length;
  streams = m.streams; done = 0;
  t0 = performance.now();
  cpu0 = process.cpuUsage();
  for (let i = 0; i < m.streams; i++) client(m.port);
});
`;

interface Ends {
  child: ChildProcess;
  port: number;
  /** Wall time and the ends' own CPU time, in ms. */
  run(port: number, streams: number, bytesPerStream: number, direction: Direction): Promise<{ elapsedMs: number; cpuMs: number }>;
  stop(): void;
}

/** Upload: stdin frames from the client; download: stdout frames from the server. */
type Direction = 'upload' | 'download';

async function startEnds(): Promise<Ends> {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-bench-'));
  const file = join(dir, 'ends.cjs');
  writeFileSync(file, ENDS);
  const child = fork(file, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  rmSync(dir, { recursive: true, force: true });
  return {
    child,
    port,
    run: (target, streams, bytesPerStream, direction) =>
      new Promise((resolve, reject) => {
        child.once('message', (m: { elapsedMs: number; cpuMs: number; error?: string }) =>
          m.error ? reject(new Error(m.error)) : resolve(m),
        );
        child.send({ port: target, streams, bytesPerStream, download: direction === 'download' });
      }),
    stop: () => {
      child.send({ exit: true });
    },
  };
}

/** One transfer: throughput, and CPU seconds per GiB of the intermediary (tap or peer) and of the ends. */
interface Run {
  mbps: number;
  cpuPerGiB: number;
  endsCpuPerGiB: number;
  rssPeakMiB: number;
  /** Share of the bytes decoded (1 without decoding). */
  decoded: number;
  decodedEvents: number;
  diagnostics: number;
}

/**
 * How the tap decodes: not at all (forwarding only), as for the timeline
 * (frame events, no digests) or as for `--summary` (sha256 of every stream
 * and direction, no frame events).
 */
type DecodeMode = 'forward' | 'timeline' | 'summary';

/** A tap in this process, decoding as `mode`, in front of `upstreamPort`; `transfer` runs through it and returns its wall time and the ends' CPU time. */
async function throughTap(
  upstreamPort: number,
  bytes: number,
  mode: DecodeMode,
  transfer: (port: number) => Promise<{ elapsedMs: number; endsCpuMs: number }>,
): Promise<Run> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  // As `kubewire tap` decodes: the decoder owns the tap's copies.
  const options = { frameEvents: mode === 'timeline', digests: mode === 'summary' };
  const decoder = new SessionDecoder({ ...options, ownsInput: true });
  const worker = mode !== 'forward' && ON_WORKER ? await startDecodeWorker(options) : undefined;
  let decodedEvents = 0;
  let diagnostics = 0;
  const tap: Tap = await startTap({
    upstream: { protocol: 'http', host: '127.0.0.1', port: upstreamPort },
    consumerOwnsBytes: true,
    worker: worker && { worker },
    consumer:
      mode === 'forward' || worker
        ? undefined
        : (ev) => {
            decodedEvents += decoder.push(ev).length;
          },
  });
  let rssPeak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 50);
  const cpu0 = process.cpuUsage();
  const { elapsedMs, endsCpuMs } = await transfer(tap.address.port);
  clearInterval(sampler);
  await tap.close(2000);
  if (worker) {
    const done = new Promise<{ events: number; diagnostics: number }>((resolve) => worker.on('message', (m) => 'events' in m && resolve(m)));
    worker.postMessage({ finish: true });
    ({ events: decodedEvents, diagnostics } = await done);
  } else if (mode !== 'forward') {
    decodedEvents += decoder.finish().length;
    diagnostics = decoder.diagnosticCount;
  }
  const cpu = process.cpuUsage(cpu0);
  void worker?.terminate();
  const gib = bytes / (1024 * MiB);
  const stats = tap.stats();
  const forwarded = stats.bytesClientToServer + stats.bytesServerToClient;
  return {
    mbps: bytes / MiB / (elapsedMs / 1000),
    cpuPerGiB: (cpu.user + cpu.system) / 1e6 / gib,
    endsCpuPerGiB: endsCpuMs / 1000 / gib,
    rssPeakMiB: rssPeak / MiB,
    decoded: mode === 'forward' ? 1 : 1 - stats.queue.droppedBytes / forwarded,
    decodedEvents,
    diagnostics,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Rounds of peer and ours in alternating order; each round's ratio, and the runs. */
async function paired(rounds: number, ours: () => Promise<Run>, peer: () => Promise<Run>): Promise<{ ours: Run[]; peer: Run[]; ratios: number[] }> {
  const o: Run[] = [];
  const p: Run[] = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      p.push(await peer());
      o.push(await ours());
    } else {
      o.push(await ours());
      p.push(await peer());
    }
  }
  return { ours: o, peer: p, ratios: o.map((r, i) => r.mbps / p[i]!.mbps) };
}

function load(): string {
  return loadavg()[0]!.toFixed(1);
}

/** The row for paired rounds: medians, the per-round ratio range, CPU per GiB and the load. */
function row(
  name: string,
  peerName: string,
  target: string,
  runs: { ours: Run[]; peer: Run[]; ratios: number[] },
  loads: [string, string],
  extra = '',
): BenchResult {
  const m = (xs: Run[], f: (r: Run) => number) => median(xs.map(f));
  // the round that decoded least, and its events and diagnostics (they go together: a gap is named where bytes were dropped)
  const worst = runs.ours.reduce((a, r) => (r.decoded < a.decoded ? r : a));
  const decoded = worst.decoded;
  const ratios = runs.ratios;
  return result(name, 'MiB/s', m(runs.ours, (r) => r.mbps), m(runs.peer, (r) => r.mbps), {
    peerName,
    target,
    ratio: median(ratios),
    notes:
      `median of ${ratios.length} paired rounds, per-round ratio ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}x; ` +
      `CPU s/GiB: tap ${m(runs.ours, (r) => r.cpuPerGiB).toFixed(2)}, ${extra}` +
      `ends ${m(runs.ours, (r) => r.endsCpuPerGiB).toFixed(2)} (through the tap) / ${m(runs.peer, (r) => r.endsCpuPerGiB).toFixed(2)} (${peerName}); ` +
      `tap rss peak ${Math.max(...runs.ours.map((r) => r.rssPeakMiB)).toFixed(0)} MiB; ` +
      (worst.decodedEvents > 0 ? `decoded ${(100 * decoded).toFixed(1)}% at worst, that round ${worst.decodedEvents} events, ${worst.diagnostics} diagnostics; ` : '') +
      `load ${loads[0]}→${loads[1]} on ${cpus().length} cores`,
  });
}

/**
 * The synthetic WebSocket exec: the tap against a direct loopback
 * connection between the same two ends.
 */
async function syntheticRows(rounds: number): Promise<BenchResult[]> {
  const bytes = TOTAL_MIB * MiB;
  const gib = bytes / (1024 * MiB);
  const ends = await startEnds();
  const out: BenchResult[] = [];
  try {
    const viaTap = (streams: number, direction: Direction, mode: DecodeMode, size = bytes) => () =>
      throughTap(ends.port, size, mode, async (port) => {
        const r = await ends.run(port, streams, size / streams, direction);
        return { elapsedMs: r.elapsedMs, endsCpuMs: r.cpuMs };
      });
    const direct = (streams: number, direction: Direction) => async (): Promise<Run> => {
      const r = await ends.run(ends.port, streams, bytes / streams, direction);
      return { mbps: bytes / MiB / (r.elapsedMs / 1000), cpuPerGiB: 0, endsCpuPerGiB: r.cpuMs / 1000 / gib, rssPeakMiB: 0, decoded: 1, decodedEvents: 0, diagnostics: 0 };
    };
    // Warm up both paths (JIT, socket buffers) with small transfers.
    for (const mode of ['forward', 'timeline', 'summary'] as const) {
      await viaTap(1, 'upload', mode, 32 * MiB)();
      await viaTap(1, 'download', mode, 32 * MiB)();
    }
    const cases: Array<[Direction, number, DecodeMode, string]> = [
      ['upload', 1, 'forward', '>= 0.80x'],
      ['download', 1, 'forward', '>= 0.80x'],
      ['upload', 1, 'timeline', '>= 0.70x'],
      ['download', 1, 'timeline', '>= 0.70x'],
      ['upload', 16, 'timeline', '>= 0.70x'],
      ['upload', 1, 'summary', '>= 0.50x'],
      ['download', 1, 'summary', '>= 0.50x'],
      ['upload', 16, 'summary', '>= 0.50x'],
    ];
    const only = process.env.KUBEWIRE_TAP_BENCH_CASES ? new RegExp(process.env.KUBEWIRE_TAP_BENCH_CASES) : null;
    for (const [direction, streams, mode, target] of cases) {
      const how = { forward: 'forwarding only', timeline: 'decoding for the timeline', summary: 'decoding with digests (--summary)' }[mode];
      const what = `${streams === 1 ? 'one stream' : `${streams} streams`} ${direction === 'upload' ? 'up (stdin)' : 'down (stdout)'}`;
      const name = `tap ${what} ${TOTAL_MIB} MiB, ${how}`;
      if (only && !only.test(name)) continue;
      const before = load();
      const runs = await paired(rounds, viaTap(streams, direction, mode), direct(streams, direction));
      out.push(row(name, 'direct loopback', target, runs, [before, load()]));
    }
  } finally {
    ends.stop();
  }
  return out;
}

/** `kubectl` on PATH (client-go's WebSocket exec since 1.31), or null. */
function kubectlPath(): string | null {
  try {
    return execFileSync('which', ['kubectl'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

function kubeconfigFor(dir: string, name: string, server: string): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${server}\nusers:\n- name: u\n  user: {}\n` +
      `contexts:\n- name: x\n  context: {cluster: c, user: u, namespace: default}\ncurrent-context: x\n`,
  );
  return path;
}

/** A child process started with `args`, resolved once `pattern` shows on its output with the match. */
function startChild(cmd: string, args: string[], pattern: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let text = '';
    const look = (d: Buffer) => {
      if (text.length > 65536) return;
      text += d.toString();
      const m = pattern.exec(text);
      if (m) resolve({ child, match: m });
    };
    // Keep draining: a full pipe would stall the child.
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.once('exit', (code) => reject(new Error(`${cmd} exited (${code}) before it was ready: ${text.slice(0, 500)}`)));
  });
}

/** User plus system CPU seconds of a running process (all its threads). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** One kubectl exec moving `bytes` up (stdin) or down (stdout) through `kubeconfig`, checked by count; wall ms. */
async function kubectlExec(kubectl: string, kubeconfig: string, direction: Direction, bytes: number): Promise<number> {
  const script =
    direction === 'upload'
      ? `head -c ${bytes} /dev/zero | "$0" --kubeconfig "$1" exec -i web -- wc -c`
      : `"$0" --kubeconfig "$1" exec web -- head -c ${bytes} /dev/zero | wc -c`;
  const t0 = performance.now();
  const child = spawn('sh', ['-c', script, kubectl, kubeconfig], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const ms = performance.now() - t0;
  if (code !== 0 || Number(stdout.trim()) !== bytes) {
    throw new Error(`kubectl exec ${direction} failed (exit ${code}, counted ${stdout.trim()}): ${stderr.slice(0, 500)}`);
  }
  return ms;
}

/**
 * Real kubectl exec against `kubewire serve` (a child process), through the
 * tap decoding for the timeline and through `kubectl proxy`, the tool a user
 * would otherwise put in between. `kubectl proxy` rejects exec, attach and
 * port-forward paths by default (`Forbidden` on the upgrade); `--reject-paths='^$'`
 * rejects only the empty path, so exec passes over WebSocket and SPDY alike.
 */
async function kubectlRows(rounds: number): Promise<BenchResult[]> {
  const kubectl = kubectlPath();
  if (!kubectl) return [];
  const bytes = KUBECTL_MIB * MiB;
  const gib = bytes / (1024 * MiB);
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-bench-'));
  const children: ChildProcess[] = [];
  const out: BenchResult[] = [];
  try {
    const serve = await startChild(
      process.execPath,
      ['--import', 'tsx', join(here, '../src/cli/main.ts'), 'serve', '--listen', '127.0.0.1:0'],
      /listening on http:\/\/127\.0\.0\.1:(\d+)/,
    );
    children.push(serve.child);
    const servePort = Number(serve.match[1]);
    const direct = kubeconfigFor(dir, 'direct', `http://127.0.0.1:${servePort}`);
    const proxy = await startChild(kubectl, ['--kubeconfig', direct, 'proxy', '--port=0', "--reject-paths=^$"], /Starting to serve on 127\.0\.0\.1:(\d+)/);
    children.push(proxy.child);
    const viaProxy = kubeconfigFor(dir, 'proxy', `http://127.0.0.1:${proxy.match[1]}`);
    const proxyRun = (direction: Direction) => async (): Promise<Run> => {
      const cpu0 = processCpuSeconds(proxy.child.pid!);
      const ms = await kubectlExec(kubectl, viaProxy, direction, bytes);
      return {
        mbps: bytes / MiB / (ms / 1000),
        cpuPerGiB: (processCpuSeconds(proxy.child.pid!) - cpu0) / gib,
        endsCpuPerGiB: 0,
        rssPeakMiB: 0,
        decoded: 1,
        decodedEvents: 0,
        diagnostics: 0,
      };
    };
    const tapRun = (direction: Direction) => () =>
      throughTap(servePort, bytes, 'timeline', async (port) => {
        const ms = await kubectlExec(kubectl, kubeconfigFor(dir, 'tap', `http://127.0.0.1:${port}`), direction, bytes);
        return { elapsedMs: ms, endsCpuMs: 0 };
      });
    // Warm-up: kubectl's first run, serve's JIT.
    await kubectlExec(kubectl, direct, 'upload', 16 * MiB);
    await proxyRun('download')();
    await tapRun('download')();
    for (const direction of ['upload', 'download'] as const) {
      const before = load();
      const directMs: number[] = [];
      for (let i = 0; i < rounds; i++) directMs.push(await kubectlExec(kubectl, direct, direction, bytes));
      const runs = await paired(rounds, tapRun(direction), proxyRun(direction));
      const what = direction === 'upload' ? 'up (stdin, exec -i … -- wc -c)' : 'down (stdout, exec … -- head -c)';
      const r = row(`tap vs kubectl proxy: kubectl exec ${what} ${KUBECTL_MIB} MiB, decoding for the timeline`, 'kubectl proxy', '>= 1.00x', runs, [
        before,
        load(),
      ]);
      const proxyCpu = median(runs.peer.map((p) => p.cpuPerGiB));
      r.notes =
        `kubectl proxy CPU s/GiB ${proxyCpu.toFixed(2)}; kubectl straight to serve ${(bytes / MiB / (median(directMs) / 1000)).toFixed(0)} MiB/s; ` +
        r.notes!.replace(/ends [^;]*; /, '');
      out.push(r);
    }
  } finally {
    for (const c of children) c.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

const bench: Bench = {
  group: 'tap',
  async run(): Promise<BenchResult[]> {
    const rounds = Number(process.env.KUBEWIRE_TAP_BENCH_ROUNDS ?? 3);
    const only = process.env.KUBEWIRE_TAP_BENCH_ONLY;
    const out: BenchResult[] = [];
    if (only !== 'kubectl') out.push(...(await syntheticRows(rounds)));
    if (only !== 'synthetic') out.push(...(await kubectlRows(rounds)));
    return out;
  },
};

export default bench;
