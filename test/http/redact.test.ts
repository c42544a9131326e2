import { describe, expect, it } from 'vitest';
import { redactHeaders, redactQuery, redactProtocol, headerTokens, sniffHttp, splitTarget, parseQuery } from '../../src/http/index.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('redaction', () => {
  it('redacts Authorization (keeping the scheme), Sec-WebSocket-Key, cookies and bearer subprotocols', () => {
    expect(
      redactHeaders([
        ['Authorization', 'Bearer eyJhbGciOi'],
        ['sec-websocket-key', 'dGhlIHNhbXBsZSBub25jZQ=='],
        ['Cookie', 'a=b'],
        ['Sec-WebSocket-Protocol', 'v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.dG9rZW4'],
        ['Host', 'x'],
      ]),
    ).toEqual([
      ['Authorization', 'Bearer [redacted]'],
      ['sec-websocket-key', '[redacted]'],
      ['Cookie', '[redacted]'],
      ['Sec-WebSocket-Protocol', 'v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.[redacted]'],
      ['Host', 'x'],
    ]);
    expect(redactProtocol('base64url.bearer.authorization.k8s.io.abc')).toBe('base64url.bearer.authorization.k8s.io.[redacted]');
    expect(redactQuery('command=sh&access_token=abc&stdin=true')).toBe('command=sh&access_token=[redacted]&stdin=true');
  });
});

describe('helpers', () => {
  it('splits comma lists over several lines', () => {
    expect(headerTokens([['X-Stream-Protocol-Version', 'v4.channel.k8s.io'], ['x-stream-protocol-version', 'v3.channel.k8s.io, channel.k8s.io']], 'X-Stream-Protocol-Version')).toEqual([
      'v4.channel.k8s.io',
      'v3.channel.k8s.io',
      'channel.k8s.io',
    ]);
  });
  it('sniffs requests and responses by content', () => {
    expect(sniffHttp(enc('GET / HTTP/1.1'))).toBe('request');
    expect(sniffHttp(enc('POS'))).toBe('maybe');
    expect(sniffHttp(enc('HTTP/1.1 101'))).toBe('response');
    expect(sniffHttp(enc('HTT'))).toBe('maybe');
    expect(sniffHttp(new Uint8Array([0x80, 3, 0, 1]))).toBe('no');
    expect(sniffHttp(new Uint8Array([0x82, 0x85]))).toBe('no');
    expect(sniffHttp(enc('\x16\x03\x01'))).toBe('no');
  });
  it('splits targets and decodes queries like Go', () => {
    expect(splitTarget('/a/b?x=1&y=2#f')).toEqual({ path: '/a/b', query: 'x=1&y=2' });
    expect(splitTarget('http://h:1/p?q')).toEqual({ path: '/p', query: 'q' });
    expect(parseQuery('command=echo+hi&command=%2Fbin%2Fsh&stdin=true&bad=%zz')).toEqual([
      ['command', 'echo hi'],
      ['command', '/bin/sh'],
      ['stdin', 'true'],
      ['bad', '%zz'],
    ]);
  });
});
