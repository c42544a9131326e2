/**
 * The SOCKS5 handshake reader: every form RFC 1928 and RFC 1929 allow, any
 * prefix of a handshake is "more" (never a verdict too early), and bytes
 * that are not one never throw and never pass for one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readSocks5 } from '../../src/socks/index.js';

const b = (...xs: number[]) => new Uint8Array(xs);
const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const domain = (name: string, port: number) => cat(b(3, name.length), new TextEncoder().encode(name), b(port >> 8, port & 0xff));

/** A client's greeting, authentication and request, and the proxy's answers, as the two directions' bytes. */
function handshake(o: { methods?: number[]; chosen?: number; auth?: [string, string]; address?: Uint8Array; command?: number; reply?: number } = {}): { client: Uint8Array; server: Uint8Array } {
  const methods = o.methods ?? [0];
  const client = [b(5, methods.length, ...methods)];
  const server = [b(5, o.chosen ?? methods[0]!)];
  if (o.auth) {
    const [u, p] = o.auth.map((x) => new TextEncoder().encode(x)) as [Uint8Array, Uint8Array];
    client.push(cat(b(1, u.length), u, b(p.length), p));
    server.push(b(1, 0));
  }
  client.push(cat(b(5, o.command ?? 1, 0), o.address ?? domain('api.example', 6443)));
  server.push(cat(b(5, o.reply ?? 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90)));
  return { client: cat(...client), server: cat(...server) };
}

describe('readSocks5', () => {
  it('reads a CONNECT to a domain, an IPv4 and an IPv6 address', () => {
    const h = handshake();
    expect(readSocks5(h.client, h.server)).toEqual({ kind: 'done', command: 'connect', target: 'api.example:6443', reply: 0, clientBytes: h.client.length, serverBytes: h.server.length });
    const v4 = handshake({ address: b(1, 192, 0, 2, 7, 0x01, 0xbb) });
    expect(readSocks5(v4.client, v4.server)).toMatchObject({ kind: 'done', target: '192.0.2.7:443' });
    const v6 = handshake({ address: b(4, 0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1, 0x19, 0x2b) });
    expect(readSocks5(v6.client, v6.server)).toMatchObject({ kind: 'done', target: '[2001:db8:0:0:0:0:0:1]:6443' });
  });

  it('reads username/password authentication, and a failure reply', () => {
    const h = handshake({ methods: [0, 2], chosen: 2, auth: ['user', 'secret'] });
    expect(readSocks5(h.client, h.server)).toMatchObject({ kind: 'done', command: 'connect', reply: 0, clientBytes: h.client.length });
    const refused = handshake({ reply: 5 });
    expect(readSocks5(refused.client, refused.server)).toMatchObject({ kind: 'done', reply: 5 });
  });

  it('the tunnel starts where the handshake ends, whatever follows it', () => {
    const h = handshake();
    const tls = b(0x16, 3, 1, 0, 5, 1, 2, 3, 4, 5);
    expect(readSocks5(cat(h.client, tls), cat(h.server, b(0x16, 3, 3)))).toMatchObject({ kind: 'done', clientBytes: h.client.length, serverBytes: h.server.length });
  });

  it('every prefix of a handshake is "more"', () => {
    for (const h of [handshake(), handshake({ methods: [0, 2], chosen: 2, auth: ['u', 'p'] }), handshake({ address: b(4, ...new Array(16).fill(1), 0, 80) })]) {
      for (let n = 0; n < h.client.length; n++) expect(readSocks5(h.client.subarray(0, n), h.server).kind, `client ${n}`).toBe('more');
      for (let n = 0; n < h.server.length; n++) expect(readSocks5(h.client, h.server.subarray(0, n)).kind, `server ${n}`).toBe('more');
    }
  });

  it('is not fooled: other protocols, a method not offered, a refused authentication, no acceptable method', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(readSocks5(enc('GET / HTTP/1.1\r\n'), enc('HTTP/1.1 200 OK')).kind).toBe('no');
    expect(readSocks5(b(0x16, 3, 1, 0, 5), b()).kind).toBe('no');
    expect(readSocks5(b(4, 1, 0, 80, 1, 2, 3, 4, 0), b(0, 0x5a)).kind).toBe('no'); // SOCKS4
    const h = handshake();
    expect(readSocks5(h.client, cat(b(5, 2), h.server.subarray(2))).kind).toBe('no');
    expect(readSocks5(h.client, b(5, 0xff)).kind).toBe('no');
    const auth = handshake({ methods: [2], chosen: 2, auth: ['u', 'bad'] });
    const refusedAuth = cat(b(5, 2, 1, 1));
    expect(readSocks5(auth.client, refusedAuth).kind).toBe('no');
  });

  it('garbage never throws, and a verdict on it never changes as more bytes come', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 80 }), fc.nat(80), (client, server, cut) => {
        const whole = readSocks5(client, server);
        const part = readSocks5(client.subarray(0, Math.min(cut, client.length)), server);
        // a part is "more" or has the verdict the whole has (a "done" on a part is done on the whole)
        if (part.kind !== 'more') expect(part.kind === 'done' ? whole : whole.kind).toEqual(part.kind === 'done' ? part : part.kind);
      }),
      { numRuns: 500 },
    );
  });
});
