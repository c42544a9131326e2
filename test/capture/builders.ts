/** Hand-built capture files and frames for golden tests. Every layout is spelled out here, independent of the readers. */

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function ascii(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

class W {
  private bytes: number[] = [];
  constructor(private readonly le: boolean) {}
  u8(v: number) {
    this.bytes.push(v & 255);
    return this;
  }
  u16(v: number) {
    if (this.le) this.bytes.push(v & 255, (v >>> 8) & 255);
    else this.bytes.push((v >>> 8) & 255, v & 255);
    return this;
  }
  u32(v: number) {
    const b = [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
    this.bytes.push(...(this.le ? b.reverse() : b));
    return this;
  }
  raw(b: Uint8Array) {
    for (const x of b) this.bytes.push(x);
    return this;
  }
  pad4() {
    while (this.bytes.length % 4) this.bytes.push(0);
    return this;
  }
  get length() {
    return this.bytes.length;
  }
  done(): Uint8Array {
    return new Uint8Array(this.bytes);
  }
}

export interface PcapPacket {
  sec: number;
  frac: number;
  data: Uint8Array;
  origLen?: number;
}

export function pcapFile(opts: {
  le?: boolean;
  nanos?: boolean;
  linkType?: number;
  snaplen?: number;
  linkWordExtra?: number;
  packets: PcapPacket[];
}): Uint8Array {
  const w = new W(opts.le ?? true);
  w.u32(opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0);
  w.u32(opts.snaplen ?? 262144).u32(((opts.linkType ?? 1) | (opts.linkWordExtra ?? 0)) >>> 0);
  for (const p of opts.packets) {
    w.u32(p.sec).u32(p.frac).u32(p.data.length).u32(p.origLen ?? p.data.length).raw(p.data);
  }
  return w.done();
}

/** A pcapng block: type | total length | body (padded) | total length. */
export function ngBlock(le: boolean, type: number, body: Uint8Array, badTrailer = false): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const len = 12 + padded;
  const w = new W(le);
  w.u32(type).u32(len).raw(body).pad4().u32(badTrailer ? len + 4 : len);
  return w.done();
}

export function ngOptions(le: boolean, opts: [number, Uint8Array][]): Uint8Array {
  const w = new W(le);
  for (const [code, v] of opts) w.u16(code).u16(v.length).raw(v).pad4();
  if (opts.length) w.u16(0).u16(0);
  return w.done();
}

export function shb(le: boolean): Uint8Array {
  const w = new W(le);
  w.u32(0x1a2b3c4d).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff);
  w.raw(ngOptions(le, [[4, ascii('kubewire-test')]]));
  return ngBlock(le, 0x0a0d0d0a, w.done());
}

export function idb(le: boolean, linkType: number, opts: [number, Uint8Array][] = [], snaplen = 0): Uint8Array {
  const w = new W(le);
  w.u16(linkType).u16(0).u32(snaplen).raw(ngOptions(le, opts));
  return ngBlock(le, 1, w.done());
}

export function epb(le: boolean, ifId: number, tsHigh: number, tsLow: number, data: Uint8Array, origLen?: number, opts: [number, Uint8Array][] = []): Uint8Array {
  const w = new W(le);
  w.u32(ifId).u32(tsHigh).u32(tsLow).u32(data.length).u32(origLen ?? data.length).raw(data).pad4();
  w.raw(ngOptions(le, opts));
  return ngBlock(le, 6, w.done());
}

export function spb(le: boolean, data: Uint8Array, origLen?: number): Uint8Array {
  const w = new W(le);
  w.u32(origLen ?? data.length).raw(data);
  return ngBlock(le, 3, w.done());
}

export function obsoletePb(le: boolean, ifId: number, tsHigh: number, tsLow: number, data: Uint8Array): Uint8Array {
  const w = new W(le);
  w.u16(ifId).u16(0).u32(tsHigh).u32(tsLow).u32(data.length).u32(data.length).raw(data);
  return ngBlock(le, 2, w.done());
}

export function u32le(v: number): Uint8Array {
  return new W(true).u32(v).done();
}

// ── frames ──────────────────────────────────────────────────────────

export function tcpHeader(o: { sport: number; dport: number; seq: number; ack?: number; flags?: number; options?: Uint8Array }, payload: Uint8Array): Uint8Array {
  const opt = o.options ?? new Uint8Array(0);
  const w = new W(false);
  w.u16(o.sport).u16(o.dport).u32(o.seq).u32(o.ack ?? 0);
  w.u8(((20 + opt.length) / 4) << 4).u8(o.flags ?? 0x18).u16(65535).u16(0).u16(0);
  w.raw(opt).raw(payload);
  return w.done();
}

export function ipv4(
  src: number[],
  dst: number[],
  payload: Uint8Array,
  o: { proto?: number; options?: Uint8Array; totalLength?: number; id?: number; fragOffset?: number; more?: boolean } = {},
): Uint8Array {
  const opt = o.options ?? new Uint8Array(0);
  const ihl = 20 + opt.length;
  const w = new W(false);
  w.u8(0x40 | (ihl / 4)).u8(0).u16(o.totalLength ?? ihl + payload.length).u16(o.id ?? 0);
  w.u16(((o.more ? 0x2000 : 0) | ((o.fragOffset ?? 0) / 8)) >>> 0).u8(64).u8(o.proto ?? 6).u16(0);
  w.raw(new Uint8Array(src)).raw(new Uint8Array(dst)).raw(opt).raw(payload);
  return w.done();
}

export function ipv6(src: Uint8Array, dst: Uint8Array, nextHeader: number, payload: Uint8Array, payloadLength?: number): Uint8Array {
  const w = new W(false);
  w.u32(0x60000000).u16(payloadLength ?? payload.length).u8(nextHeader).u8(64).raw(src).raw(dst).raw(payload);
  return w.done();
}

export function v6(last: number): Uint8Array {
  const a = new Uint8Array(16);
  a[0] = 0xfd;
  a[15] = last;
  return a;
}

export function ethernet(etherType: number, payload: Uint8Array, vlanTpids: number[] = [], padTo = 0): Uint8Array {
  const w = new W(false);
  w.raw(new Uint8Array([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]));
  for (const tpid of vlanTpids) w.u16(tpid).u16(0x0064);
  w.u16(etherType).raw(payload);
  while (w.length < padTo) w.u8(0);
  return w.done();
}
