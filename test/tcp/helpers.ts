import { parseAddress, TCP_FLAG, type TcpSegment } from '../../src/tcp/index.js';
import type { ConnectionEvent } from '../../src/tcp/types.js';

export const CLIENT = { address: '10.0.0.1', port: 50000 };
export const SERVER = { address: '10.0.0.2', port: 6443 };

let packetNo = 0;

/** A segment from client (`c2s`) or server with stream offsets turned into sequence numbers. */
export function seg(
  from: 'c' | 's',
  seq: number,
  flags: number,
  payload: Uint8Array | string = new Uint8Array(0),
  ack = 0,
  extra: Partial<TcpSegment> = {},
): TcpSegment {
  const a = from === 'c' ? CLIENT : SERVER;
  const b = from === 'c' ? SERVER : CLIENT;
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  return {
    src: parseAddress(a.address),
    dst: parseAddress(b.address),
    srcPort: a.port,
    dstPort: b.port,
    seq: seq >>> 0,
    ack: ack >>> 0,
    flags: flags | (ack ? TCP_FLAG.ACK : 0),
    payload: bytes,
    missing: 0,
    time: ++packetNo * 1000,
    packet: packetNo,
    ...extra,
  };
}

export const { SYN, ACK, FIN, RST, PSH } = TCP_FLAG;

/** Per direction: the bytes delivered (gaps zero-filled), the gap list, and the event kinds. */
export function collect(events: ConnectionEvent[], connection = 1, fillGaps = true) {
  const next = { c2s: 0, s2c: 0 };
  const out = {
    c2s: [] as number[],
    s2c: [] as number[],
    gaps: { c2s: [] as [number, number][], s2c: [] as [number, number][] },
    kinds: events.map((e) => e.kind),
    diagnostics: events.filter((e) => e.kind === 'diagnostic').map((e) => (e.kind === 'diagnostic' ? e.error.code : '')),
    close: events.find((e) => e.kind === 'close'),
    open: events.find((e) => e.kind === 'open'),
  };
  for (const e of events) {
    if (e.kind !== 'data' && e.kind !== 'gap') continue;
    if (e.connection !== connection) continue;
    const key = e.direction === 'clientToServer' ? 'c2s' : 's2c';
    const arr = out[key];
    if (e.offset !== next[key]) throw new Error(`${key}: event at offset ${e.offset}, expected ${next[key]}`);
    if (e.kind === 'data') {
      for (const b of e.bytes) arr.push(b);
      next[key] += e.bytes.length;
    } else {
      if (e.size <= 0) throw new Error(`${key}: gap of size ${e.size}`);
      out.gaps[key].push([e.offset, e.offset + e.size]);
      // Zero-fill small gaps only, so that bogus huge gaps do not exhaust memory.
      if (fillGaps) for (let i = 0; i < e.size; i++) arr.push(0);
      next[key] += e.size;
    }
  }
  return out;
}

export function text(bytes: number[]): string {
  return new TextDecoder().decode(new Uint8Array(bytes));
}
