/**
 * HPACK header block decoding (RFC 7541), one decoder per direction of a
 * connection: the dynamic table is the state both ends keep in step, so
 * blocks must come in wire order, each whole (HEADERS plus CONTINUATIONs).
 *
 *   Indexed                1xxxxxxx  index (7-bit prefix)
 *   Literal, indexing      01xxxxxx  name index (6) or 0 + name, value
 *   Table size update      001xxxxx  new maximum (5)
 *   Literal, never indexed 0001xxxx  name index (4) or 0 + name, value
 *   Literal, not indexed   0000xxxx  name index (4) or 0 + name, value
 *   String                 Hxxxxxxx  length (7), octets (Huffman when H)
 *
 * A decoding error leaves the table out of step for good: the decoder then
 * refuses every later block (`failed`), as an endpoint would close the
 * connection with COMPRESSION_ERROR.
 */
import type { KubewireError } from '../../common/errors.js';
import { http2Error } from '../errors.js';
import { decodeHuffman } from './huffman.js';
import { STATIC_TABLE } from './static-table.js';

export type HeaderField = [name: string, value: string];

export interface HpackDecoderOptions {
  /** SETTINGS_HEADER_TABLE_SIZE the decoding side allows (default 4096). */
  maxTableSize?: number;
  /** Largest decoded header list (names + values + 32 per field, as §4.1 counts). Default 1 MiB. */
  maxHeaderListSize?: number;
  /**
   * The most dynamic table this decoder keeps, whatever SETTINGS allow (a
   * capture may announce 4 GiB). Default 1 MiB; an encoder that goes past it
   * gets `HTTP2_HPACK_SIZE_UPDATE_TOO_LARGE`.
   */
  tableSizeLimit?: number;
}

/** §4.1: an entry's size is its name and value octets plus 32. */
const ENTRY_OVERHEAD = 32;
/** Integers past this are no real header block (and would lose precision). */
const MAX_INTEGER = 2 ** 31 - 1;

const utf8 = new TextDecoder('utf-8');

export class HpackDecoder {
  /** Newest first. */
  private readonly dynamic: Array<{ name: string; value: string; nameOctets: number; size: number }> = [];
  private size = 0;
  private maxSize: number;
  private allowedMax: number;
  private readonly maxList: number;
  private readonly limit: number;
  private failure: KubewireError | null = null;

  constructor(opts: HpackDecoderOptions = {}) {
    this.allowedMax = this.maxSize = opts.maxTableSize ?? 4096;
    this.maxList = opts.maxHeaderListSize ?? 1024 * 1024;
    this.limit = opts.tableSizeLimit ?? 1024 * 1024;
  }

  /** The decoding side announced a new SETTINGS_HEADER_TABLE_SIZE: the encoder may now go up to it. */
  allowTableSize(n: number): void {
    this.allowedMax = Math.min(this.limit, Math.max(this.allowedMax, n));
  }

  /** Current dynamic table size in §4.1 octets (for tests). */
  get tableSize(): number {
    return this.size;
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  /**
   * Decode one whole header block. `offset`: where the block starts in its
   * byte stream, for errors. Throws a KubewireError (code `HTTP2_HPACK_*`)
   * on a malformed block, and on every block after one.
   */
  decode(block: Uint8Array, offset = 0): HeaderField[] {
    if (this.failure) throw this.failure;
    try {
      return this.decodeBlock(block, offset);
    } catch (e) {
      this.failure = e as KubewireError;
      throw e;
    }
  }

  private decodeBlock(b: Uint8Array, base: number): HeaderField[] {
    const out: HeaderField[] = [];
    let listSize = 0;
    let p = 0;
    let fieldSeen = false;
    const fail = (code: string, message: string, at: number): never => {
      throw http2Error(code, 'connection', message, { offset: base + at });
    };
    const int = (prefix: number): number => {
      const at = p;
      if (p >= b.length) fail('HTTP2_HPACK_TRUNCATED', 'header block ends inside an integer', at);
      const mask = (1 << prefix) - 1;
      let v = b[p++]! & mask;
      if (v < mask) return v;
      let shift = 0;
      for (;;) {
        if (p >= b.length) fail('HTTP2_HPACK_TRUNCATED', 'header block ends inside an integer', at);
        const c = b[p++]!;
        v += (c & 0x7f) * 2 ** shift;
        shift += 7;
        if (v > MAX_INTEGER) fail('HTTP2_HPACK_INTEGER_OVERFLOW', 'integer too large', at);
        if ((c & 0x80) === 0) return v;
      }
    };
    /** A string literal and its length in octets (the table counts octets, whatever the text decodes to). */
    const str = (): [string, number] => {
      const at = p;
      if (p >= b.length) fail('HTTP2_HPACK_TRUNCATED', 'header block ends before a string', at);
      const huffman = (b[p]! & 0x80) !== 0;
      const len = int(7);
      if (p + len > b.length) fail('HTTP2_HPACK_TRUNCATED', `string of ${len} bytes runs past the block's end`, at);
      const raw = b.subarray(p, p + len);
      p += len;
      if (!huffman) return [utf8.decode(raw), raw.length];
      const r = decodeHuffman(raw);
      if (!r.ok) return fail('HTTP2_HPACK_BAD_HUFFMAN', r.why, at);
      return [utf8.decode(r.bytes), r.bytes.length];
    };
    /** name, value, and their octet lengths */
    const entry = (index: number, at: number): [string, string, number, number] => {
      if (index === 0) fail('HTTP2_HPACK_BAD_INDEX', 'index 0', at);
      if (index <= STATIC_TABLE.length) {
        const [n, v] = STATIC_TABLE[index - 1]!;
        return [n, v, n.length, v.length];
      }
      const e = this.dynamic[index - STATIC_TABLE.length - 1];
      if (!e) fail('HTTP2_HPACK_BAD_INDEX', `index ${index} beyond the tables (${STATIC_TABLE.length} static, ${this.dynamic.length} dynamic)`, at);
      return [e!.name, e!.value, e!.nameOctets, e!.size - e!.nameOctets - ENTRY_OVERHEAD];
    };
    const emit = (name: string, value: string, octets: number, at: number) => {
      listSize += octets + ENTRY_OVERHEAD;
      if (listSize > this.maxList) fail('HTTP2_HPACK_LIST_TOO_LARGE', `header list over ${this.maxList} bytes`, at);
      out.push([name, value]);
      fieldSeen = true;
    };
    while (p < b.length) {
      const at = p;
      const c = b[p]!;
      if (c & 0x80) {
        const [n, v, no, vo] = entry(int(7), at);
        emit(n, v, no + vo, at);
      } else if (c & 0x40) {
        const idx = int(6);
        const [name, nameOctets] = idx === 0 ? str() : nameOf(entry(idx, at));
        const [value, valueOctets] = str();
        emit(name, value, nameOctets + valueOctets, at);
        this.insert(name, value, nameOctets, valueOctets);
      } else if (c & 0x20) {
        // §4.2: a size update comes first in a block
        if (fieldSeen) fail('HTTP2_HPACK_LATE_SIZE_UPDATE', 'dynamic table size update after a header field', at);
        const n = int(5);
        if (n > this.allowedMax) fail('HTTP2_HPACK_SIZE_UPDATE_TOO_LARGE', `table size ${n} over the allowed ${this.allowedMax}`, at);
        this.maxSize = n;
        this.evict(0);
      } else {
        const idx = int(4);
        const [name, nameOctets] = idx === 0 ? str() : nameOf(entry(idx, at));
        const [value, valueOctets] = str();
        emit(name, value, nameOctets + valueOctets, at);
      }
    }
    return out;
  }

  private insert(name: string, value: string, nameOctets: number, valueOctets: number): void {
    const size = nameOctets + valueOctets + ENTRY_OVERHEAD;
    // §4.4: an entry larger than the table empties it and is not added
    this.evict(size);
    if (size > this.maxSize) return;
    this.dynamic.unshift({ name, value, nameOctets, size });
    this.size += size;
  }

  /** Evict the oldest entries until `room` more octets fit. */
  private evict(room: number): void {
    while (this.dynamic.length > 0 && this.size + room > this.maxSize) this.size -= this.dynamic.pop()!.size;
  }
}

function nameOf(e: [string, string, number, number]): [string, number] {
  return [e[0], e[2]];
}
