/**
 * A pcapng writer for byte streams that were not captured from a wire (the
 * live tap): one section, one Ethernet interface, and enhanced packet blocks
 * carrying synthetic Ethernet / IPv4-or-IPv6 / TCP framing around the real
 * bytes with their real timestamps. Wireshark, tshark and our own reader
 * reassemble the streams back to the same bytes.
 *
 * Blocks are little-endian. Timestamps are written in microseconds (the
 * default `if_tsresol`).
 */
import { concatBytes } from '../common/bytes.js';
import type { Direction } from '../common/errors.js';
import { parseAddress, TCP_FLAG } from '../tcp/segment.js';
import type { ConnectionEvent, Endpoint, Timestamp } from '../tcp/types.js';
import { BLOCK_EPB, BLOCK_IDB, BLOCK_SHB, BYTE_ORDER_MAGIC } from './pcapng.js';
import { LINKTYPE } from './types.js';

const SHB_OPT_USERAPPL = 4;
const IF_NAME = 2;
const ETH_HEADER = 14;
const IPV4_HEADER = 20;
const IPV6_HEADER = 40;
const TCP_HEADER = 20;
const MAX_IPV4_PAYLOAD = 65535 - IPV4_HEADER - TCP_HEADER;

export interface PcapngWriterOptions {
  /** shb_userappl option (default "kubewire"). */
  application?: string;
  /** if_name of the single interface (default "kubewire"). */
  interfaceName?: string;
}

/** Builds pcapng blocks; concatenate `header()` then any number of `packet()` blocks. */
export class PcapngWriter {
  constructor(private readonly options: PcapngWriterOptions = {}) {}

  /** Section header block followed by the interface description block (Ethernet, no snaplen). */
  header(): Uint8Array {
    const appl = new TextEncoder().encode(this.options.application ?? 'kubewire');
    const name = new TextEncoder().encode(this.options.interfaceName ?? 'kubewire');
    // SHB: type | len | magic | major 1 | minor 0 | section length −1 | options | len
    const shbOpts = optionBytes([[SHB_OPT_USERAPPL, appl]]);
    const shb = block(BLOCK_SHB, 16 + shbOpts.length, (v, b) => {
      v.setUint32(8, BYTE_ORDER_MAGIC, true);
      v.setUint16(12, 1, true);
      v.setUint16(14, 0, true);
      v.setInt32(16, -1, true);
      v.setInt32(20, -1, true);
      b.set(shbOpts, 24);
    });
    // IDB: type | len | link type | reserved | snaplen (0 = unlimited) | options | len
    const idbOpts = optionBytes([[IF_NAME, name]]);
    const idb = block(BLOCK_IDB, 8 + idbOpts.length, (v, b) => {
      v.setUint16(8, LINKTYPE.ETHERNET, true);
      v.setUint32(12, 0, true);
      b.set(idbOpts, 16);
    });
    const out = new Uint8Array(shb.length + idb.length);
    out.set(shb, 0);
    out.set(idb, shb.length);
    return out;
  }

  /** An enhanced packet block for `frame` on interface 0 at `time` (µs since the epoch). */
  packet(frame: Uint8Array, time: Timestamp): Uint8Array {
    const us = Math.max(0, Math.round(time));
    const padded = (frame.length + 3) & ~3;
    return block(BLOCK_EPB, 20 + padded, (v, b) => {
      v.setUint32(8, 0, true);
      v.setUint32(12, Math.floor(us / 4294967296), true);
      v.setUint32(16, us % 4294967296, true);
      v.setUint32(20, frame.length, true);
      v.setUint32(24, frame.length, true);
      b.set(frame, 28);
    });
  }
}

function block(type: number, bodyLength: number, fill: (v: DataView, b: Uint8Array) => void): Uint8Array {
  const len = 12 + bodyLength;
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, len, true);
  fill(v, b);
  v.setUint32(len - 4, len, true);
  return b;
}

function optionBytes(options: [number, Uint8Array][]): Uint8Array {
  let n = 4; // opt_endofopt
  for (const [, value] of options) n += 4 + ((value.length + 3) & ~3);
  const out = new Uint8Array(n);
  const v = new DataView(out.buffer);
  let o = 0;
  for (const [code, value] of options) {
    v.setUint16(o, code, true);
    v.setUint16(o + 2, value.length, true);
    out.set(value, o + 4);
    o += 4 + ((value.length + 3) & ~3);
  }
  return out;
}

export interface SyntheticConnectionOptions {
  client: Endpoint;
  server: Endpoint;
  /** Largest payload per segment (default 32768; at most 65495 for IPv4). */
  mss?: number;
  /** Initial sequence numbers (default fixed values that wrap early, to exercise readers). */
  clientIsn?: number;
  serverIsn?: number;
  /** Compute IPv4 and TCP checksums (default true; tools flag wrong ones). */
  checksums?: boolean;
}

/**
 * Synthetic framing for one TCP connection: a handshake, data segments (each
 * acknowledging everything the peer sent), and a FIN or RST ending. Every
 * method returns complete pcapng blocks from `writer`.
 */
export class SyntheticTcpConnection {
  private readonly mss: number;
  private readonly checksums: boolean;
  private readonly v6: boolean;
  private readonly addr: Record<Direction, [Uint8Array, Uint8Array]>;
  private readonly ports: Record<Direction, [number, number]>;
  private readonly next: Record<Direction, number>;
  private ipId = 1;

  constructor(
    private readonly writer: PcapngWriter,
    options: SyntheticConnectionOptions,
  ) {
    this.v6 = options.client.address.includes(':');
    this.mss = Math.max(1, Math.min(options.mss ?? 32768, MAX_IPV4_PAYLOAD - (this.v6 ? 20 : 0)));
    this.checksums = options.checksums ?? true;
    const c = addressBytes(options.client.address);
    const s = addressBytes(options.server.address);
    this.addr = { clientToServer: [c, s], serverToClient: [s, c] };
    this.ports = {
      clientToServer: [options.client.port, options.server.port],
      serverToClient: [options.server.port, options.client.port],
    };
    this.next = {
      clientToServer: (options.clientIsn ?? 0xfffff000) >>> 0,
      serverToClient: (options.serverIsn ?? 0x7ffff000) >>> 0,
    };
  }

  /** SYN, SYN-ACK, ACK. */
  open(time: Timestamp): Uint8Array[] {
    const out = [
      this.segment('clientToServer', TCP_FLAG.SYN, EMPTY, time, false),
      this.segment('serverToClient', TCP_FLAG.SYN | TCP_FLAG.ACK, EMPTY, time, true),
    ];
    this.next.clientToServer = (this.next.clientToServer + 1) >>> 0;
    this.next.serverToClient = (this.next.serverToClient + 1) >>> 0;
    out.push(this.segment('clientToServer', TCP_FLAG.ACK, EMPTY, time, true));
    return out;
  }

  /** `bytes` sent in `direction`, cut into segments of at most the MSS. */
  data(direction: Direction, bytes: Uint8Array, time: Timestamp): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let o = 0; o < bytes.length; o += this.mss) {
      const part = bytes.subarray(o, Math.min(bytes.length, o + this.mss));
      out.push(this.segment(direction, TCP_FLAG.ACK | TCP_FLAG.PSH, part, time, true));
      this.next[direction] = (this.next[direction] + part.length) >>> 0;
    }
    return out;
  }

  /**
   * Bytes that were not seen (a gap): the sequence number moves on without a
   * segment, so readers see a hole that the peer's next ACK covers.
   */
  skip(direction: Direction, size: number): void {
    this.next[direction] = (this.next[direction] + size) >>> 0;
  }

  /** FIN from `first`, FIN from the other side, final ACK. */
  close(time: Timestamp, first: Direction = 'clientToServer'): Uint8Array[] {
    const second: Direction = first === 'clientToServer' ? 'serverToClient' : 'clientToServer';
    const out = [this.segment(first, TCP_FLAG.FIN | TCP_FLAG.ACK, EMPTY, time, true)];
    this.next[first] = (this.next[first] + 1) >>> 0;
    out.push(this.segment(second, TCP_FLAG.FIN | TCP_FLAG.ACK, EMPTY, time, true));
    this.next[second] = (this.next[second] + 1) >>> 0;
    out.push(this.segment(first, TCP_FLAG.ACK, EMPTY, time, true));
    return out;
  }

  /** A RST from `from`. */
  reset(time: Timestamp, from: Direction = 'clientToServer'): Uint8Array[] {
    return [this.segment(from, TCP_FLAG.RST | TCP_FLAG.ACK, EMPTY, time, true)];
  }

  private segment(direction: Direction, flags: number, payload: Uint8Array, time: Timestamp, ack: boolean): Uint8Array {
    const peer: Direction = direction === 'clientToServer' ? 'serverToClient' : 'clientToServer';
    const [src, dst] = this.addr[direction];
    const [sport, dport] = this.ports[direction];
    const ipHeader = this.v6 ? IPV6_HEADER : IPV4_HEADER;
    const frame = new Uint8Array(ETH_HEADER + ipHeader + TCP_HEADER + payload.length);
    const v = new DataView(frame.buffer);
    // Ethernet: locally administered MACs, 02:00:00:00:00:01 (client) / :02 (server).
    frame[0] = 2;
    frame[5] = direction === 'clientToServer' ? 2 : 1;
    frame[6] = 2;
    frame[11] = direction === 'clientToServer' ? 1 : 2;
    v.setUint16(12, this.v6 ? 0x86dd : 0x0800);
    const ip = ETH_HEADER;
    const tcpLength = TCP_HEADER + payload.length;
    if (this.v6) {
      v.setUint32(ip, 0x60000000);
      v.setUint16(ip + 4, tcpLength);
      frame[ip + 6] = 6;
      frame[ip + 7] = 64;
      frame.set(src, ip + 8);
      frame.set(dst, ip + 24);
    } else {
      frame[ip] = 0x45;
      v.setUint16(ip + 2, IPV4_HEADER + tcpLength);
      v.setUint16(ip + 4, this.ipId++ & 0xffff);
      v.setUint16(ip + 6, 0x4000); // DF
      frame[ip + 8] = 64;
      frame[ip + 9] = 6;
      frame.set(src, ip + 12);
      frame.set(dst, ip + 16);
      if (this.checksums) v.setUint16(ip + 10, finish(sum16(frame, ip, IPV4_HEADER, 0)));
    }
    const t = ip + ipHeader;
    v.setUint16(t, sport);
    v.setUint16(t + 2, dport);
    v.setUint32(t + 4, this.next[direction]);
    v.setUint32(t + 8, ack ? this.next[peer] : 0);
    frame[t + 12] = (TCP_HEADER / 4) << 4;
    frame[t + 13] = flags;
    v.setUint16(t + 14, 65535);
    frame.set(payload, t + TCP_HEADER);
    if (this.checksums) {
      // Pseudo-header: addresses, protocol, TCP length.
      let s = sum16(src, 0, src.length, 0);
      s = sum16(dst, 0, dst.length, s);
      s += 6 + (tcpLength & 0xffff) + (tcpLength >>> 16);
      s = sum16(frame, t, tcpLength, s);
      v.setUint16(t + 16, finish(s));
    }
    return this.writer.packet(frame, time);
  }
}

const EMPTY = new Uint8Array(0);

function addressBytes(text: string): Uint8Array {
  const a = parseAddress(text);
  if (typeof a === 'number') return new Uint8Array([a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255]);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(a.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** One's-complement sum of 16-bit big-endian words (odd length: zero-padded). */
function sum16(b: Uint8Array, o: number, n: number, acc: number): number {
  let s = acc;
  const end = o + n - 1;
  let i = o;
  for (; i < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (i === end) s += b[i]! << 8;
  // Fold often enough to stay exact in a double.
  return (s & 0xffff) + Math.floor(s / 65536);
}

function finish(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/**
 * Connection events (from the live tap, or from reassembly) to pcapng blocks:
 * open → handshake, data → segments, gap → a hole in sequence space, close by
 * FIN or RST → the matching segments. Other closes write nothing.
 */
export class PcapngEventWriter {
  private readonly writer: PcapngWriter;
  private readonly conns = new Map<number, SyntheticTcpConnection>();

  constructor(private readonly options: PcapngWriterOptions & { mss?: number; checksums?: boolean } = {}) {
    this.writer = new PcapngWriter(options);
  }

  /** The section and interface header; write it first. */
  header(): Uint8Array {
    return this.writer.header();
  }

  /** The blocks that record `e` (often none). */
  event(e: ConnectionEvent): Uint8Array[] {
    switch (e.kind) {
      case 'open': {
        const c = new SyntheticTcpConnection(this.writer, {
          client: e.client,
          server: e.server,
          mss: this.options.mss,
          checksums: this.options.checksums,
        });
        this.conns.set(e.connection, c);
        return c.open(e.time);
      }
      case 'data':
        return this.conns.get(e.connection)?.data(e.direction, e.bytes, e.time) ?? [];
      case 'gap':
        this.conns.get(e.connection)?.skip(e.direction, e.size);
        return [];
      case 'close': {
        const c = this.conns.get(e.connection);
        this.conns.delete(e.connection);
        if (!c) return [];
        if (e.reason === 'fin') return c.close(e.time, e.direction);
        if (e.reason === 'rst') return c.reset(e.time, e.direction);
        return [];
      }
      case 'diagnostic':
        return [];
      default: {
        const never: never = e;
        return never;
      }
    }
  }
}

/** A whole pcapng file for a set of synthetic connections (tests, fixtures). */
export interface SyntheticExchange {
  client: Endpoint;
  server: Endpoint;
  /** Chunks in the order they were sent, with their times (µs). */
  chunks: { direction: Direction; bytes: Uint8Array; time: Timestamp }[];
  end?: 'fin' | 'rst' | 'none';
  mss?: number;
}

export function writeSyntheticPcapng(exchanges: SyntheticExchange[], options: PcapngWriterOptions = {}): Uint8Array {
  const w = new PcapngWriter(options);
  const blocks: Uint8Array[] = [w.header()];
  for (const ex of exchanges) {
    const c = new SyntheticTcpConnection(w, { client: ex.client, server: ex.server, mss: ex.mss });
    const t0 = ex.chunks[0]?.time ?? 0;
    blocks.push(...c.open(t0));
    let last = t0;
    for (const ch of ex.chunks) {
      blocks.push(...c.data(ch.direction, ch.bytes, ch.time));
      last = ch.time;
    }
    if (ex.end === 'rst') blocks.push(...c.reset(last));
    else if (ex.end !== 'none') blocks.push(...c.close(last));
  }
  return concatBytes(blocks);
}
