/**
 * The out-of-order buffer of a half-stream: pieces sorted by stream offset,
 * never overlapping. Where a new segment overlaps buffered bytes the buffered
 * copy wins; a different new copy is a conflict the caller reports.
 */
import { copyBytes } from './bytes.js';
import type { HalfStream, Piece } from './connection.js';

/**
 * What one buffered piece costs beyond its bytes (object, array slot). It is
 * charged with the bytes against every buffer limit, so that many tiny
 * segments are held in no more memory than a few large ones.
 */
export const PIECE_OVERHEAD_BYTES = 64;

/** What a piece counts against the buffer limits. */
export function pieceCost(p: Piece): number {
  return p.bytes === null ? 0 : p.bytes.length + PIECE_OVERHEAD_BYTES;
}

export interface InsertResult {
  /** Cost newly buffered (`pieceCost` of the pieces added). */
  added: number;
  /** Stream offset of the first conflicting byte, or −1. */
  conflictAt: number;
}

/** Buffer [start, end) of a segment; `bytes` null marks bytes known to be missing (snaplen). */
export function insertPiece(
  h: HalfStream,
  start: number,
  end: number,
  bytes: Uint8Array | null,
  time: number,
  packet: number,
): InsertResult {
  const pieces = h.pieces;
  const result: InsertResult = { added: 0, conflictAt: -1 };
  const add = (index: number, a: number, b: number) => {
    // A copy: the capture chunk behind `bytes` must not stay alive (or be reused) while we wait.
    const copy = bytes === null ? null : copyBytes(bytes, a - start, b - start);
    pieces.splice(index, 0, { start: a, end: b, bytes: copy, time, packet });
    if (copy !== null) result.added += copy.length + PIECE_OVERHEAD_BYTES;
  };
  const last = pieces[pieces.length - 1];
  if (last === undefined || last.end <= start) {
    add(pieces.length, start, end);
    return result;
  }
  // The first piece that ends after `start` (binary search: tiny reordered
  // segments can leave tens of thousands of pieces behind one hole).
  let lo = 0;
  let hi = pieces.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pieces[mid]!.end <= start) lo = mid + 1;
    else hi = mid;
  }
  let i = lo;
  let cur = start;
  while (cur < end) {
    const p = pieces[i];
    if (p === undefined || p.start >= end) {
      add(i, cur, end);
      break;
    }
    if (p.start > cur) {
      add(i, cur, p.start);
      i++;
    }
    if (bytes !== null && p.bytes !== null && result.conflictAt < 0) {
      const a = Math.max(cur, p.start);
      const b = Math.min(end, p.end);
      for (let x = a; x < b; x++) {
        if (bytes[x - start] !== p.bytes[x - p.start]) {
          result.conflictAt = x;
          break;
        }
      }
    }
    cur = Math.max(cur, p.end);
    i++;
  }
  return result;
}
