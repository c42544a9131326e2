/**
 * Multiplexer throughput: one client uploads TOTAL bytes in 64 KiB writes on
 * 1 stream or spread over 16 concurrent streams; the server counts what its
 * streams deliver.
 *
 * - Loopback TCP (Nagle off on both ends): the sending and the receiving end
 *   run in two child processes, as a real client and server would, so each
 *   side's CPU time is its own and the two can use both cores. Ours against
 *   spdy-transport (SPDY/3.1 with `autoSpdy31`; with its default windows and
 *   frame size, and, for 1 stream, also with ours) and against a raw Node
 *   socket moving the same bytes with the same write size and the same
 *   consumer (a 'data' listener that counts): the ceiling.
 * - Loopback TCP with both ends in one process (one thread does both
 *   sides' work, so the figure is bound by their summed cost; the CPU figure
 *   is both ends together): ours, raw socket, spdy-transport, 1 stream.
 * - In memory (a Duplex pair, no sockets): both ends in one process; the
 *   CPU figure is both ends together.
 *
 * Every implementation runs in child processes of its own (a sender and a
 * receiver for loopback, one for loopback in one process, one in memory). Zero-copy on both sides makes ours a
 *   matter of milliseconds per round here, so its MB/s swings widely.
 *
 * Each configuration warms up with two runs of at least 256 MiB, then runs
 * ROUNDS interleaved rounds (ours, raw, peer, ours, …); medians count. No forced
 * GC between rounds: a full collection throws away optimised code that
 * referred to the objects it frees, and each round would then pay for
 * compiling it again. Wall-clock throughput on a shared machine swings with
 * whatever else runs, so CPU seconds per GiB of each side are printed beside
 * it, with the load average at the time, and each ratio also round by round:
 * when the load is above the core count, trust the CPU figures and the
 * per-round ratios more than the absolute MB/s.
 *
 * KUBEWIRE_BENCH_MUX_MIB sets TOTAL in MiB (default 256);
 * KUBEWIRE_BENCH_MUX_ROUNDS the rounds (default 5); KUBEWIRE_BENCH_MUX_ONLY
 * a comma-separated subset of configurations to run (l1, raw, rawb, lt1,
 * lw1, l16, lt16, p1, praw, pt1, m1, t1, m16, t16), printed as a table of its own;
 * KUBEWIRE_BENCH_MUX_VERBOSE prints every round;
 * KUBEWIRE_BENCH_MUX_CHILD_ARGS adds node flags to the two ends (e.g.
 * `--cpu-prof --cpu-prof-dir=DIR` to profile both).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { Writable, type Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { memoryPair, SpdySession, type SpdySessionOptions, type SpdyStream } from '../src/spdy/session/index.js';
import { result, type Bench, type BenchResult } from './harness.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const TOTAL = Number(process.env.KUBEWIRE_BENCH_MUX_MIB ?? 256) * MIB;
const ROUNDS = Math.max(1, Number(process.env.KUBEWIRE_BENCH_MUX_ROUNDS ?? 5));
const WRITE = 64 * 1024;
const CHUNK = randomBytes(WRITE);
const END_ENV = 'KUBEWIRE_BENCH_MUX_END';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const spdyTransport = require('spdy-transport') as {
  connection: { create(socket: Duplex, opts: Record<string, unknown>): TransportConnection };
};
interface TransportStream extends Duplex {
  respond(status: number, headers: Record<string, string>): void;
}
interface TransportConnection extends NodeJS.EventEmitter {
  start(version: number): void;
  request(uri: Record<string, unknown>, cb: (err: Error | null, s: TransportStream) => void): void;
}

const OURS: SpdySessionOptions = { initialWindow: 16 * MIB, sessionWindow: 64 * MIB };

/**
 * `raw-batched`: the raw socket written as our session writes it (each 64 KiB
 * as an 8-byte piece and the rest, chunks that queue up corked into one
 * writev, writers held back only past 512 KiB queued): what the same
 * coalescing gives a plain socket, so not a multiplexer's cost.
 * `spdy-transport` runs with its defaults (1 MiB windows, 8 KiB DATA frames),
 * as the figures were taken; `spdy-transport-tuned` with our windows
 * and our frame size, the fairest setting of the peer.
 */
type Impl = 'ours' | 'raw' | 'raw-batched' | 'spdy-transport' | 'spdy-transport-tuned';
const TUNED = { windowSize: OURS.initialWindow, maxChunk: 64 * 1024 };

async function pump(w: Writable, bytes: number): Promise<void> {
  let sent = 0;
  while (sent < bytes) {
    const n = Math.min(WRITE, bytes - sent);
    sent += n;
    if (!w.write(n === WRITE ? CHUNK : CHUNK.subarray(0, n))) await once(w, 'drain');
  }
}

function counter(total: number): { add(n: number): void; done: Promise<void> } {
  let got = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  return {
    add(n) {
      got += n;
      if (got >= total) resolve();
    },
    done,
  };
}

/** The receiving end of one transfer: count what the streams deliver. */
function receiver(impl: Impl, sock: Duplex, add: (n: number) => void): () => void {
  if (impl === 'raw' || impl === 'raw-batched') {
    sock.on('data', (d: Buffer) => add(d.length));
    return () => sock.destroy();
  }
  if (impl === 'ours') {
    const server = SpdySession.server(sock, OURS);
    server.on('stream', (s: SpdyStream) => {
      s.on('data', (d: Buffer) => add(d.length));
      s.on('end', () => s.end());
    });
    server.on('error', () => {});
    return () => server.destroy();
  }
  const tuned = impl === 'spdy-transport-tuned' ? TUNED : {};
  const server = spdyTransport.connection.create(sock, { protocol: 'spdy', isServer: true, autoSpdy31: true, ...tuned });
  server.start(3.1);
  server.on('error', () => {});
  server.on('stream', (s: TransportStream) => {
    s.on('error', () => {});
    s.respond(200, {});
    s.on('data', (d: Buffer) => add(d.length));
    s.on('end', () => s.end());
  });
  return () => sock.destroy();
}

/** The sending end: returns `start(streams, total)`, which resolves once every byte is written. */
function sender(impl: Impl, sock: Duplex): { start(streams: number, total: number): Promise<void>; close(): void } {
  if (impl === 'raw') return { start: (_n, total) => pump(sock, total), close: () => sock.destroy() };
  if (impl === 'raw-batched') {
    const head = CHUNK.subarray(0, 8);
    const rest = CHUNK.subarray(8);
    const done = (cb: () => void) => (sock.writableLength > 512 * 1024 ? sock.once('drain', cb) : queueMicrotask(cb));
    const w = new Writable({
      highWaterMark: 256 * 1024,
      write(_chunk, _enc, cb) {
        sock.cork();
        sock.write(head);
        sock.write(rest);
        sock.uncork();
        done(cb);
      },
      writev(chunks, cb) {
        sock.cork();
        for (let i = 0; i < chunks.length; i++) {
          sock.write(head);
          sock.write(rest);
        }
        sock.uncork();
        done(cb);
      },
    });
    return { start: (_n, total) => pump(w, total), close: () => sock.destroy() };
  }
  if (impl === 'ours') {
    const client = SpdySession.client(sock, OURS);
    client.on('error', () => {});
    return {
      start: async (n, total) => {
        await Promise.all(
          Array.from({ length: n }, async () => {
            const st = client.request([]);
            st.resume();
            await pump(st, total / n);
            st.end();
          }),
        );
      },
      close: () => client.destroy(),
    };
  }
  const tuned = impl === 'spdy-transport-tuned' ? TUNED : {};
  const client = spdyTransport.connection.create(sock, { protocol: 'spdy', isServer: false, ...tuned });
  client.start(3.1);
  client.on('error', () => {});
  return {
    start: async (n, total) => {
      await Promise.all(
        Array.from({ length: n }, async () => {
          const st = await new Promise<TransportStream>((resolve, reject) =>
            client.request({ method: 'POST', path: '/', host: 'localhost', headers: {} }, (err, s) =>
              err ? reject(err) : resolve(s),
            ),
          );
          st.on('error', () => {});
          st.resume();
          await pump(st, total / n);
          st.end();
        }),
      );
    },
    close: () => sock.destroy(),
  };
}

// ---------------------------------------------------------------- child process (one end of a loopback transfer)

type ToChild =
  | { op: 'listen'; impl: Impl }
  | { op: 'connect'; impl: Impl; port: number }
  | { op: 'go'; impl: Impl; streams: number; total: number }
  | { op: 'stop'; impl: Impl }
  | { op: 'close'; impl: Impl }
  | { op: 'local'; where: 'loopback' | 'memory'; impl: Impl; streams: number; total: number };
type FromChild =
  | { op: 'sample'; sample: Sample }
  | { op: 'port'; port: number }
  | { op: 'ready' }
  | { op: 'done'; userUs: number; systemUs: number }
  | { op: 'error'; message: string };

/**
 * One end of the loopback transfers, in a child process. Each implementation
 * keeps one connection for all its rounds (a session carries many streams in
 * its life; a fresh process and connection per round would mostly measure
 * the JIT warming up); every round opens new streams on it.
 */
function childMain(): void {
  const send = (m: FromChild) => process.send!(m);
  const ends = new Map<
    Impl,
    {
      close(): void;
      start?: (streams: number, total: number) => Promise<void>;
      got: number;
      target: number;
      cpu0?: NodeJS.CpuUsage;
    }
  >();
  const cpuDone = (cpu0: NodeJS.CpuUsage | undefined) => {
    const c = process.cpuUsage(cpu0);
    send({ op: 'done', userUs: c.user, systemUs: c.system });
  };
  let same: SameProcess | undefined;
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: ToChild) => {
    switch (m.op) {
      case 'listen': {
        const srv = net.createServer((sock) => {
          srv.close();
          sock.setNoDelay(true);
          const end = { close: () => {}, got: 0, target: Infinity, cpu0: undefined as NodeJS.CpuUsage | undefined };
          end.close = receiver(m.impl, sock, (n) => {
            end.got += n;
            if (end.got >= end.target) {
              if (end.got !== end.target) send({ op: 'error', message: `received ${end.got} bytes, not ${end.target}` });
              end.target = Infinity;
              cpuDone(end.cpu0);
            }
          });
          ends.set(m.impl, end);
          send({ op: 'ready' });
        });
        srv.listen(0, '127.0.0.1', () => send({ op: 'port', port: (srv.address() as net.AddressInfo).port }));
        return;
      }
      case 'connect': {
        const sock = net.connect(m.port, '127.0.0.1', () => {
          sock.setNoDelay(true);
          ends.set(m.impl, { ...sender(m.impl, sock), got: 0, target: Infinity });
          send({ op: 'ready' });
        });
        sock.on('error', (e) => send({ op: 'error', message: String(e) }));
        return;
      }
      case 'go': {
        const end = ends.get(m.impl)!;
        end.cpu0 = process.cpuUsage();
        end.got = 0;
        end.target = m.total;
        if (end.start) end.start(m.streams, m.total).catch((e: unknown) => send({ op: 'error', message: String(e) }));
        else send({ op: 'ready' });
        return;
      }
      case 'stop':
        // The sender's CPU is read once the receiver has everything (window
        // updates and the socket's tail included).
        cpuDone(ends.get(m.impl)!.cpu0);
        return;
      case 'close':
        ends.get(m.impl)?.close();
        ends.delete(m.impl);
        return;
      case 'local': {
        const run =
          m.where === 'memory'
            ? memoryOnce(m.impl as 'ours' | 'spdy-transport', m.streams, m.total)
            : (same ??= new SameProcess()).run(m.impl, m.streams, m.total);
        run.then(
          (sample) => send({ op: 'sample', sample }),
          (e: unknown) => send({ op: 'error', message: String(e) }),
        );
        return;
      }
    }
  });
}

if (process.env[END_ENV]) childMain();

class End {
  private readonly child: ChildProcess;
  constructor() {
    this.child = fork(fileURLToPath(import.meta.url), [], {
      env: { ...process.env, [END_ENV]: '1' },
      execArgv: [...process.execArgv, ...(process.env.KUBEWIRE_BENCH_MUX_CHILD_ARGS?.split(' ') ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }
  send(m: ToChild): void {
    this.child.send(m);
  }
  /** The child's next message of this kind; a child error, exit or a silent minute fails the bench. */
  next<T extends FromChild['op']>(op: T): Promise<Extract<FromChild, { op: T }>> {
    return new Promise((resolve, reject) => {
      const stop = () => {
        clearTimeout(timer);
        this.child.off('message', on);
        this.child.off('exit', onExit);
      };
      const on = (m: FromChild) => {
        if (m.op === 'error') {
          stop();
          reject(new Error(`mux bench child: ${m.message}`));
        } else if (m.op === op) {
          stop();
          resolve(m as Extract<FromChild, { op: T }>);
        }
      };
      const onExit = (code: number | null) => {
        stop();
        reject(new Error(`mux bench child exited (${code}) while waiting for '${op}'`));
      };
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`mux bench child: no '${op}' within 60 s`));
      }, 60_000);
      this.child.on('message', on);
      this.child.on('exit', onExit);
    });
  }
  kill(): void {
    if (this.child.connected) this.child.disconnect();
  }
}

interface Sample {
  /** Wall-clock MB/s (10^6 bytes per second). */
  mbps: number;
  /** CPU seconds per GiB: the sending end, the receiving end (in memory: both ends, in `send`). */
  send: number;
  recv: number;
}

/**
 * Two child processes per implementation (a sender and a receiver) and one
 * connection between them, kept for all rounds. Separate processes per
 * implementation keep each one's optimised code to itself, as separate
 * programs would: shared stream internals that also ran another
 * implementation's code were measurably slower (polymorphic).
 */
class Loopback {
  private readonly pairs = new Map<Impl, { tx: End; rx: End }>();

  async run(impl: Impl, streams: number, total: number): Promise<Sample> {
    let pair = this.pairs.get(impl);
    if (!pair) {
      pair = { tx: new End(), rx: new End() };
      this.pairs.set(impl, pair);
      const { tx, rx } = pair;
      const port = rx.next('port');
      rx.send({ op: 'listen', impl });
      const rxReady = rx.next('ready');
      const txReady = tx.next('ready');
      tx.send({ op: 'connect', impl, port: (await port).port });
      await Promise.all([rxReady, txReady]);
    }
    const { tx, rx } = pair;
    // The receiver is armed before the sender starts.
    const rxArmed = rx.next('ready');
    rx.send({ op: 'go', impl, streams, total });
    await rxArmed;
    const rxDone = rx.next('done');
    const t0 = process.hrtime.bigint();
    tx.send({ op: 'go', impl, streams, total });
    const r = await rxDone;
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const txDone = tx.next('done');
    tx.send({ op: 'stop', impl });
    const s = await txDone;
    const perGiB = (us: number) => (us / 1e6) * (GIB / total);
    return { mbps: total / secs / 1e6, send: perGiB(s.userUs + s.systemUs), recv: perGiB(r.userUs + r.systemUs) };
  }

  close(): void {
    for (const [impl, { tx, rx }] of this.pairs) {
      tx.send({ op: 'close', impl });
      rx.send({ op: 'close', impl });
      tx.kill();
      rx.kill();
    }
  }
}

// ---------------------------------------------------------------- both ends in this process

/**
 * Loopback TCP with both ends on this one thread (as a test or a proxy that
 * holds both sides would): the figure is bound by the two ends' summed cost.
 * One connection per implementation, kept across rounds.
 */
class SameProcess {
  private readonly conns = new Map<Impl, { start(n: number, total: number): Promise<void>; arm(total: number): Promise<void>; close(): void }>();

  async run(impl: Impl, streams: number, total: number): Promise<Sample> {
    let conn = this.conns.get(impl);
    if (!conn) {
      const srv = net.createServer();
      srv.listen(0, '127.0.0.1');
      await once(srv, 'listening');
      const accepted = once(srv, 'connection') as Promise<[net.Socket]>;
      const a = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
      await once(a, 'connect');
      const [b] = await accepted;
      srv.close();
      a.setNoDelay(true);
      b.setNoDelay(true);
      let c = counter(0);
      const closeRx = receiver(impl, b, (n) => c.add(n));
      const tx = sender(impl, a);
      conn = {
        start: tx.start,
        arm: (t) => {
          c = counter(t);
          return c.done;
        },
        close: () => (tx.close(), closeRx()),
      };
      this.conns.set(impl, conn);
    }
    const done = conn.arm(total);
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await Promise.all([conn.start(streams, total), done]);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const cu = process.cpuUsage(c0);
    return { mbps: total / secs / 1e6, send: ((cu.user + cu.system) / 1e6) * (GIB / total), recv: NaN };
  }

  close(): void {
    for (const c of this.conns.values()) c.close();
  }
}

async function memoryOnce(impl: 'ours' | 'spdy-transport', streams: number, total: number): Promise<Sample> {
  const [a, b] = memoryPair();
  const c = counter(total);
  const closeRx = receiver(impl, b, c.add);
  const tx = sender(impl, a);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all([tx.start(streams, total), c.done]);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cu = process.cpuUsage(c0);
  tx.close();
  closeRx();
  a.destroy();
  b.destroy();
  return { mbps: total / secs / 1e6, send: ((cu.user + cu.system) / 1e6) * (GIB / total), recv: NaN };
}

// ---------------------------------------------------------------- rounds and report

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Run every configuration once per round and keep medians: interleaving
 * spreads the noise of a shared machine over all of them instead of
 * penalising whichever ran during a busy spell.
 */
async function medianOfRounds(
  configs: Record<string, (total: number) => Promise<Sample>>,
): Promise<{ medians: Record<string, Sample>; samples: Record<string, Sample[]> }> {
  const samples: Record<string, Sample[]> = {};
  const only = process.env.KUBEWIRE_BENCH_MUX_ONLY?.split(',');
  if (only) configs = Object.fromEntries(Object.entries(configs).filter(([name]) => only.includes(name)));
  for (const [name, run] of Object.entries(configs)) {
    // Two warm-up runs: the first round after one was still visibly slower.
    for (let w = 0; w < 2; w++) await run(Math.max(TOTAL, 256 * MIB));
    samples[name] = [];
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, run] of Object.entries(configs)) {
      const x = await run(TOTAL);
      samples[name]!.push(x);
      if (process.env.KUBEWIRE_BENCH_MUX_VERBOSE) {
        process.stderr.write(`mux round ${r} ${name}: ${x.mbps.toFixed(0)} MB/s, CPU s/GiB ${cpuText(x)}, load ${loadavg()[0]!.toFixed(1)}\n`);
      }
    }
  }
  const out: Record<string, Sample> = {};
  for (const [name, xs] of Object.entries(samples)) {
    out[name] = { mbps: median(xs.map((x) => x.mbps)), send: median(xs.map((x) => x.send)), recv: median(xs.map((x) => x.recv)) };
  }
  return { medians: out, samples };
}

/**
 * Ratio of two configurations round by round (they ran back to back, under
 * much the same load), as median and range: steadier than the ratio of the
 * two medians when the machine's load drifts.
 */
function pairedRatio(a: Sample[], b: Sample[]): string {
  const r = a.map((x, i) => x.mbps / b[i]!.mbps);
  return `per-round ratio median ${median(r).toFixed(2)}x (${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)})`;
}

const cpuText = (s: Sample) =>
  Number.isNaN(s.recv) ? `${s.send.toFixed(2)}` : `send ${s.send.toFixed(2)} / recv ${s.recv.toFixed(2)}`;

const bench: Bench = {
  group: 'mux',
  async run(): Promise<BenchResult[]> {
    const load0 = loadavg()[0]!;
    const loop = new Loopback();
    // Runs with both ends in one process happen in a child per
    // implementation too, for the same reason as the loopback pairs.
    const locals = new Map<string, End>();
    const local = async (where: 'loopback' | 'memory', impl: Impl, streams: number, total: number) => {
      let child = locals.get(`${where} ${impl}`);
      if (!child) locals.set(`${where} ${impl}`, (child = new End()));
      const got = child.next('sample');
      child.send({ op: 'local', where, impl, streams, total });
      const x = (await got).sample;
      // NaN (no separate receiver figure) crosses IPC as null.
      return { ...x, recv: x.recv ?? NaN };
    };
    let b: Record<string, Sample>;
    let rounds: Record<string, Sample[]>;
    try {
      ({ medians: b, samples: rounds } = await medianOfRounds({
        l1: (t) => loop.run('ours', 1, t),
        raw: (t) => loop.run('raw', 1, t),
        rawb: (t) => loop.run('raw-batched', 1, t),
        lt1: (t) => loop.run('spdy-transport', 1, t),
        lw1: (t) => loop.run('spdy-transport-tuned', 1, t),
        l16: (t) => loop.run('ours', 16, t),
        lt16: (t) => loop.run('spdy-transport', 16, t),
        p1: (t) => local('loopback', 'ours', 1, t),
        praw: (t) => local('loopback', 'raw', 1, t),
        pt1: (t) => local('loopback', 'spdy-transport', 1, t),
        m1: (t) => local('memory', 'ours', 1, t),
        t1: (t) => local('memory', 'spdy-transport', 1, t),
        m16: (t) => local('memory', 'ours', 16, t),
        t16: (t) => local('memory', 'spdy-transport', 16, t),
      }));
    } finally {
      loop.close();
      for (const child of locals.values()) child.kill();
    }
    const load1 = loadavg()[0]!;
    const cores = cpus().length;
    if (process.env.KUBEWIRE_BENCH_MUX_ONLY) {
      return Object.entries(b).map(([name, x]) =>
        result(`mux ${name}`, 'MB/s', x.mbps, null, { notes: `CPU s/GiB ${cpuText(x)}; load ${load0.toFixed(1)}→${load1.toFixed(1)}` }),
      );
    }
    const busy = Math.max(load0, load1) > cores;
    const loadNote = `; load ${load0.toFixed(1)}→${load1.toFixed(1)} on ${cores} cores${busy ? ' (busy: trust CPU s/GiB over MB/s)' : ''}`;
    const out: BenchResult[] = [];
    const size = `${TOTAL / MIB} MiB, 64 KiB writes, median of ${ROUNDS}`;
    const st = 'spdy-transport';
    const vs = (name: string, o: string, p: string, peerName: string, target?: string, extra = '') =>
      out.push(
        result(name, 'MB/s', b[o]!.mbps, b[p]!.mbps, {
          peerName,
          ...(target ? { target } : {}),
          notes: `CPU s/GiB: ours ${cpuText(b[o]!)}, ${peerName} ${cpuText(b[p]!)}; ${pairedRatio(rounds[o]!, rounds[p]!)}${extra}${loadNote}`,
        }),
      );
    vs(`mux in memory, 1 stream (${size})`, 'm1', 't1', st);
    vs(`mux in memory, 16 streams (${size})`, 'm16', 't16', st);
    vs(`mux loopback TCP, 1 stream, two processes (${size})`, 'l1', 'lt1', st, '>= 4x');
    vs(`mux loopback TCP, 1 stream, two processes, vs tuned peer (${size})`, 'l1', 'lw1', `${st} (16 MiB windows, 64 KiB frames)`, '>= 4x');
    vs(`mux loopback TCP, 16 streams, two processes (${size})`, 'l16', 'lt16', st, '>= 4x');
    vs('mux loopback TCP, 1 stream vs raw socket', 'l1', 'raw', 'raw socket', '>= 0.8x');
    vs('mux loopback TCP, 16 streams vs raw socket', 'l16', 'raw', 'raw socket', '>= 0.8x');
    vs('mux loopback TCP, 1 stream vs raw socket written in corked batches as ours is', 'l1', 'rawb', 'raw socket, batched');
    vs(`mux loopback TCP, 1 stream, both ends in one process (${size})`, 'p1', 'pt1', st, '>= 4x');
    vs('mux loopback TCP, 1 stream, one process, vs raw socket', 'p1', 'praw', 'raw socket', '>= 0.8x');
    vs('mux loopback TCP, 16 streams vs 1 stream', 'l16', 'l1', '1 stream', '>= 0.9x', `; in memory 16/1: ${(b.m16!.mbps / b.m1!.mbps).toFixed(2)}x`);
    return out;
  },
};

export default bench;
