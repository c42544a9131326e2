import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SPDY3_DICTIONARY, SPDY3_DICTIONARY_ID } from '../../src/spdy/index.js';

describe('SPDY/3 dictionary', () => {
  it('is the 1,423-byte dictionary with the published SHA-256', () => {
    expect(SPDY3_DICTIONARY.length).toBe(1423);
    expect(createHash('sha256').update(SPDY3_DICTIONARY).digest('hex')).toBe(
      '51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02',
    );
  });

  it('starts with "options", ends with "enq=0." and has no trailing NUL', () => {
    expect(Buffer.from(SPDY3_DICTIONARY.subarray(0, 11)).toString('latin1')).toBe('\0\0\0\x07options');
    expect(Buffer.from(SPDY3_DICTIONARY.subarray(-6)).toString('latin1')).toBe('enq=0.');
  });

  it('has the Adler-32 carried as DICTID in a first header block', () => {
    let s1 = 1;
    let s2 = 0;
    for (const b of SPDY3_DICTIONARY) {
      s1 = (s1 + b) % 65521;
      s2 = (s2 + s1) % 65521;
    }
    expect(((s2 << 16) | s1) >>> 0).toBe(SPDY3_DICTIONARY_ID);
  });
});
