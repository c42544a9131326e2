/**
 * Bytes lost from a capture (a kernel that dropped packets) take whole TLS
 * records with them; the sequence numbers of the records after the gap are
 * then unknown. Traffic like kubectl's SPDY mixes 16 KiB records with tiny
 * ones, so a gap can hold many more records than its size suggests: the
 * direction must still find its place and decode everything after the gap.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { TlsDecoder, TlsKeyLog, TLS_ERROR, type TlsEvent } from '../../src/tls/index.js';
import { recordTls, type RecordedTls } from './node-tls.js';

/** Server writes: a 20-byte frame, then a 17 KB one (two records), thirty times, with client writes between. */
const MESSAGES: Buffer[] = [];
for (let i = 0; i < 30; i++) {
  MESSAGES.push(Buffer.from(`c${i}`));
  MESSAGES.push(Buffer.concat([Buffer.alloc(20, i), Buffer.alloc(17_000, 255 - i)]));
}

let versions: Array<{ name: string; r: RecordedTls }> = [];
beforeAll(async () => {
  versions = [
    { name: 'TLS 1.3', r: await recordTls({ messages: MESSAGES }) },
    { name: 'TLS 1.2', r: await recordTls({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256', messages: MESSAGES }) },
  ];
}, 60_000);

function recordStarts(b: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i + 5 <= b.length; i += 5 + b.readUInt16BE(i + 3)) out.push(i);
  return out;
}

function decodeWithGap(r: RecordedTls, from: number, to: number): { plain: Buffer; events: TlsEvent[] } {
  const keys = new TlsKeyLog();
  keys.addText(r.keylog);
  keys.flush();
  const tls = new TlsDecoder({ keys });
  const events: TlsEvent[] = [];
  events.push(...tls.push('clientToServer', r.c2s, 0));
  events.push(...tls.push('serverToClient', r.s2c.subarray(0, from), 0));
  events.push(...tls.gap('serverToClient', to - from));
  events.push(...tls.push('serverToClient', r.s2c.subarray(to), to));
  events.push(...tls.end());
  const plain = Buffer.concat(events.flatMap((e) => (e.kind === 'plaintext' && e.direction === 'serverToClient' ? [e.bytes] : [])));
  return { plain, events };
}

describe('a gap of many records', () => {
  it('everything after the gap decodes, whatever records it took; the only diagnostic is the gap', () => {
    for (const { name, r } of versions) {
      const starts = recordStarts(r.s2c);
      // Records after the handshake (the last few of the server's first flight are handshake).
      const firstData = starts.findIndex((s) => s > r.s2c.length / 20);
      fc.assert(
        fc.property(fc.integer({ min: firstData, max: starts.length - 3 }), fc.integer({ min: 1, max: 70 }), (i, n) => {
          const j = Math.min(i + n, starts.length - 1);
          const { plain, events } = decodeWithGap(r, starts[i]!, starts[j]!);
          const diags = events.flatMap((e) => (e.kind === 'diagnostic' ? [e.error.code] : []));
          expect(diags, name).toEqual([TLS_ERROR.GAP]);
          // Before the gap and after it, the server's plaintext as sent.
          const sent = r.sentByServer;
          let p = 0;
          while (p < plain.length && plain[p] === sent[p]) p++;
          const lost = sent.length - plain.length;
          expect(lost).toBeGreaterThan(0);
          expect(plain.subarray(p).equals(sent.subarray(p + lost))).toBe(true);
        }),
        { numRuns: 40 },
      );
    }
  });
});
