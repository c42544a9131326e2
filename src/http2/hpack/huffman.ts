/**
 * HPACK Huffman decoding (RFC 7541 §5.2) over a binary tree built once,
 * on first use, from the code table. One bit at a time: header strings are
 * short, and this keeps the decoder small and obviously right.
 */
import { EOS_BITS, HUFFMAN_CODES } from './huffman-table.js';

const EOS = 256;
/** tree[2n] / tree[2n+1]: the 0 / 1 child of node n; a negative entry -1-s is the leaf for symbol s; 0: none. */
let tree: Int32Array | null = null;

function buildTree(): Int32Array {
  const t = new Int32Array(2 * 512);
  let nodes = 1;
  const add = (sym: number, code: number, bits: number) => {
    let n = 0;
    for (let i = bits - 1; i >= 0; i--) {
      const slot = 2 * n + ((code >>> i) & 1);
      if (i === 0) t[slot] = -1 - sym;
      else {
        if (t[slot] === 0) t[slot] = nodes++;
        n = t[slot]!;
      }
    }
  };
  HUFFMAN_CODES.forEach((c, sym) => {
    const [bits, hex] = c.split(':');
    add(sym, parseInt(hex!, 16), Number(bits));
  });
  add(EOS, 0x3fffffff, EOS_BITS);
  return t;
}

export type HuffmanResult = { ok: true; bytes: Uint8Array } | { ok: false; why: string };

/** Decode a Huffman-coded string literal. */
export function decodeHuffman(src: Uint8Array): HuffmanResult {
  const t = (tree ??= buildTree());
  // every code is at least 5 bits: the output is at most 8/5 of the input
  const out = new Uint8Array(Math.ceil((src.length * 8) / 5));
  let o = 0;
  let node = 0;
  /** Bits read since the last whole symbol, and whether they were all ones. */
  let pending = 0;
  let allOnes = true;
  for (let i = 0; i < src.length; i++) {
    const byte = src[i]!;
    for (let b = 7; b >= 0; b--) {
      const bit = (byte >> b) & 1;
      const next = t[2 * node + bit]!;
      pending++;
      if (bit === 0) allOnes = false;
      if (next < 0) {
        const sym = -1 - next;
        // §5.2: a string that contains the EOS symbol is a decoding error
        if (sym === EOS) return { ok: false, why: 'EOS symbol inside a Huffman string' };
        out[o++] = sym;
        node = 0;
        pending = 0;
        allOnes = true;
      } else {
        node = next;
      }
    }
  }
  // §5.2: padding is the most significant bits of EOS (all ones), strictly shorter than 8 bits
  if (pending > 7) return { ok: false, why: `Huffman padding of ${pending} bits (at most 7)` };
  if (!allOnes) return { ok: false, why: 'Huffman padding that is not all ones' };
  return { ok: true, bytes: out.subarray(0, o) };
}

/** Encode (for tests and the test kit): codes packed most significant bit first, padded with ones. */
export function encodeHuffman(src: Uint8Array): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let n = 0;
  for (const byte of src) {
    const [bits, hex] = HUFFMAN_CODES[byte]!.split(':');
    const len = Number(bits);
    const code = parseInt(hex!, 16);
    for (let i = len - 1; i >= 0; i--) {
      acc = (acc << 1) | ((code >>> i) & 1);
      if (++n === 8) {
        out.push(acc & 0xff);
        acc = 0;
        n = 0;
      }
    }
  }
  if (n > 0) out.push(((acc << (8 - n)) | ((1 << (8 - n)) - 1)) & 0xff);
  return Uint8Array.from(out);
}
