/**
 * IP fragment reassembly (IPv4 and IPv6), bounded: at most `maxDatagrams`
 * datagrams and `maxBytes` fragment bytes are held; beyond that the oldest
 * datagram is dropped and reported. Fragments are copied, so they do not pin
 * the capture chunks they came from.
 */
import { copyBytes } from '../tcp/bytes.js';

export interface FragmentLimits {
  /** Datagrams being reassembled at once (default 256). */
  maxDatagrams?: number;
  /** Fragment bytes held in all (default 8 MiB). */
  maxBytes?: number;
}

interface Pending {
  /** In arrival order; an earlier fragment wins where fragments overlap. */
  pieces: { offset: number; bytes: Uint8Array }[];
  /** Length of the whole payload, known once the last fragment (MF = 0) arrived. */
  total: number;
  bytes: number;
}

/** IPv4/IPv6 payloads larger than this cannot exist (IPv6 jumbograms are not fragmented). */
const MAX_DATAGRAM_PAYLOAD = 65_535;

export class FragmentReassembler {
  private readonly pending = new Map<string, Pending>();
  private heldBytes = 0;
  private readonly maxDatagrams: number;
  private readonly maxBytes: number;
  /** Datagrams given up (limits); the caller reports them. */
  dropped = 0;

  constructor(limits: FragmentLimits = {}) {
    this.maxDatagrams = limits.maxDatagrams ?? 256;
    this.maxBytes = limits.maxBytes ?? 8 * 1024 * 1024;
  }

  get held(): number {
    return this.heldBytes;
  }

  /**
   * Adds one fragment (`offset` in bytes within the datagram's payload). Returns
   * the reassembled payload when this fragment completes it, else null.
   * Returns undefined when the fragment is unusable (beyond the maximum size).
   */
  add(key: string, offset: number, more: boolean, bytes: Uint8Array): Uint8Array | null | undefined {
    if (offset + bytes.length > MAX_DATAGRAM_PAYLOAD) return undefined;
    let p = this.pending.get(key);
    if (!p) {
      while (this.pending.size >= this.maxDatagrams) this.dropOldest();
      p = { pieces: [], total: -1, bytes: 0 };
      this.pending.set(key, p);
    }
    while (this.heldBytes + bytes.length > this.maxBytes && this.pending.size > 1) this.dropOldest(key);
    p.pieces.push({ offset, bytes: copyBytes(bytes) });
    p.bytes += bytes.length;
    this.heldBytes += bytes.length;
    if (!more) p.total = offset + bytes.length;
    if (p.total < 0) return null;
    // Complete when the pieces cover [0, total) without a hole.
    const sorted = [...p.pieces].sort((a, b) => a.offset - b.offset);
    let covered = 0;
    for (const piece of sorted) {
      if (piece.offset > covered) return null;
      covered = Math.max(covered, piece.offset + piece.bytes.length);
    }
    if (covered < p.total) return null;
    const out = new Uint8Array(p.total);
    for (let i = p.pieces.length - 1; i >= 0; i--) {
      const piece = p.pieces[i]!;
      const room = p.total - piece.offset;
      if (room > 0) out.set(room < piece.bytes.length ? piece.bytes.subarray(0, room) : piece.bytes, piece.offset);
    }
    this.forget(key, p);
    return out;
  }

  private dropOldest(keep?: string): void {
    for (const [k, p] of this.pending) {
      if (k === keep) continue;
      this.forget(k, p);
      this.dropped++;
      return;
    }
  }

  private forget(key: string, p: Pending): void {
    this.pending.delete(key);
    this.heldBytes -= p.bytes;
  }
}
