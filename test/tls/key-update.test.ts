/**
 * TLS 1.3 KeyUpdate (RFC 8446 §4.6.3, §7.2): node:tls has no way to send one,
 * so these streams are built here, record by record, with node:crypto
 * (AES-128-GCM: nonce = iv XOR sequence number, additional data = the header).
 */
import { describe, expect, it } from 'vitest';
import { createCipheriv, randomBytes } from 'node:crypto';
import { TlsDecoder, TlsKeyLog, hkdfExpandLabel, aeadSuite } from '../../src/tls/index.js';
import { tls13Keys, tls13NextSecret } from '../../src/tls/key-schedule.js';

const suite = aeadSuite(0x1301)!;
const u16 = (n: number) => Buffer.from([n >> 8, n & 255]);
const u24 = (n: number) => Buffer.from([n >> 16, (n >> 8) & 255, n & 255]);
const hs = (type: number, body: Buffer) => Buffer.concat([Buffer.from([type]), u24(body.length), body]);
const record = (type: number, body: Buffer) => Buffer.concat([Buffer.from([type, 3, 3]), u16(body.length), body]);

function seal(secret: Uint8Array, seq: number, type: number, content: Buffer): Buffer {
  const { key, iv } = tls13Keys(suite, secret);
  const nonce = Buffer.from(iv);
  nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ seq) >>> 0, 8);
  const inner = Buffer.concat([content, Buffer.from([type]), Buffer.alloc(3)]); // with padding
  const header = Buffer.concat([Buffer.from([23, 3, 3]), u16(inner.length + 16)]);
  const c = createCipheriv('aes-128-gcm', key, nonce);
  c.setAAD(header);
  const body = Buffer.concat([c.update(inner), c.final(), c.getAuthTag()]);
  return Buffer.concat([header, body]);
}

describe('TLS 1.3 KeyUpdate', () => {
  it('each KeyUpdate moves its sender to the next generation of secrets', () => {
    const clientRandom = randomBytes(32);
    const secrets = { chs: randomBytes(32), shs: randomBytes(32), c0: randomBytes(32), s0: randomBytes(32) };
    const ch = hs(1, Buffer.concat([u16(0x0303), clientRandom, Buffer.from([0]), u16(2), u16(0x1301), Buffer.from([1, 0]), u16(7), u16(43), u16(3), Buffer.from([2, 3, 4])]));
    const sh = hs(2, Buffer.concat([u16(0x0303), randomBytes(32), Buffer.from([0]), u16(0x1301), Buffer.from([0]), u16(6), u16(43), u16(2), u16(0x0304)]));
    const finished = hs(20, randomBytes(32));
    const keyUpdate = hs(24, Buffer.from([0]));
    const s1 = tls13NextSecret(suite, secrets.s0);
    const s2 = tls13NextSecret(suite, s1);
    const c1 = tls13NextSecret(suite, secrets.c0);
    const s2c = Buffer.concat([
      record(22, sh),
      record(20, Buffer.from([1])),
      seal(secrets.shs, 0, 22, Buffer.concat([hs(8, u16(0)), finished])),
      seal(secrets.s0, 0, 23, Buffer.from('one ')),
      seal(secrets.s0, 1, 22, keyUpdate),
      seal(s1, 0, 23, Buffer.from('two ')),
      seal(s1, 1, 22, keyUpdate),
      seal(s2, 0, 23, Buffer.from('three')),
    ]);
    const c2s = Buffer.concat([
      record(22, ch),
      seal(secrets.chs, 0, 22, finished),
      seal(secrets.c0, 0, 23, Buffer.from('req ')),
      seal(secrets.c0, 1, 22, keyUpdate),
      seal(c1, 0, 23, Buffer.from('more')),
    ]);
    const keys = new TlsKeyLog();
    const hex = clientRandom.toString('hex');
    keys.addText(
      [
        `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${hex} ${secrets.chs.toString('hex')}`,
        `SERVER_HANDSHAKE_TRAFFIC_SECRET ${hex} ${secrets.shs.toString('hex')}`,
        `CLIENT_TRAFFIC_SECRET_0 ${hex} ${secrets.c0.toString('hex')}`,
        `SERVER_TRAFFIC_SECRET_0 ${hex} ${secrets.s0.toString('hex')}`,
        '',
      ].join('\n'),
    );
    const t = new TlsDecoder({ keys });
    const ev = [...t.push('clientToServer', c2s, 0), ...t.push('serverToClient', s2c, 0), ...t.end()];
    const text = (d: string) => Buffer.concat(ev.flatMap((e) => (e.kind === 'plaintext' && e.direction === d ? [e.bytes] : []))).toString();
    expect(ev.filter((e) => e.kind === 'diagnostic')).toEqual([]);
    expect(text('serverToClient')).toBe('one two three');
    expect(text('clientToServer')).toBe('req more');
    expect(t.description).toMatchObject({ version: 'TLS 1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', decrypted: true, recordsDecrypted: 10, recordsFailed: 0 });
  });

  it('HKDF-Expand-Label matches RFC 8448 (simple 1-RTT handshake: server handshake key and iv)', () => {
    // RFC 8448 §3: server_handshake_traffic_secret → write key and iv
    const secret = Buffer.from('b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38', 'hex');
    expect(Buffer.from(hkdfExpandLabel('sha256', secret, 'key', new Uint8Array(0), 16)).toString('hex')).toBe('3fce516009c21727d0f2e4e86ee403bc');
    expect(Buffer.from(hkdfExpandLabel('sha256', secret, 'iv', new Uint8Array(0), 12)).toString('hex')).toBe('5d313eb2671276ee13000b30');
  });
});
