/**
 * Pins the Node zlib internals the synchronous contexts rely on, so that a
 * Node upgrade that changes them fails here first.
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SPDY3_DICTIONARY } from '../../src/spdy/dictionary.js';
import { SyncDeflater, SyncInflater, ZlibFailure } from '../../src/spdy/zlib-sync.js';

describe('synchronous persistent zlib contexts', () => {
  it('Node’s own sync path closes its handle after one call (why we drive the handle ourselves)', () => {
    const inf = zlib.createInflate({ dictionary: Buffer.from(SPDY3_DICTIONARY) }) as unknown as {
      _processChunk(b: Buffer, flag: number): Buffer;
      _handle: unknown;
    };
    const block = Buffer.from('78f9e3c6a7c202a62346703a2b294a4dcc851625aca9a08006000000ffff', 'hex');
    inf._processChunk(block, zlib.constants.Z_SYNC_FLUSH);
    expect(inf._handle).toBeNull();
  });

  it('one deflate and one inflate context carry state across many blocks, synchronously', () => {
    const def = new SyncDeflater(SPDY3_DICTIONARY, 6);
    const inf = new SyncInflater(SPDY3_DICTIONARY, 16);
    const sizes: number[] = [];
    for (let i = 0; i < 200; i++) {
      const input = Buffer.from(`block ${i % 7} `.repeat(1 + (i % 50)));
      const { frame, length } = def.compress(input, input.length, 3);
      expect(frame.length).toBe(length + 3);
      // Every block ends on a sync-flush marker.
      expect(Buffer.from(frame.subarray(-4)).toString('hex')).toBe('0000ffff');
      const r = inf.inflate(frame.subarray(3), 1 << 20, 1 << 30);
      expect(r).toMatchObject({ inputLeft: 0, overLimit: false, overBudget: false, inflated: input.length });
      expect(inf.output.subarray(0, r.length).equals(input)).toBe(true);
      sizes.push(length);
    }
    // Repeats compress to back references into earlier blocks.
    expect(sizes[150]!).toBeLessThan(20);
  });

  it('output grows past the initial buffer up to the limit, then is only counted', () => {
    const def = new SyncDeflater(SPDY3_DICTIONARY);
    const inf = new SyncInflater(SPDY3_DICTIONARY, 16);
    const big = Buffer.alloc(100_000, 0x61);
    const r = inf.inflate(def.compress(big, big.length, 0).frame, 50_000, 1 << 30);
    expect(r).toMatchObject({ overLimit: true, overBudget: false, inflated: 100_000, length: 0, inputLeft: 0 });
    expect(inf.output.length).toBeLessThanOrEqual(50_001);
    // The context is still in step: the next block inflates.
    const next = def.compress(Buffer.from('ok'), 2, 0).frame;
    const r2 = inf.inflate(next, 50_000, 1 << 30);
    expect(inf.output.subarray(0, r2.length).toString()).toBe('ok');
  });

  it('stops at the budget', () => {
    const def = new SyncDeflater(SPDY3_DICTIONARY);
    const inf = new SyncInflater(SPDY3_DICTIONARY);
    const big = Buffer.alloc(1_000_000);
    const r = inf.inflate(def.compress(big, big.length, 0).frame, 1000, 100_000);
    expect(r.overBudget).toBe(true);
    expect(r.inflated).toBeLessThan(200_000);
  });

  it('a zlib error is a ZlibFailure and breaks the context', () => {
    const inf = new SyncInflater(SPDY3_DICTIONARY);
    expect(() => inf.inflate(new Uint8Array([0xff, 0xff, 0xff, 0xff]), 100, 100)).toThrow(ZlibFailure);
    expect(inf.broken).toBe(true);
    expect(() => inf.inflate(new Uint8Array([0x78]), 100, 100)).toThrow(ZlibFailure);
  });
});
