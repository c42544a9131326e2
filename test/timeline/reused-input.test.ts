/**
 * The timeline's input bytes are views valid only until the next event: a
 * reader may reuse its buffers. Whatever the decoders keep (held chunks of a
 * WebSocket session still deciding what it is, error-stream bytes, message
 * previews, HTTP/2 fragments) must be a copy — and `Buffer#slice` is a view,
 * not a copy. Every fixture and every real capture of other software, fed
 * as Buffers overwritten right after each push, decodes as when each input
 * stays untouched. The same with `ownsInput` (the live tap's decoding, which
 * reads its chunks where they lie in a ring reused at once, and unmasks
 * WebSocket payloads in place).
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCaptureToConnections, type ConnectionEvent } from '../../src/tcp/index.js';
import { SessionDecoder, type DecodeSummary } from '../../src/timeline/index.js';
import { sharedDir } from '../helpers/shared-captures.js';

const FIXTURES = resolve(import.meta.dirname, '..', '..', 'fixtures');
const external = sharedDir('external-captures');

function captures(): string[] {
  const own = readdirSync(FIXTURES).filter((f) => /\.pcapng?$/.test(f) && !/tls/i.test(f)).map((f) => join(FIXTURES, f));
  const other = external ? readdirSync(external).filter((f) => /^zeek__zeek__.*\.pcap$|websocket-sip\.pcapng$/.test(f)).map((f) => join(external, f)) : [];
  return [...own, ...other].sort();
}

async function summaryOf(path: string, reuse: boolean, ownsInput = false): Promise<DecodeSummary> {
  const dec = new SessionDecoder({ ownsInput });
  let scratch = Buffer.alloc(0);
  await decodeCaptureToConnections(path, (e: ConnectionEvent) => {
    if (!reuse || e.kind !== 'data') {
      dec.push(e);
      return;
    }
    // one buffer for every input, as a reader that reuses its buffer hands it out
    if (scratch.length < e.bytes.length) scratch = Buffer.alloc(Math.max(e.bytes.length, 2 * scratch.length));
    const view = scratch.subarray(0, e.bytes.length);
    view.set(e.bytes);
    dec.push({ ...e, bytes: view });
    view.fill(0xa5);
  });
  dec.finish();
  return dec.summary();
}

describe('bytes kept by the timeline survive the reuse of the input buffer', () => {
  for (const path of captures()) {
    it(path.split('/').pop()!, async () => {
      const [kept, reused] = await Promise.all([summaryOf(path, false), summaryOf(path, true)]);
      expect(reused).toEqual(kept);
    });
  }
});

describe('the same when the decoder owns its input and unmasks in place (the tap)', () => {
  for (const path of captures()) {
    it(path.split('/').pop()!, async () => {
      const [kept, reused] = await Promise.all([summaryOf(path, false), summaryOf(path, true, true)]);
      expect(reused).toEqual(kept);
    });
  }
});
