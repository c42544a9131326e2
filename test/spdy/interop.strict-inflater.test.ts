/**
 * Go's spdystream inflates each header block with the session's one zlib
 * reader and fails the session unless the reader consumes exactly the
 * block's bytes. CPython's zlib (the system zlib, not Node's) reproduces
 * that check independently: decompressobj with the SPDY dictionary, one
 * object for all blocks, no unused or unconsumed input allowed.
 */
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SpdyFrameEncoder, type SpdyHeaders } from '../../src/spdy/index.js';
import { spdyHeaders } from '../../src/testing/spdy-arbitraries.js';
import { toHex } from './helpers.js';

const SCRIPT = String.raw`
import sys, zlib, json, struct
d = None
dictionary = bytes.fromhex(sys.argv[1])
out = []
for line in sys.stdin:
    block = bytes.fromhex(line.strip())
    if d is None:
        d = zlib.decompressobj(zdict=dictionary)
    raw = d.decompress(block)
    if d.unused_data or d.unconsumed_tail:
        print(json.dumps({"error": "compressed payload size was incorrect"})); sys.exit(0)
    n = struct.unpack(">I", raw[:4])[0]; p = 4; pairs = []
    for _ in range(n):
        l = struct.unpack(">I", raw[p:p+4])[0]; p += 4; k = raw[p:p+l].decode(); p += l
        l = struct.unpack(">I", raw[p:p+4])[0]; p += 4; v = raw[p:p+l].decode(); p += l
        pairs.append([k, v])
    if p != len(raw):
        print(json.dumps({"error": "trailing bytes"})); sys.exit(0)
    out.append(pairs)
print(json.dumps(out))
`;

function python(): string | null {
  for (const bin of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(bin, ['-c', 'import zlib'], { stdio: 'ignore' });
      return bin;
    } catch {
      /* try the next */
    }
  }
  return null;
}

const py = python();
const maybe = py ? it : it.skip;
if (!py) console.warn('python3 not found: skipping the independent-inflater interop test');

describe('an independent strict inflater (Go-style exact consumption) reads our header blocks', () => {
  maybe('1,000 blocks of random headers through one context, at levels 1, 6 and 9', async () => {
    const { SPDY3_DICTIONARY } = await import('../../src/spdy/index.js');
    const [blocks] = fc.sample(fc.array(spdyHeaders({ maxHeaders: 6 }), { minLength: 1000, maxLength: 1000 }), { numRuns: 1, seed: 42 });
    for (const level of [1, 6, 9]) {
      const enc = new SpdyFrameEncoder({ compressionLevel: level });
      const lines = blocks!.map((h, i) => toHex(enc.encode({ kind: 'headers', streamId: 2 * i + 1, headers: h }).subarray(12))).join('\n');
      const out = execFileSync(py!, ['-c', SCRIPT, toHex(SPDY3_DICTIONARY)], { input: lines + '\n', maxBuffer: 64 << 20, timeout: 60_000 });
      const decoded = JSON.parse(out.toString()) as SpdyHeaders[] | { error: string };
      expect(decoded).toEqual(blocks);
    }
  });
});
