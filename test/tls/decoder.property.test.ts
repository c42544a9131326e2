/**
 * The TLS layer on real OpenSSL streams (node:tls with its key log): every
 * suite and handshake shape we support decrypts to what was sent, under any
 * TCP segmentation and any interleaving of the two directions; a flipped bit
 * costs one record; garbage never throws.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TlsDecoder, TlsKeyLog, TLS_ERROR, type TlsEvent } from '../../src/tls/index.js';
import { cutPoints, splitAt } from '../../src/testing/chunking.js';
import { recordTls, type RecordedTls, type TlsStreamOptions } from './node-tls.js';
import type { Direction } from '../../src/common/errors.js';

const payload = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255));
const MESSAGES = [Buffer.from('GET / HTTP/1.1\r\n\r\n'), payload(3000, 1), payload(500, 2), payload(40000, 3)];

const CONFIGS: Array<{ name: string; opts: Omit<TlsStreamOptions, 'messages'>; version: string; suite: string }> = [
  { name: 'TLS 1.3 AES-256-GCM', opts: {}, version: 'TLS 1.3', suite: 'TLS_AES_256_GCM_SHA384' },
  { name: 'TLS 1.3 AES-128-GCM', opts: { ciphersuites: 'TLS_AES_128_GCM_SHA256' }, version: 'TLS 1.3', suite: 'TLS_AES_128_GCM_SHA256' },
  { name: 'TLS 1.3 ChaCha20', opts: { ciphersuites: 'TLS_CHACHA20_POLY1305_SHA256' }, version: 'TLS 1.3', suite: 'TLS_CHACHA20_POLY1305_SHA256' },
  { name: 'TLS 1.3 HelloRetryRequest, SNI, ALPN', opts: { serverCurve: 'P-384', alpn: ['h2', 'http/1.1'], serverName: 'kube.test' }, version: 'TLS 1.3', suite: 'TLS_AES_256_GCM_SHA384' },
  { name: 'TLS 1.2 ECDHE AES-128-GCM', opts: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }, version: 'TLS 1.2', suite: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256' },
  { name: 'TLS 1.2 ECDHE AES-256-GCM', opts: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }, version: 'TLS 1.2', suite: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384' },
  { name: 'TLS 1.2 ECDHE ChaCha20', opts: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305', alpn: ['http/1.1'] }, version: 'TLS 1.2', suite: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256' },
];

const streams = new Map<string, RecordedTls>();
let resumed: RecordedTls;
let cbcEtm: RecordedTls;

beforeAll(async () => {
  for (const c of CONFIGS) streams.set(c.name, await recordTls({ ...c.opts, messages: MESSAGES }));
  const first = await recordTls({ maxVersion: 'TLSv1.2', messages: MESSAGES.slice(0, 2) });
  resumed = await recordTls({ maxVersion: 'TLSv1.2', session: first.session, messages: MESSAGES });
  cbcEtm = await recordTls({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA', messages: MESSAGES.slice(0, 2) });
}, 60_000);

function keysOf(r: RecordedTls): TlsKeyLog {
  const k = new TlsKeyLog();
  k.addText(r.keylog);
  k.flush();
  return k;
}

interface Result {
  c2s: Buffer;
  s2c: Buffer;
  events: TlsEvent[];
  tls: TlsDecoder;
}

/** Feed pieces in the given order (each piece tagged with its direction). */
function run(r: RecordedTls, pieces: Array<{ d: Direction; bytes: Uint8Array }>, keys = keysOf(r)): Result {
  const tls = new TlsDecoder({ keys });
  const events: TlsEvent[] = [];
  const at: Record<Direction, number> = { clientToServer: 0, serverToClient: 0 };
  for (const p of pieces) {
    events.push(...tls.push(p.d, p.bytes, at[p.d]));
    at[p.d] += p.bytes.length;
  }
  events.push(...tls.end());
  const plain = (d: Direction) => Buffer.concat(events.flatMap((e) => (e.kind === 'plaintext' && e.direction === d ? [e.bytes] : [])));
  return { c2s: plain('clientToServer'), s2c: plain('serverToClient'), events, tls };
}

const whole = (r: RecordedTls) => run(r, [{ d: 'clientToServer', bytes: r.c2s }, { d: 'serverToClient', bytes: r.s2c }]);

/** Direction pieces from cut points, interleaved by a shuffle that keeps each direction's order. */
function interleavings(r: RecordedTls) {
  return fc.tuple(cutPoints(r.c2s.length, 40), cutPoints(r.s2c.length, 40), fc.array(fc.boolean(), { maxLength: 200 })).map(([cc, sc, picks]) => {
    const a = splitAt(r.c2s, cc).map((bytes) => ({ d: 'clientToServer' as const, bytes }));
    const b = splitAt(r.s2c, sc).map((bytes) => ({ d: 'serverToClient' as const, bytes }));
    const out: Array<{ d: Direction; bytes: Uint8Array }> = [];
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < a.length || j < b.length) {
      const takeA = j >= b.length || (i < a.length && (picks[k++] ?? true));
      out.push(takeA ? a[i++]! : b[j++]!);
    }
    return out;
  });
}

describe('TLS decryption of real OpenSSL streams', () => {
  for (const c of CONFIGS) {
    it(`${c.name}: the plaintext both sides sent, described`, () => {
      const r = streams.get(c.name)!;
      const res = whole(r);
      expect(res.c2s.equals(r.sentByClient)).toBe(true);
      expect(res.s2c.equals(r.sentByServer)).toBe(true);
      expect(res.events.filter((e) => e.kind === 'diagnostic')).toEqual([]);
      expect(res.tls.description).toMatchObject({ version: c.version, cipherSuite: c.suite, decrypted: true, reason: null, recordsFailed: 0 });
      if (c.opts.serverCurve) expect(res.tls.description).toMatchObject({ helloRetryRequest: true, serverName: 'kube.test', alpnOffered: ['h2', 'http/1.1'], alpn: 'h2' });
      if (c.version === 'TLS 1.2') expect(res.tls.description.extendedMasterSecret).toBe(true);
    });

    it(`${c.name}: any segmentation and interleaving gives the same plaintext`, () => {
      const r = streams.get(c.name)!;
      fc.assert(
        fc.property(interleavings(r), (pieces) => {
          const res = run(r, pieces);
          expect(res.c2s.equals(r.sentByClient)).toBe(true);
          expect(res.s2c.equals(r.sentByServer)).toBe(true);
        }),
        { numRuns: 25 },
      );
    });
  }

  it('TLS 1.2 session resumption: an abbreviated handshake, keyed by the new client random', () => {
    const res = whole(resumed);
    expect(res.tls.description).toMatchObject({ version: 'TLS 1.2', resumed: true, decrypted: true });
    expect(res.c2s.equals(resumed.sentByClient)).toBe(true);
    expect(res.s2c.equals(resumed.sentByServer)).toBe(true);
  });

  it('CBC with encrypt_then_mac: a diagnostic naming the suite, described as not supported', () => {
    const res = whole(cbcEtm);
    const d = res.events.filter((e) => e.kind === 'diagnostic');
    expect(d).toHaveLength(1);
    expect(d[0]!.kind === 'diagnostic' && d[0]!.error.code).toBe(TLS_ERROR.UNSUPPORTED_SUITE);
    expect(d[0]!.kind === 'diagnostic' && d[0]!.error.message).toMatch(/TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA and encrypt_then_mac is not supported/);
    expect(res.tls.description).toMatchObject({ decrypted: false, reason: 'unsupported-suite' });
  });

  it('a key log for another connection: "no key", nothing decrypted, no diagnostic', () => {
    const a = streams.get(CONFIGS[0]!.name)!;
    const b = streams.get(CONFIGS[1]!.name)!;
    const res = run(a, [{ d: 'clientToServer', bytes: a.c2s }, { d: 'serverToClient', bytes: a.s2c }], keysOf(b));
    expect(res.tls.description).toMatchObject({ decrypted: false, reason: 'no-key', version: 'TLS 1.3' });
    expect(res.c2s.length + res.s2c.length).toBe(0);
    expect(res.events.filter((e) => e.kind === 'diagnostic')).toEqual([]);
  });

  it('a truncated handshake: what the ClientHello said, and a diagnostic', () => {
    const r = streams.get(CONFIGS[3]!.name)!;
    const res = run(r, [{ d: 'clientToServer', bytes: r.c2s.subarray(0, 600) }]);
    expect(res.tls.description).toMatchObject({ serverName: 'kube.test', alpnOffered: ['h2', 'http/1.1'], decrypted: false, version: null });
    expect(res.events.some((e) => e.kind === 'diagnostic' && e.error.code === TLS_ERROR.HANDSHAKE_NOT_CAPTURED)).toBe(true);
  });

  it('a flipped bit in one record costs that record only; the other direction is whole', () => {
    for (const c of CONFIGS) {
      const r = streams.get(c.name)!;
      const starts: number[] = [];
      for (let i = 0; i + 5 <= r.s2c.length; i += 5 + r.s2c.readUInt16BE(i + 3)) starts.push(i);
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 3 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (fromEnd, at, bit) => {
          const start = starts[starts.length - fromEnd]!;
          const len = r.s2c.readUInt16BE(start + 3);
          const bad = Buffer.from(r.s2c);
          bad[start + 5 + (at % len)]! ^= 1 << bit;
          const res = run(r, [{ d: 'clientToServer', bytes: r.c2s }, { d: 'serverToClient', bytes: bad }]);
          expect(res.c2s.equals(r.sentByClient)).toBe(true);
          const diags = res.events.filter((e) => e.kind === 'diagnostic');
          expect(diags).toHaveLength(1);
          expect(diags[0]!.kind === 'diagnostic' && diags[0]!.error.code).toBe(TLS_ERROR.RECORD_AUTH_FAILED);
          expect(diags[0]!.kind === 'diagnostic' && diags[0]!.error.offset).toBe(start);
          // what came out is what was sent, less one record's worth from the middle
          const sent = r.sentByServer;
          let p = 0;
          while (p < res.s2c.length && res.s2c[p] === sent[p]) p++;
          const lost = sent.length - res.s2c.length;
          expect(lost).toBeGreaterThan(0);
          expect(lost).toBeLessThanOrEqual(16384);
          expect(res.s2c.subarray(p).equals(sent.subarray(p + lost))).toBe(true);
        }),
        { numRuns: 10 },
      );
    }
  });

  it('the input may be overwritten after each push (a reused read buffer, a Buffer as the pipeline gives): the same plaintext', () => {
    for (const c of CONFIGS) {
      const r = streams.get(c.name)!;
      fc.assert(
        fc.property(interleavings(r), (pieces) => {
          const tls = new TlsDecoder({ keys: keysOf(r) });
          const scratch = Buffer.alloc(Math.max(r.c2s.length, r.s2c.length));
          const at: Record<Direction, number> = { clientToServer: 0, serverToClient: 0 };
          const got: Record<Direction, Buffer[]> = { clientToServer: [], serverToClient: [] };
          const take = (events: TlsEvent[]) => {
            for (const e of events) if (e.kind === 'plaintext') got[e.direction].push(Buffer.from(e.bytes));
          };
          for (const p of pieces) {
            scratch.set(p.bytes);
            take(tls.push(p.d, scratch.subarray(0, p.bytes.length), at[p.d]));
            scratch.fill(0xa5, 0, p.bytes.length);
            at[p.d] += p.bytes.length;
          }
          take(tls.end());
          expect(Buffer.concat(got.clientToServer).equals(r.sentByClient)).toBe(true);
          expect(Buffer.concat(got.serverToClient).equals(r.sentByServer)).toBe(true);
        }),
        { numRuns: 10 },
      );
    }
  });

  it('a broken record header: the same plaintext and diagnostics under any segmentation', () => {
    const r = streams.get(CONFIGS[0]!.name)!;
    const starts: number[] = [];
    for (let i = 0; i + 5 <= r.s2c.length; i += 5 + r.s2c.readUInt16BE(i + 3)) starts.push(i);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, 1, 3), cutPoints(r.s2c.length, 40), (fromEnd, byte, cuts) => {
        const bad = Buffer.from(r.s2c);
        const start = starts[starts.length - fromEnd]!;
        bad[start + byte] = byte < 3 ? 0x00 : 0xff; // a bad type or major version, or a length over the limit
        const summary = (res: Result) => ({
          c2s: res.c2s.toString('hex'),
          s2c: res.s2c.toString('hex'),
          diags: res.events.flatMap((e) => (e.kind === 'diagnostic' ? [`${e.error.code}@${e.error.offset}`] : [])),
        });
        const one = run(r, [{ d: 'clientToServer', bytes: r.c2s }, { d: 'serverToClient', bytes: bad }]);
        const cut = run(r, [{ d: 'clientToServer', bytes: r.c2s }, ...splitAt(bad, cuts).map((bytes) => ({ d: 'serverToClient' as const, bytes }))]);
        expect(one.c2s.equals(r.sentByClient)).toBe(true);
        expect(one.events.some((e) => e.kind === 'diagnostic' && e.error.code === TLS_ERROR.BAD_RECORD && e.error.offset === start)).toBe(true);
        expect(summary(cut)).toEqual(summary(one));
      }),
      { numRuns: 40 },
    );
  });

  it('garbage, alone or after a real handshake, never throws and never hangs', () => {
    const r = streams.get(CONFIGS[0]!.name)!;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.boolean(), fc.integer({ min: 0, max: 2000 }), (junk, afterHandshake, keep) => {
        const pieces: Array<{ d: Direction; bytes: Uint8Array }> = afterHandshake
          ? [{ d: 'clientToServer', bytes: r.c2s.subarray(0, keep) }, { d: 'serverToClient', bytes: r.s2c.subarray(0, keep * 2) }, { d: 'serverToClient', bytes: junk }]
          : [{ d: 'clientToServer', bytes: Uint8Array.of(0x16, 0x03, 0x01) }, { d: 'clientToServer', bytes: junk }, { d: 'serverToClient', bytes: junk }];
        const res = run(r, pieces);
        for (const e of res.events) if (e.kind === 'diagnostic') expect(e.error.layer).toBe('tls');
      }),
      { numRuns: 200 },
    );
  });
});
