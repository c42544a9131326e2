/**
 * WebSocket decode/encode against `ws` (its Receiver and Sender) on the same
 * prebuilt frames, plus the cost of Kubernetes channel demultiplexing on top
 * of bare frame decoding.
 *
 * Decode workloads push one buffer holding many frames (a busy connection's
 * read); each frame is one binary message. Ours is measured at the message
 * level (frame decoder + message assembler), as ws's Receiver delivers
 * messages. `ws` runs without its optional native addons here (pure JS) if
 * they are not installed; the notes say which.
 */
import { createRequire } from 'node:module';
import type { Bench, BenchResult } from './harness.js';
import { opsPerSecond, result } from './harness.js';
import {
  MessageAssembler,
  WebSocketFrameDecoder,
  WebSocketFrameEncoder,
  OPCODE,
  type WebSocketFrame,
} from '../src/websocket/index.js';
import { ChannelDecoder } from '../src/k8s/index.js';

const require = createRequire(import.meta.url);
const ws = require('ws') as { Receiver: new (o: object) => WsReceiver; Sender: { frame(d: Buffer, o: object): Buffer[] } };
interface WsReceiver {
  on(ev: string, fn: (...a: unknown[]) => void): void;
  write(b: Buffer): boolean;
}

/**
 * Measure several functions in alternating short rounds: the machine is
 * shared, and alternating keeps a burst of load from landing on one side of
 * a comparison only. Returns each one's best rate and every round's rates
 * (rounds[r][i]) for paired ratios.
 */
async function interleavedRounds(
  fns: Array<() => unknown>,
  opsPerCall: number,
  rounds: number,
  minMs: number,
): Promise<{ best: number[]; rounds: number[][] }> {
  const best = fns.map(() => 0);
  const all: number[][] = [];
  for (let r = 0; r < rounds; r++) {
    const row: number[] = [];
    for (let i = 0; i < fns.length; i++) {
      const rate = await opsPerSecond(fns[i]!, opsPerCall, { minMs, rounds: 1, warmupMs: r === 0 ? 100 : 10 });
      best[i] = Math.max(best[i]!, rate);
      row.push(rate);
    }
    all.push(row);
  }
  return { best, rounds: all };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function nativeAddon(): string {
  try {
    require.resolve('bufferutil');
    return 'ws with bufferutil';
  } catch {
    return 'ws pure JS (no bufferutil)';
  }
}

function payloadOf(size: number, channel?: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + 7) & 0xff;
  if (channel !== undefined) b[0] = channel;
  return b;
}

/** `count` binary frames of `size` bytes, masked or not, framed by ws's own Sender. */
function frames(size: number, count: number, masked: boolean, channel?: number): Buffer {
  const parts: Buffer[] = [];
  const p = payloadOf(size, channel);
  for (let i = 0; i < count; i++) {
    parts.push(...ws.Sender.frame(p, { fin: true, opcode: 2, mask: masked, readOnly: true }));
  }
  return Buffer.concat(parts);
}

async function decodeCase(size: number, masked: boolean): Promise<BenchResult[]> {
  const count = size <= 64 ? 1024 : 8;
  const buf = frames(size, count, masked);
  // Ours: frames, then messages (what ws's Receiver delivers).
  const decoder = new WebSocketFrameDecoder({ direction: masked ? 'clientToServer' : 'serverToClient' });
  const assembler = new MessageAssembler();
  let ourBytes = 0;
  const oursFn = () => {
    const evs = decoder.push(buf);
    for (let i = 0; i < evs.length; i++) {
      const ms = assembler.push(evs[i] as WebSocketFrame);
      ourBytes += ms.length;
    }
  };
  // Ours, input unmasked in place like ws does (masked cases only).
  const d2 = new WebSocketFrameDecoder({ direction: 'clientToServer', unmask: 'in-place' });
  const copy = Buffer.from(buf);
  const inPlaceFn = () => {
    const evs = d2.push(copy);
    for (let i = 0; i < evs.length; i++) ourBytes += assembler.push(evs[i] as WebSocketFrame).length;
  };
  const receiver = new ws.Receiver({ isServer: masked, binaryType: 'nodebuffer', maxPayload: 0 });
  let peerMessages = 0;
  receiver.on('message', () => peerMessages++);
  receiver.on('error', (e) => {
    throw e;
  });
  const wsBuf = Buffer.from(buf);
  const peerFn = () => receiver.write(wsBuf);
  const m = await interleavedRounds(masked ? [oursFn, peerFn, inPlaceFn] : [oursFn, peerFn], count, 15, 60);
  const [ours, peer, inPlaceRate] = m.best;
  const inPlace = masked ? inPlaceRate! : null;
  const ratio = median(m.rounds.map((r) => r[0]! / r[1]!));
  if (ourBytes === 0 || peerMessages === 0) throw new Error('bench decoded nothing');
  const label = `${size === 64 ? '64 B' : '16 KiB'} ${masked ? 'masked (client→server)' : 'unmasked (server→client)'}`;
  const target = size <= 64 ? '>= 1.5x' : '>= 1.0x';
  if (inPlace === null) {
    return [result(`ws decode ${label}`, 'msgs/s', ours!, peer!, { ratio, peerName: nativeAddon(), target, notes: 'payload views, no copy; ratio = median of paired rounds' })];
  }
  // ws unmasks the input in place; so does our `unmask: 'in-place'`, the
  // like-for-like row. The default (a capture inspector must not alter its
  // input) unmasks into a fresh buffer: its own row, no target.
  return [
    result(`ws decode ${label}, unmasked in place (as ws)`, 'msgs/s', inPlace, peer!, {
      ratio: median(m.rounds.map((r) => r[2]! / r[1]!)),
      peerName: nativeAddon(),
      target,
      notes: 'ratio = median of paired rounds',
    }),
    result(`ws decode ${label}, unmasked into a copy (default)`, 'msgs/s', ours!, peer!, {
      ratio,
      peerName: nativeAddon(),
      notes: 'the input keeps the wire bytes; ratio = median of paired rounds',
    }),
  ];
}

async function encodeCase(size: number, masked: boolean): Promise<BenchResult> {
  const payload = payloadOf(size);
  const enc = new WebSocketFrameEncoder({ role: masked ? 'client' : 'server' });
  const batch = 64;
  let sink = 0;
  // Unmasked: both hand back header + untouched payload for a gathered write.
  const opts = { fin: true, opcode: 2, mask: masked, readOnly: true };
  const m = await interleavedRounds(
    [
      () => {
        for (let i = 0; i < batch; i++) sink += masked ? enc.binary(payload).length : enc.encodeParts({ opcode: OPCODE.BINARY, payload }).length;
      },
      () => {
        for (let i = 0; i < batch; i++) sink += ws.Sender.frame(payload, opts).length;
      },
    ],
    batch,
    15,
    60,
  );
  const [ours, peer] = m.best as [number, number];
  const ratio = median(m.rounds.map((r) => r[0]! / r[1]!));
  if (sink === 0) throw new Error('bench encoded nothing');
  const label = `${size === 64 ? '64 B' : '16 KiB'} ${masked ? 'masked (client)' : 'unmasked (server)'}`;
  return result(`ws encode ${label}`, 'frames/s', ours, peer, {
    ratio,
    peerName: nativeAddon(),
    target: size <= 64 ? '>= 1.5x' : '>= 1.0x',
    notes: `${masked ? 'one buffer, masked copy (ws: readOnly merge)' : '[header, payload] without copy (ws: same)'}; ratio = median of paired rounds`,
  });
}

/** Channel demultiplexing (v5 exec, stdout) on top of bare frame decoding. */
async function demuxCase(size: number): Promise<BenchResult> {
  const count = size <= 64 ? 1024 : 8;
  const buf = frames(size, count, false, 1);
  const bare = new WebSocketFrameDecoder({ direction: 'serverToClient' });
  let sink = 0;
  // A consumer of bare frames still walks them and reads each payload.
  const bareFn = () => {
    const evs = bare.push(buf);
    for (let i = 0; i < evs.length; i++) sink += (evs[i] as WebSocketFrame).payload.length;
  };
  // The channel byte is split off by the frame decoder (no second view per message).
  const decoder = new WebSocketFrameDecoder({ direction: 'serverToClient', splitFirstByte: true });
  const channels = new ChannelDecoder({ protocol: 'v5.channel.k8s.io', direction: 'serverToClient' });
  let stdout = 0;
  const demuxFn = () => {
    const evs = decoder.push(buf);
    for (let i = 0; i < evs.length; i++) {
      const f = evs[i] as WebSocketFrame;
      const ev = channels.decodeSplit(f.prefix, f.payload, f.kind === 'text', f.offset);
      if (ev.kind === 'data') stdout += ev.data.length;
    }
  };
  // The allocation-free router: channel number out, the frame's payload is the data.
  const routed = new WebSocketFrameDecoder({ direction: 'serverToClient', splitFirstByte: true });
  const routeFn = () => {
    const evs = routed.push(buf);
    for (let i = 0; i < evs.length; i++) {
      const f = evs[i] as WebSocketFrame;
      if (channels.route(f.prefix, f.payload, f.offset) === 1) stdout += f.payload.length;
    }
  };
  // The general path: a view per message for the application bytes.
  const plain = new WebSocketFrameDecoder({ direction: 'serverToClient' });
  const viewFn = () => {
    const evs = plain.push(buf);
    for (let i = 0; i < evs.length; i++) {
      const f = evs[i] as WebSocketFrame;
      const ev = channels.decode(f.payload, f.kind === 'text', f.offset);
      if (ev.kind === 'data') stdout += ev.data.length;
    }
  };
  // Rounds alternate bare / demux / view; the cost is the median of the
  // per-round ratios (neighbouring rounds share the machine's load).
  const m = await interleavedRounds([bareFn, routeFn, demuxFn, viewFn], count, 25, 40);
  const [bareRate, routeRate] = m.best as [number, number, number, number];
  sink += stdout;
  if (sink === 0) throw new Error('bench decoded nothing');
  const pct = (i: number) => `${(median(m.rounds.map((r) => r[0]! / r[i]! - 1)) * 100).toFixed(1)}%`;
  return result(`k8s channel demux ${size === 64 ? '64 B' : '16 KiB'} (v5 stdout)`, 'msgs/s', routeRate, null, {
    target: 'adds < 10%',
    notes: `vs bare frame decode ${(bareRate / 1e6).toFixed(2)}M/s (median of paired rounds): route() adds ${pct(1)}, decodeSplit() events ${pct(2)}, decode() with a view per message ${pct(3)}`,
  });
}

const bench: Bench = {
  group: 'websocket',
  async run() {
    const out: BenchResult[] = [];
    for (const size of [16 * 1024, 64]) {
      for (const masked of [false, true]) out.push(...(await decodeCase(size, masked)));
    }
    for (const size of [16 * 1024, 64]) {
      for (const masked of [false, true]) out.push(await encodeCase(size, masked));
    }
    out.push(await demuxCase(64));
    out.push(await demuxCase(16 * 1024));
    return out;
  },
};

export default bench;
