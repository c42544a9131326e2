import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HttpParser, type HttpParseEvent } from '../../src/http/index.js';
import { chunkings, concatBytes } from '../../src/testing/index.js';
import { isKubewireError } from '../../src/common/errors.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Events with bodies joined per message, so that any chunking compares equal. */
function normalise(events: HttpParseEvent[]): unknown[] {
  const out: unknown[] = [];
  let body: Uint8Array[] = [];
  for (const e of events) {
    if (e.kind === 'body') {
      body.push(e.bytes);
      continue;
    }
    if (body.length) {
      out.push({ body: dec(concatBytes(body)) });
      body = [];
    }
    if (e.kind === 'diagnostic') out.push({ diag: e.error.code });
    else if (e.kind === 'switch') out.push({ switch: e.offset, rest: dec(concatBytes(e.rest)) });
    else out.push(e);
  }
  if (body.length) out.push({ body: dec(concatBytes(body)) });
  return out;
}

function parseAll(type: 'request' | 'response', chunks: Uint8Array[], prime?: (p: HttpParser) => void): unknown[] {
  const p = new HttpParser({ type, mode: 'inspect' });
  prime?.(p);
  const ev: HttpParseEvent[] = [];
  for (const c of chunks) ev.push(...p.push(c));
  ev.push(...p.end());
  return normalise(ev);
}

const SPDY_UPGRADE =
  'POST /api/v1/namespaces/default/pods/web/exec?command=sh&container=app&stdin=true&stdout=true&tty=true HTTP/1.1\r\n' +
  'Host: 127.0.0.1:6443\r\nUser-Agent: kubectl/v1.27.16\r\nContent-Length: 0\r\nConnection: Upgrade\r\n' +
  'Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\nX-Stream-Protocol-Version: channel.k8s.io\r\n' +
  'Authorization: Bearer abc\r\n\r\n';

describe('HttpParser requests', () => {
  it('parses keep-alive GETs and a body by Content-Length', () => {
    const text = 'GET /api?timeout=32s HTTP/1.1\r\nHost: x\r\n\r\nPOST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /y HTTP/1.1\r\n\r\n';
    const ev = parseAll('request', [enc(text)]);
    const heads = ev.filter((e) => (e as HttpParseEvent).kind === 'request-head') as Array<{ head: { method: string; path: string; query: string } }>;
    expect(heads.map((h) => [h.head.method, h.head.path, h.head.query])).toEqual([
      ['GET', '/api', 'timeout=32s'],
      ['POST', '/x', ''],
      ['GET', '/y', ''],
    ]);
    expect(ev).toContainEqual({ body: 'hello' });
    expect(ev.filter((e) => (e as HttpParseEvent).kind === 'message-end')).toHaveLength(3);
  });

  it('de-chunks a chunked body with extensions and trailers', () => {
    const text = 'POST /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\nGET /next HTTP/1.1\r\n\r\n';
    const ev = parseAll('request', [enc(text)]);
    expect(ev).toContainEqual({ body: 'hello world' });
    expect(ev.filter((e) => (e as HttpParseEvent).kind === 'request-head')).toHaveLength(2);
  });

  it('holds bytes after an upgrade request until accepted, and hands them over', () => {
    const p = new HttpParser({ type: 'request', mode: 'inspect' });
    const frames = new Uint8Array([0x80, 0x03, 0x00, 0x01, 0x01, 0, 0, 0]);
    const ev = p.push(concatBytes([enc(SPDY_UPGRADE), frames]));
    const head = ev.find((e) => e.kind === 'request-head');
    expect(head && head.kind === 'request-head' && head.head.upgrade).toBe('SPDY/3.1');
    expect(ev.map((e) => e.kind)).toEqual(['request-head', 'message-end', 'upgrade-pending']);
    const reused = new Uint8Array([9]);
    expect(p.push(reused)).toEqual([]);
    reused[0] = 0; // the caller reuses its buffer: what was held must not change
    const rest = p.acceptUpgrade();
    expect(Array.from(concatBytes(rest))).toEqual([...frames, 9]);
    expect(p.push(enc('GET / HTTP/1.1\r\n\r\n'))).toEqual([]);
  });

  it('parses held bytes as HTTP again when the upgrade is refused', () => {
    const p = new HttpParser({ type: 'request', mode: 'inspect' });
    p.push(enc('GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /after HTTP/1.1\r\n'));
    const ev = [...p.refuseUpgrade(), ...p.push(enc('\r\n'))];
    const h = ev.find((e) => e.kind === 'request-head');
    expect(h?.kind === 'request-head' && h.head.path).toBe('/after');
  });

  it('reports a bad request line as a diagnostic in inspect mode and throws in strict mode', () => {
    expect(parseAll('request', [enc('\x16\x03\x01 hello\r\n\r\n')])).toEqual([{ diag: 'HTTP_BAD_REQUEST_LINE' }]);
    const strict = new HttpParser({ type: 'request' });
    expect(() => strict.push(enc('nope\r\n\r\n'))).toThrowError(/not an HTTP request line/);
  });

  it('reports heads over the limit before buffering more', () => {
    const p = new HttpParser({ type: 'request', mode: 'inspect', limits: { maxHeadBytes: 100 } });
    const ev = p.push(enc('GET / HTTP/1.1\r\n' + 'X: ' + 'a'.repeat(200)));
    expect(ev.map((e) => (e.kind === 'diagnostic' ? e.error.code : e.kind))).toEqual(['HTTP_HEAD_TOO_LARGE']);
    expect(p.done).toBe(true);
  });

  it('says when the input ends inside a message', () => {
    expect(parseAll('request', [enc('POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc')])).toContainEqual({ diag: 'HTTP_TRUNCATED' });
  });
});

describe('HttpParser responses', () => {
  it('switches on 101 and hands over the bytes after the head in the same chunk', () => {
    const p = new HttpParser({ type: 'response', mode: 'inspect' });
    p.expectResponse({ method: 'POST', upgrade: 'SPDY/3.1' });
    const chunk = concatBytes([enc('HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\nConnection: Upgrade\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n'), new Uint8Array([0x80, 3, 0, 2])]);
    const ev = p.push(chunk);
    expect(ev.map((e) => e.kind)).toEqual(['response-head', 'message-end', 'switch']);
    const sw = ev[2]!;
    if (sw.kind !== 'switch') throw new Error('no switch');
    expect(Array.from(concatBytes(sw.rest))).toEqual([0x80, 3, 0, 2]);
    expect(sw.rest[0]!.buffer).toBe(chunk.buffer); // a view, not a copy
    expect(sw.offset).toBe(chunk.length - 4);
    expect(p.done).toBe(true);
  });

  it('reads bodies by length, chunked, none for HEAD/204/304, and until close', () => {
    const p = new HttpParser({ type: 'response', mode: 'inspect' });
    for (const method of ['GET', 'GET', 'HEAD', 'GET', 'GET']) p.expectResponse({ method, upgrade: null });
    const text =
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' +
      'HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nno!\r\n0\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n' +
      'HTTP/1.1 204 No Content\r\n\r\n' +
      'HTTP/1.0 200 OK\r\n\r\nrest of stream';
    const ev: HttpParseEvent[] = [...p.push(enc(text)), ...p.end()];
    const n = normalise(ev);
    expect(n.filter((e) => (e as HttpParseEvent).kind === 'response-head')).toHaveLength(5);
    expect(n).toContainEqual({ body: 'ok' });
    expect(n).toContainEqual({ body: 'no!' });
    expect(n).toContainEqual({ body: 'rest of stream' });
    expect(n.filter((e) => (e as HttpParseEvent).kind === 'message-end')).toHaveLength(5);
  });

  it('skips interim 1xx responses', () => {
    const ev = parseAll('response', [enc('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')]);
    expect(ev.filter((e) => (e as HttpParseEvent).kind === 'response-head')).toHaveLength(2);
  });
});

describe('HttpParser properties', () => {
  const messages = [
    SPDY_UPGRADE,
    'GET /api HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcPUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n',
    'GET /ws HTTP/1.1\nConnection: keep-alive, Upgrade\nUpgrade: websocket\nSec-WebSocket-Key: abc\n\n\x82\x85',
  ];
  it('gives the same events for any chunking', () => {
    for (const m of messages) {
      const bytes = enc(m);
      const whole = parseAll('request', [bytes]);
      fc.assert(
        fc.property(chunkings(bytes, 24), (chunks) => {
          expect(parseAll('request', chunks)).toEqual(whole);
        }),
        { numRuns: 150 },
      );
    }
    const resp = enc('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi');
    const whole = parseAll('response', [resp]);
    fc.assert(
      fc.property(chunkings(resp, 24), (chunks) => {
        // bytes after the switch arrive in whichever chunk held them: compare the switch offset and head/body events
        const norm = (evs: unknown[]) => evs.map((e) => ((e as { switch?: number }).switch !== undefined ? { switch: (e as { switch: number }).switch } : e));
        expect(norm(parseAll('response', chunks))).toEqual(norm(whole));
      }),
      { numRuns: 150 },
    );
  });

  it('never throws on garbage in inspect mode and never hangs', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), fc.constantFrom<'request' | 'response'>('request', 'response'), (chunks, type) => {
        const p = new HttpParser({ type, mode: 'inspect', limits: { maxHeadBytes: 256 } });
        for (const c of chunks) p.push(c);
        p.end();
      }),
      { numRuns: 300 },
    );
  });

  it('throws only KubewireError in strict mode', () => {
    const text = fc.stringMatching(/^[A-Z]{0,5} ?[/a-z?=&]{0,8} ?(HTTP\/1\.1)?(\r?\n[A-Za-z-]{0,6}:? ?[0-9a-z ]{0,5})*(\r?\n){0,2}[0-9a-f\r\n;]{0,10}$/);
    fc.assert(
      fc.property(text, (s) => {
        const p = new HttpParser({ type: 'request' });
        try {
          p.push(enc(s));
          p.end();
        } catch (e) {
          expect(isKubewireError(e)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
