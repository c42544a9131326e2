/**
 * Synthetic captures of execs crossing three hops (kubectl → API server →
 * kubelet → runtime), made with the project's own SPDY encoder and pcapng
 * writer: every hop a SPDY/3.1 `v4.channel.k8s.io` session with the URL form
 * of its hop, and each hop `hopDelayUs` (plus a little deterministic jitter)
 * behind the one before it in the direction the bytes travel. Used by the
 * path tests and the path-linking bench.
 */
import type { Direction } from '../../src/common/errors.js';
import { concatBytes } from '../../src/common/bytes.js';
import { PcapngWriter, SyntheticTcpConnection } from '../../src/capture/pcapng-writer.js';
import { SpdyFrameEncoder } from '../../src/spdy/index.js';

export interface SyntheticExec {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdin: Uint8Array;
  stdout: Uint8Array;
  exitCode: number;
  /** When kubectl sends its request (µs since the epoch). */
  start: number;
  /** Client ports of the three hops' connections (unique per connection). */
  ports: [number, number, number];
}

export interface ExecPathOptions {
  /** One-way delay each hop adds (µs). Default 150. */
  hopDelayUs?: number;
  /** Up to this much (µs) added to each delay, from a fixed sequence. Default 40. */
  jitterUs?: number;
  /** Bytes per DATA frame. Default 1024. */
  frameBytes?: number;
  /** Hops to write (0 client → API server, 1 API server → kubelet, 2 kubelet → runtime). Default all. */
  hops?: number[];
  /** µs added to the times of these hops (a capture file with another clock). */
  shiftUs?: Partial<Record<number, number>>;
}

const SERVERS = [6443, 10250, 10010];
const enc = (s: string) => new TextEncoder().encode(s);

interface Timed {
  time: number;
  seq: number;
  block: Uint8Array;
}

/** One pcapng file with the chosen hops of every exec, packets in time order. */
export function execPathCapture(execs: SyntheticExec[], opts: ExecPathOptions = {}): Uint8Array {
  const w = new PcapngWriter();
  const timed: Timed[] = [];
  let seq = 0;
  let jitterState = 0x9e3779b9;
  const jitter = () => {
    jitterState = (Math.imul(jitterState, 1664525) + 1013904223) >>> 0;
    return ((jitterState >>> 8) / 0x1000000) * (opts.jitterUs ?? 40);
  };
  const D = opts.hopDelayUs ?? 150;
  const frame = opts.frameBytes ?? 1024;
  for (const e of execs) {
    for (const k of opts.hops ?? [0, 1, 2]) {
      const shift = opts.shiftUs?.[k] ?? 0;
      const conn = new SyntheticTcpConnection(w, {
        client: { address: '127.0.0.1', port: e.ports[k]! },
        server: { address: '127.0.0.1', port: SERVERS[k]! },
        mss: 16384,
      });
      const c = new SpdyFrameEncoder();
      const s = new SpdyFrameEncoder();
      const push = (t: number, blocks: Uint8Array[]) => {
        for (const block of blocks) timed.push({ time: t + shift, seq: seq++, block });
      };
      // forward things reach hop k after k delays, backward things after (2 − k)
      const fwd = (t: number) => t + k * D + (k ? jitter() : 0);
      const back = (t: number) => t + (2 - k) * D + (k < 2 ? jitter() : 0);
      const send = (d: Direction, t: number, bytes: Uint8Array) => push(t, conn.data(d, bytes, t + shift));
      const t0 = e.start;
      const req = fwd(t0);
      push(req, conn.open(req + shift));
      send('clientToServer', req, enc(requestHead(e, k)));
      const up = back(t0 + 3 * D + 100);
      send('serverToClient', up, enc('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n'));
      let t = Math.max(up, req) + 10;
      ['error', 'stdin', 'stdout', 'stderr'].forEach((role, j) => {
        send('clientToServer', (t += 5), c.encode({ kind: 'syn_stream', streamId: 1 + 2 * j, headers: [['streamtype', role]] }));
        send('serverToClient', (t += 5), s.encode({ kind: 'syn_reply', streamId: 1 + 2 * j, headers: [] }));
      });
      // stdin: chunk j leaves kubectl at base + 50 µs·j
      const base = t0 + 10 * D + 1000;
      let last = t;
      for (let o = 0, j = 0; o < e.stdin.length; o += frame, j++) {
        const at = Math.max(fwd(base + 50 * j), last + 1);
        send('clientToServer', at, c.encode({ kind: 'data', streamId: 3, data: e.stdin.subarray(o, o + frame) }));
        last = at;
      }
      send('clientToServer', (last += 1), c.encode({ kind: 'data', streamId: 3, data: new Uint8Array(0), fin: true }));
      const outBase = base + 50 * Math.ceil(e.stdin.length / frame) + 10 * D;
      for (let o = 0, j = 0; o < e.stdout.length; o += frame, j++) {
        const at = Math.max(back(outBase + 50 * j), last + 1);
        send('serverToClient', at, s.encode({ kind: 'data', streamId: 5, data: e.stdout.subarray(o, o + frame) }));
        last = at;
      }
      const exitAt = Math.max(back(outBase + 50 * Math.ceil(e.stdout.length / frame) + 500), last + 1);
      const status = e.exitCode === 0 ? new Uint8Array(0) : enc(statusJson(e.exitCode));
      send(
        'serverToClient',
        exitAt,
        concatBytes([
          s.encode({ kind: 'data', streamId: 5, data: new Uint8Array(0), fin: true }),
          s.encode({ kind: 'data', streamId: 7, data: new Uint8Array(0), fin: true }),
          ...(status.length ? [s.encode({ kind: 'data', streamId: 1, data: status })] : []),
          s.encode({ kind: 'data', streamId: 1, data: new Uint8Array(0), fin: true }),
        ]),
      );
      const end = exitAt + 20;
      send('clientToServer', end, c.encode({ kind: 'goaway', lastGoodStreamId: 0, status: 0 }));
      push(end + 1, conn.close(end + 1 + shift));
    }
  }
  timed.sort((a, b) => a.time - b.time || a.seq - b.seq);
  return concatBytes([w.header(), ...timed.map((x) => x.block)]);
}

function requestHead(e: SyntheticExec, hop: number): string {
  const cmd = e.command.map((c) => `command=${encodeURIComponent(c)}`).join('&');
  const target =
    hop === 0
      ? `/api/v1/namespaces/${e.namespace}/pods/${e.pod}/exec?${cmd}&container=${e.container}&stdin=true&stdout=true&stderr=true`
      : hop === 1
        ? `/exec/${e.namespace}/${e.pod}/${e.container}?${cmd}&error=1&input=1&output=1`
        : `/exec/tok${e.ports[2]!.toString(36)}`;
  return (
    `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1:${SERVERS[hop]}\r\nUser-Agent: ${hop === 0 ? 'kubectl/v1.27.16' : 'Go-http-client/1.1'}\r\n` +
    'Content-Length: 0\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n'
  );
}

function statusJson(code: number): string {
  return JSON.stringify({
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: exit status ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  });
}

/** Deterministic bytes for exec `n` (distinct per n). */
export function execBytes(n: number, length: number, salt = 0): Uint8Array {
  const out = new Uint8Array(length);
  let x = (n * 2654435761 + salt * 40503 + 1) >>> 0;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** `count` execs into one pod, `concurrency` at a time, each `spacingUs` after the previous. */
export function manyExecs(count: number, opts: { bytes?: number; spacingUs?: number; pod?: (n: number) => string } = {}): SyntheticExec[] {
  const out: SyntheticExec[] = [];
  for (let n = 0; n < count; n++) {
    const data = execBytes(n, opts.bytes ?? 4096);
    out.push({
      namespace: 'default',
      pod: opts.pod ? opts.pod(n) : 'web',
      container: 'main',
      command: ['cat'],
      stdin: data,
      stdout: data,
      exitCode: n % 7 === 3 ? 3 : 0,
      start: 1_800_000_000_000_000 + n * (opts.spacingUs ?? 2_000),
      ports: [20000 + n * 3, 20001 + n * 3, 20002 + n * 3],
    });
  }
  return out;
}
