/**
 * HTTP/2 connections in the timeline: requests with method, path, status
 * and body lengths from h2c with prior knowledge, the same for any TCP
 * chunking, and garbage after the preface costs HTTP/2 diagnostics only.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CLIENT_PREFACE_BYTES, FLAG, FRAME_TYPE } from '../../src/http2/index.js';
import { C, S, cat, decode, rechunk, script, type Step } from './helpers.js';

function frame(type: number, flags: number, streamId: number, payload: Uint8Array | number[] = []): Uint8Array {
  const p = Uint8Array.from(payload);
  const out = new Uint8Array(9 + p.length);
  out[0] = p.length >> 16;
  out[1] = (p.length >> 8) & 0xff;
  out[2] = p.length & 0xff;
  out[3] = type;
  out[4] = flags;
  new DataView(out.buffer).setUint32(5, streamId);
  out.set(p, 9);
  return out;
}
const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const HEADERS_DONE = FLAG.END_HEADERS;

/** RFC 7541 C.3 request blocks on streams 1, 3, 5 (the dynamic table carries over), answered 200, 404 (with trailers), and reset. */
function conversation(): Step[] {
  return [
    { d: C, bytes: cat(CLIENT_PREFACE_BYTES, frame(FRAME_TYPE.SETTINGS, 0, 0)) },
    { d: S, bytes: cat(frame(FRAME_TYPE.SETTINGS, 0, 0, [0, 1, 0, 0, 0x10, 0]), frame(FRAME_TYPE.SETTINGS, FLAG.ACK, 0)) },
    { d: C, bytes: frame(FRAME_TYPE.HEADERS, HEADERS_DONE | FLAG.END_STREAM, 1, hex('828684410f7777772e6578616d706c652e636f6d')) },
    // a POST on stream 3: its header block in two frames, then a body
    {
      d: C,
      bytes: cat(
        frame(FRAME_TYPE.HEADERS, 0, 3, hex('838684be')),
        frame(FRAME_TYPE.CONTINUATION, HEADERS_DONE, 3, hex('58086e6f2d6361636865')),
        frame(FRAME_TYPE.DATA, 0, 3, [1, 2, 3]),
        frame(FRAME_TYPE.DATA, FLAG.END_STREAM, 3, [4]),
      ),
    },
    { d: S, bytes: cat(frame(FRAME_TYPE.HEADERS, HEADERS_DONE, 1, [0x88]), frame(FRAME_TYPE.DATA, FLAG.END_STREAM, 1, [0x68, 0x69])) },
    { d: S, bytes: cat(frame(FRAME_TYPE.HEADERS, HEADERS_DONE, 3, [0x8d]), frame(FRAME_TYPE.DATA, 0, 3, [7, 7, 7]), frame(FRAME_TYPE.HEADERS, HEADERS_DONE | FLAG.END_STREAM, 3, hex('0f0d0130'))) },
    { d: C, bytes: frame(FRAME_TYPE.HEADERS, HEADERS_DONE | FLAG.END_STREAM, 5, hex('828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565')) },
    { d: C, bytes: frame(FRAME_TYPE.RST_STREAM, 0, 5, [0, 0, 0, 8]) },
  ];
}

describe('HTTP/2 with prior knowledge', () => {
  it('lists each request with method, path, status and body lengths', () => {
    const { decoder, events } = decode(script(conversation()));
    expect(decoder.diagnosticCount).toBe(0);
    expect(decoder.summary().sessions).toEqual([]);
    expect(decoder.summary().requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', '/', 200],
      ['POST', '/', 404],
      ['GET', '/index.html', null],
    ]);
    const lines = events.flatMap((e) =>
      e.kind === 'http-request' ? [`> ${e.streamId} ${e.method} ${e.target} ${e.version} ${e.bodyLength}`] : e.kind === 'http-response' ? [`< ${e.streamId} ${e.status} ${e.bodyLength}`] : [],
    );
    expect(lines).toEqual(['> 1 GET / HTTP/2 0', '> 3 POST / HTTP/2 4', '< 1 200 2', '< 3 404 3', '> 5 GET /index.html HTTP/2 0']);
    const authority = events.find((e) => e.kind === 'http-request' && e.streamId === 5);
    expect(authority && authority.kind === 'http-request' && authority.headers).toContainEqual(['custom-key', 'custom-value']);
  });

  it('is the same whatever the TCP chunking', () => {
    const whole = decode(script(conversation()));
    const kinds = (ev: typeof whole.events) => ev.filter((e) => e.kind !== 'gap').map((e) => JSON.stringify({ ...e, time: 0 }));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 17 }), (n) => {
        const ev = rechunk(script(conversation()), (len) => Array.from({ length: Math.floor((len - 1) / n) }, (_, i) => (i + 1) * n));
        const r = decode(ev);
        expect(r.decoder.summary().requests.map((x) => ({ ...x, time: 0 }))).toEqual(whole.decoder.summary().requests.map((x) => ({ ...x, time: 0 })));
        expect(kinds(r.events).filter((k) => k.includes('"http-'))).toEqual(kinds(whole.events).filter((k) => k.includes('"http-')));
      }),
      { numRuns: 17 },
    );
  });

  it('garbage after the preface: HTTP/2 diagnostics only, never a Kubernetes one, and it ends', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 6 }), fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 6 }), (c2s, s2c) => {
        const steps: Step[] = [{ d: C, bytes: cat(CLIENT_PREFACE_BYTES) }];
        for (let i = 0; i < Math.max(c2s.length, s2c.length); i++) {
          if (c2s[i]?.length) steps.push({ d: C, bytes: c2s[i]! });
          if (s2c[i]?.length) steps.push({ d: S, bytes: s2c[i]! });
        }
        const { events } = decode(script(steps));
        for (const e of events) if (e.kind === 'diagnostic') expect(e.error.code).toMatch(/^HTTP2_/);
        expect(events.filter((e) => e.kind === 'session-start')).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});
