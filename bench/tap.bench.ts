/**
 * Tap throughput: the same WebSocket exec upload (v5.channel.k8s.io, stdin
 * frames of 32 KiB, masked as a client must) sent directly over loopback and
 * through the tap with live decoding on. The sending and receiving ends run
 * in a child process, so this process holds only the tap and its decoder, and
 * its memory is the tap's.
 *
 * `KUBEWIRE_TAP_BENCH_MIB` sets the bytes per run (default 1024 = 1 GiB).
 *
 * Decoding is measured twice: as the timeline, `--ndjson` and `--follow`
 * decode (frame events, no digests) and as `--summary`/`--json` do (a sha256
 * of every stream and direction, which is most of the decoding cost).
 *
 * Decoding runs on the forwarding thread in bounded slices (see
 * `DecodeQueue`): when it cannot keep up, bytes are forwarded but not
 * decoded, so the notes give the share actually decoded next to the speed.
 * CPU seconds per GiB (tap process vs the two ends) are printed too: on a
 * shared machine they vary far less than wall-clock throughput.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { result, type Bench, type BenchResult } from './harness.js';
import { startTap, type Tap } from '../src/tap/index.js';
import { SessionDecoder } from '../src/timeline/index.js';

const MiB = 1024 * 1024;
const TOTAL_MIB = Number(process.env.KUBEWIRE_TAP_BENCH_MIB ?? 1024);

/**
 * The two ends, in plain JavaScript for a child process: a server that
 * answers the WebSocket upgrade and counts bytes, and clients that upgrade
 * and send prebuilt masked frames with backpressure.
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
const CLOSE = maskedFrame(8, Buffer.from([0x03, 0xe8]));
// Send frames in batches so the sender is not the bottleneck.
const BATCH = Buffer.concat(Array(8).fill(FRAME));
const REQUEST = 'GET /api/v1/namespaces/default/pods/bench/exec?command=cat&stdin=true&stdout=true HTTP/1.1\r\n' +
  'Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
  'Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n';

let expected = 0, done = 0, streams = 0, t0 = 0, cpu0;
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
    } else got += d.length;
    if (got === expected) {
      s.end(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
      if (++done === streams) {
        const cpu = process.cpuUsage(cpu0);
        process.send({ elapsedMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 });
      }
    }
  });
  s.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));

function client(port, frames) {
  const s = net.connect({ port, host: '127.0.0.1' });
  s.on('error', (e) => process.send({ error: String(e) }));
  s.write(REQUEST);
  let upgraded = false, head = Buffer.alloc(0);
  s.on('data', (d) => {
    if (upgraded) return;
    head = Buffer.concat([head, d]);
    if (head.indexOf('\r\n\r\n') < 0) return;
    upgraded = true;
    let left = frames;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, 8);
        left -= n;
        const ok = s.write(n === 8 ? BATCH : BATCH.subarray(0, n * FRAME.length));
        if (!ok) return void s.once('drain', pump);
      }
      s.end(CLOSE);
    };
    pump();
  });
}

// Never outlive the benchmark, however it ends.
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  if (m.exit) return process.exit(0);
  const frames = Math.ceil(m.bytesPerStream / PAYLOAD);
  expected = frames * FRAME.length + CLOSE.length;
  streams = m.streams; done = 0;
  t0 = performance.now();
  cpu0 = process.cpuUsage();
  for (let i = 0; i < m.streams; i++) client(m.port, frames);
});
`;

interface Ends {
  child: ChildProcess;
  port: number;
  /** Wall time and the ends' own CPU time, in ms. */
  run(port: number, streams: number, bytesPerStream: number): Promise<{ elapsedMs: number; cpuMs: number }>;
  stop(): void;
}

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
    run: (target, streams, bytesPerStream) =>
      new Promise((resolve, reject) => {
        child.once('message', (m: { elapsedMs: number; cpuMs: number; error?: string }) =>
          m.error ? reject(new Error(m.error)) : resolve(m),
        );
        child.send({ port: target, streams, bytesPerStream });
      }),
    stop: () => {
      child.send({ exit: true });
    },
  };
}

interface TapRun {
  mbps: number;
  /** CPU seconds per GiB: the tap process (forwarding + decoding) and the two ends. */
  tapCpuPerGiB: number;
  endsCpuPerGiB: number;
  rssStartMiB: number;
  rssPeakMiB: number;
  droppedMiB: number;
  decodedEvents: number;
  diagnostics: number;
}

/**
 * How the tap decodes: as for the timeline (frame events, no digests) or as
 * for `--summary` (sha256 of every stream and direction, no frame events).
 */
type DecodeMode = 'timeline' | 'summary';

async function throughTap(ends: Ends, streams: number, bytes: number, decode: DecodeMode | null): Promise<TapRun> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const decoder = new SessionDecoder({ frameEvents: decode !== 'summary', digests: decode === 'summary' });
  let decodedEvents = 0;
  const tap: Tap = await startTap({
    upstream: { protocol: 'http', host: '127.0.0.1', port: ends.port },
    consumer: decode
      ? (ev) => {
          decodedEvents += decoder.push(ev).length;
        }
      : undefined,
  });
  const rssStart = process.memoryUsage().rss;
  let rssPeak = rssStart;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 50);
  const cpu0 = process.cpuUsage();
  const { elapsedMs, cpuMs } = await ends.run(tap.address.port, streams, bytes / streams);
  clearInterval(sampler);
  await tap.close(2000);
  decodedEvents += decoder.finish().length;
  const cpu = process.cpuUsage(cpu0);
  const gib = bytes / (1024 * MiB);
  return {
    mbps: bytes / MiB / (elapsedMs / 1000),
    tapCpuPerGiB: (cpu.user + cpu.system) / 1e6 / gib,
    endsCpuPerGiB: cpuMs / 1000 / gib,
    rssStartMiB: rssStart / MiB,
    rssPeakMiB: rssPeak / MiB,
    droppedMiB: tap.stats().queue.droppedBytes / MiB,
    decodedEvents,
    diagnostics: decoder.diagnosticCount,
  };
}

async function direct(ends: Ends, streams: number, bytes: number): Promise<number> {
  const { elapsedMs } = await ends.run(ends.port, streams, bytes / streams);
  return bytes / MiB / (elapsedMs / 1000);
}

const bench: Bench = {
  group: 'tap',
  async run(): Promise<BenchResult[]> {
    const bytes = TOTAL_MIB * MiB;
    const ends = await startEnds();
    const out: BenchResult[] = [];
    try {
      // Warm up both paths (JIT, socket buffers) with a small transfer.
      await direct(ends, 1, 32 * MiB);
      await throughTap(ends, 1, 32 * MiB, 'timeline');
      await throughTap(ends, 1, 32 * MiB, 'summary');
      for (const [streams, mode] of [
        [1, 'timeline'],
        [1, 'summary'],
        [16, 'timeline'],
        [16, 'summary'],
      ] as const) {
        const d = await direct(ends, streams, bytes);
        const t = await throughTap(ends, streams, bytes, mode);
        const how = mode === 'timeline' ? 'decoding for the timeline' : 'decoding with digests (--summary)';
        out.push(
          result(`tap ${streams === 1 ? 'one stream' : `${streams} streams`} ${TOTAL_MIB} MiB, ${how}`, 'MiB/s', t.mbps, d, {
            peerName: 'direct loopback',
            target: '>= 0.70x',
            notes:
              `rss ${t.rssStartMiB.toFixed(0)}→${t.rssPeakMiB.toFixed(0)} MiB peak; ` +
              `CPU s/GiB tap ${t.tapCpuPerGiB.toFixed(2)}, ends ${t.endsCpuPerGiB.toFixed(2)}; ` +
              `decoded ${(100 * (1 - t.droppedMiB / TOTAL_MIB)).toFixed(0)}% (${t.droppedMiB.toFixed(0)} MiB forwarded but ` +
              `not decoded); ${t.decodedEvents} events, ${t.diagnostics} diagnostics`,
          }),
        );
      }
      const d = await direct(ends, 1, bytes);
      const f = await throughTap(ends, 1, bytes, null);
      out.push(
        result(`tap one stream ${TOTAL_MIB} MiB, forwarding only`, 'MiB/s', f.mbps, d, {
          peerName: 'direct loopback',
          notes:
            `rss ${f.rssStartMiB.toFixed(0)}→${f.rssPeakMiB.toFixed(0)} MiB peak; ` +
            `CPU s/GiB tap ${f.tapCpuPerGiB.toFixed(2)}, ends ${f.endsCpuPerGiB.toFixed(2)}`,
        }),
      );
    } finally {
      ends.stop();
    }
    return out;
  },
};

export default bench;
