/**
 * SPDY codec: kubewire vs spdy-transport (its protocol/spdy parser and
 * framer) on the same prebuilt input, in one process run.
 *
 * Decode input is presented two ways: as one prebuilt buffer (every payload
 * a zero-copy view; the targets apply here), and cut into 64 KiB reads as a
 * socket delivers it. In the second, a frame that straddles two reads is
 * copied once so that it can be delivered whole, while spdy-transport emits
 * such a frame in pieces without copying.
 * Header workloads use one zlib context per run of BATCH frames: a fresh
 * decoder (ours) or parser (peer) per run, since the prebuilt blocks continue
 * one deflate stream from its first byte.
 */
import { Buffer } from 'node:buffer';
import { SpdyFrameDecoder, SpdyFrameEncoder, type SpdyHeaders } from '../src/spdy/index.js';
import { PeerFramer, PeerParser } from '../test/spdy/spdy-transport-peer.js';
import { opsPerSecond, result, type Bench, type BenchResult } from './harness.js';

const CHUNK = 64 * 1024;
const PEER = 'spdy-transport';
const TIMING = { minMs: 500, rounds: 2, warmupMs: 150 };

function chunked(buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let p = 0; p < buf.length; p += CHUNK) out.push(buf.subarray(p, Math.min(buf.length, p + CHUNK)));
  return out;
}

function dataStream(payload: number, frames: number): Uint8Array {
  const enc = new SpdyFrameEncoder();
  const data = new Uint8Array(payload).fill(0x42);
  return Buffer.concat(Array.from({ length: frames }, (_, i) => enc.encode({ kind: 'data', streamId: 1 + 2 * (i % 4), data })));
}

/** About six headers, as a port-forward data stream's SYN_STREAM plus the pseudo-headers spdy-transport insists on. */
function k8sHeaders(i: number): SpdyHeaders {
  return [
    [':method', 'POST'],
    [':path', '/api/v1/namespaces/default/pods/web-0/portforward'],
    [':version', 'HTTP/1.1'],
    ['streamtype', i % 2 ? 'data' : 'error'],
    ['port', '8080'],
    ['requestid', String(i >> 1)],
  ];
}

function synStreams(n: number): Uint8Array {
  const enc = new SpdyFrameEncoder();
  return Buffer.concat(Array.from({ length: n }, (_, i) => enc.encode({ kind: 'syn_stream', streamId: 1 + 2 * i, headers: k8sHeaders(i) })));
}

function decodeOurs(chunks: Uint8Array[], expected: number): void {
  const dec = new SpdyFrameDecoder();
  let n = 0;
  for (const c of chunks) n += dec.push(c).length;
  dec.close();
  if (n !== expected) throw new Error(`decoded ${n} of ${expected} frames`);
}

/**
 * spdy-transport emits a DATA frame in parts when a chunk ends inside it, so
 * completion is counted in payload bytes for DATA and in frames otherwise.
 */
async function decodePeer(chunks: Uint8Array[], expected: number, payload: number): Promise<void> {
  const p = new PeerParser(true);
  let units = 0;
  p.parser.removeAllListeners('data');
  p.parser.on('data', (f: { type: string; data?: Buffer }) => {
    units += f.type === 'DATA' ? f.data!.length : 1;
  });
  for (const c of chunks) p.parser.write(c);
  const want = payload > 0 ? expected * payload : expected;
  for (let spins = 0; units < want; spins++) {
    if (p.errors.length) throw p.errors[0];
    if (spins > 1e6) throw new Error(`peer decoded ${units} of ${want}`);
    await new Promise((r) => setImmediate(r));
  }
}

async function measureDecode(
  name: string,
  bytes: Uint8Array,
  frames: number,
  payload: number,
  target: string | undefined,
  reads: boolean,
): Promise<BenchResult[]> {
  const chunks = reads ? chunked(bytes) : [bytes];
  name += reads ? ' (64 KiB reads)' : '';
  const ours = await opsPerSecond(() => decodeOurs(chunks, frames), frames, TIMING);
  const peer = await opsPerSecond(() => decodePeer(chunks, frames, payload), frames, TIMING);
  const mb = bytes.length / frames / 1e6;
  return [
    result(`spdy decode ${name}`, 'frames/s', ours, peer, {
      peerName: PEER,
      ...(target ? { target } : {}),
      ...(reads && payload > 1024 ? { notes: 'frames across reads are copied; the peer emits them in parts' } : {}),
    }),
    result(`spdy decode ${name}`, 'MB/s', ours * mb, peer * mb, { peerName: PEER }),
  ];
}

async function measureDataEncode(name: string, payload: number, frames: number): Promise<BenchResult[]> {
  const data = Buffer.alloc(payload, 0x42);
  const enc = new SpdyFrameEncoder();
  let sink = 0;
  const ours = await opsPerSecond(
    () => {
      for (let i = 0; i < frames; i++) sink += enc.encode({ kind: 'data', streamId: 1, data }).length;
    },
    frames,
    TIMING,
  );
  const oursHeaderOnly = await opsPerSecond(
    () => {
      for (let i = 0; i < frames; i++) sink += enc.encodeDataHeader(1, payload, false).length;
    },
    frames,
    TIMING,
  );
  const peer = await opsPerSecond(async () => {
    const f = new PeerFramer();
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < frames; i++) pending.push(f.frame('dataFrame', { id: 1, fin: false, data }));
    await Promise.all(pending);
    sink += (await f.take()).length;
  }, frames, TIMING);
  if (sink === 0) throw new Error('nothing encoded');
  const mb = (payload + 8) / 1e6;
  return [
    result(`spdy encode ${name}`, 'frames/s', ours, peer, {
      peerName: PEER,
      target: '>= 2x',
      notes: `header only (writev path): ${(oursHeaderOnly / 1e6).toFixed(1)}M frames/s`,
    }),
    result(`spdy encode ${name}`, 'MB/s', ours * mb, peer * mb, { peerName: PEER }),
  ];
}

async function measureSynEncode(frames: number): Promise<BenchResult[]> {
  let sink = 0;
  const ours = await opsPerSecond(
    () => {
      const enc = new SpdyFrameEncoder();
      for (let i = 0; i < frames; i++) sink += enc.encode({ kind: 'syn_stream', streamId: 1 + 2 * i, headers: k8sHeaders(i) }).length;
      enc.close();
    },
    frames,
    TIMING,
  );
  const peer = await opsPerSecond(async () => {
    const f = new PeerFramer();
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < frames; i++) {
      const h = k8sHeaders(i);
      pending.push(
        f.frame('requestFrame', {
          id: 1 + 2 * i,
          method: 'POST',
          path: h[1]![1],
          host: 'localhost',
          headers: { streamtype: h[3]![1], port: h[4]![1], requestid: h[5]![1] },
        }),
      );
    }
    await Promise.all(pending);
    sink += (await f.take()).length;
  }, frames, TIMING);
  if (sink === 0) throw new Error('nothing encoded');
  const avg = synStreams(frames).length / frames / 1e6;
  return [
    result('spdy encode SYN_STREAM (6 headers, shared zlib)', 'frames/s', ours, peer, { peerName: PEER, target: '>= 2x' }),
    result('spdy encode SYN_STREAM (6 headers, shared zlib)', 'MB/s', ours * avg, peer * avg, { peerName: PEER }),
  ];
}

const bench: Bench = {
  group: 'spdy',
  async run(): Promise<BenchResult[]> {
    const out: BenchResult[] = [];
    const big = dataStream(16 * 1024, 256);
    const small = dataStream(64, 16 * 1024);
    out.push(...(await measureDecode('DATA 16KiB', big, 256, 16 * 1024, '>= 5x', false)));
    out.push(...(await measureDecode('DATA 16KiB', big, 256, 16 * 1024, undefined, true)));
    out.push(...(await measureDecode('DATA 64B', small, 16 * 1024, 64, '>= 4x', false)));
    out.push(...(await measureDecode('DATA 64B', small, 16 * 1024, 64, undefined, true)));
    out.push(...(await measureDecode('SYN_STREAM (6 headers, shared zlib)', synStreams(2000), 2000, 0, '>= 10x', false)));
    out.push(...(await measureDataEncode('DATA 16KiB', 16 * 1024, 256)));
    out.push(...(await measureDataEncode('DATA 64B', 64, 4096)));
    out.push(...(await measureSynEncode(2000)));
    return out;
  },
};

export default bench;
