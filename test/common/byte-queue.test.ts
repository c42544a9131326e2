import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ByteQueue } from '../../src/common/byte-queue.js';
import { chunkings, concatBytes } from '../../src/testing/chunking.js';

describe('ByteQueue', () => {
  it('reads the same bytes and integers whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 8, maxLength: 200 }).chain((b) => fc.tuple(fc.constant(b), chunkings(b))),
        ([bytes, chunks]) => {
          const q = new ByteQueue();
          for (const c of chunks) q.push(c);
          expect(q.length).toBe(bytes.length);
          const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          expect(q.uint32At(0)).toBe(dv.getUint32(0));
          expect(q.uint16At(3)).toBe(dv.getUint16(3));
          const a = q.take(5);
          expect(Array.from(a)).toEqual(Array.from(bytes.subarray(0, 5)));
          expect(q.offset).toBe(5);
          q.skip(1);
          const rest = q.take(q.length);
          expect(Array.from(rest)).toEqual(Array.from(bytes.subarray(6)));
          expect(q.length).toBe(0);
          expect(q.offset).toBe(bytes.length);
        },
      ),
    );
  });

  it('returns a view, not a copy, when the bytes lie in one chunk', () => {
    const buf = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const q = new ByteQueue();
    q.push(buf);
    const v = q.take(4);
    expect(v.buffer).toBe(buf.buffer);
    expect(concatBytes([v, q.take(2)])).toEqual(buf);
  });
});
