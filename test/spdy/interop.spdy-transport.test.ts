/**
 * Interop both ways with npm spdy-transport's SPDY/3.1 framer and parser,
 * each with its own zlib contexts (Node's async zlib streams).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SpdyFrameDecoder, SpdyFrameEncoder, type SpdyFrame } from '../../src/spdy/index.js';
import { PeerFramer, PeerParser, type PeerFrame } from './spdy-transport-peer.js';

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).filter((n) => !['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'host'].includes(n));
const value = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);
const headerMap = fc.dictionary(name, value, { maxKeys: 8 });

describe('spdy-transport writes, kubewire reads', () => {
  it('every frame type its framer writes decodes to the same values', async () => {
    const f = new PeerFramer();
    await f.frame('requestFrame', { id: 1, method: 'POST', path: '/exec', host: 'h', headers: { streamtype: 'error', multi: ['1', '2'] } });
    await f.frame('dataFrame', { id: 1, fin: true, data: Buffer.from('hello') });
    await f.frame('rstFrame', { id: 1, code: 'CANCEL' });
    await f.frame('pingFrame', { opaque: Buffer.from([0, 0, 0, 0, 0, 0, 0, 7]) });
    await f.frame('windowUpdateFrame', { id: 0, delta: 1000 });
    await f.frame('goawayFrame', { lastId: 5, code: 'OK' });
    await f.frame('settingsFrame', { max_concurrent_streams: 100, initial_window_size: 65536 });
    await f.frame('headersFrame', { id: 1, headers: { x: 'y' } });
    await f.frame('responseFrame', { id: 2, status: 200, headers: { 'content-type': 'text/plain' } });
    const frames = new SpdyFrameDecoder().push(await f.take()) as SpdyFrame[];
    expect(frames.map((x) => x.kind)).toEqual(['syn_stream', 'data', 'rst_stream', 'ping', 'window_update', 'goaway', 'settings', 'headers', 'syn_reply']);
    expect(frames[0]).toMatchObject({ streamId: 1, associatedStreamId: 0, fin: false, slot: 0 });
    expect(Object.fromEntries((frames[0] as Extract<SpdyFrame, { kind: 'syn_stream' }>).headers!)).toEqual({
      streamtype: 'error',
      multi: '1\u00002',
      ':method': 'POST',
      ':version': 'HTTP/1.1',
      ':path': '/exec',
      ':scheme': 'https',
      ':host': 'h',
    });
    expect(frames[1]).toMatchObject({ streamId: 1, fin: true });
    expect(Buffer.from((frames[1] as Extract<SpdyFrame, { kind: 'data' }>).data).toString()).toBe('hello');
    expect(frames[2]).toMatchObject({ streamId: 1, status: 5 });
    expect(frames[3]).toMatchObject({ id: 7 });
    expect(frames[4]).toMatchObject({ streamId: 0, delta: 1000 });
    expect(frames[5]).toMatchObject({ lastGoodStreamId: 5, status: 0 });
    expect(frames[6]).toMatchObject({ entries: [{ id: 4, flags: 1, value: 100 }, { id: 7, flags: 1, value: 65536 }] });
    expect(frames[7]).toMatchObject({ streamId: 1, headers: [['x', 'y']] });
    expect(frames[8]).toMatchObject({ streamId: 2, headers: [['content-type', 'text/plain'], [':status', '200 OK'], [':version', 'HTTP/1.1']] });
  });

  it('random header blocks through its one deflate context decode to the same values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(headerMap, { minLength: 1, maxLength: 30 }), async (blocks) => {
        const f = new PeerFramer();
        let id = 1;
        for (const headers of blocks) {
          await f.frame('headersFrame', { id, headers });
          id += 2;
        }
        const frames = new SpdyFrameDecoder().push(await f.take()) as SpdyFrame[];
        expect(frames).toHaveLength(blocks.length);
        frames.forEach((fr, i) => {
          expect(fr).toMatchObject({ kind: 'headers', streamId: 2 * i + 1 });
          expect(Object.fromEntries((fr as Extract<SpdyFrame, { kind: 'headers' }>).headers!)).toEqual(blocks[i]);
        });
      }),
      { numRuns: 25 },
    );
  });
});

describe('kubewire writes, spdy-transport reads', () => {
  it('every frame type we write is read back by its parser', async () => {
    const enc = new SpdyFrameEncoder();
    const p = new PeerParser(true);
    const bytes = Buffer.concat([
      enc.encode({ kind: 'syn_stream', streamId: 1, fin: true, headers: [[':method', 'POST'], [':path', '/exec'], ['streamtype', 'error']] }),
      enc.encode({ kind: 'syn_reply', streamId: 2, headers: [['x-a', 'b']] }),
      enc.encode({ kind: 'headers', streamId: 1, headers: [['k', 'v\u0000w']] }),
      enc.encode({ kind: 'data', streamId: 1, fin: true, data: Buffer.from('payload') }),
      enc.encode({ kind: 'rst_stream', streamId: 3, status: 5 }),
      enc.encode({ kind: 'ping', id: 9 }),
      enc.encode({ kind: 'goaway', lastGoodStreamId: 7, status: 1 }),
      enc.encode({ kind: 'window_update', streamId: 1, delta: 4096 }),
      enc.encode({ kind: 'settings', entries: [{ id: 7, flags: 0, value: 1 << 20 }, { id: 4, flags: 0, value: 100 }] }),
    ]);
    const out = await p.writeUntil(bytes, 9);
    expect(out.map((x) => x.type)).toEqual(['HEADERS', 'HEADERS', 'HEADERS', 'DATA', 'RST', 'PING', 'GOAWAY', 'WINDOW_UPDATE', 'SETTINGS']);
    expect(out[0]).toMatchObject({ id: 1, fin: true, headers: { ':method': 'POST', ':path': '/exec', streamtype: 'error' } });
    expect(out[1]).toMatchObject({ id: 2, headers: { 'x-a': 'b' } });
    // spdy-transport splits NUL-joined values and rejoins them HTTP-style.
    expect(out[2]).toMatchObject({ id: 1, headers: { k: 'v, w' } });
    expect(out[3]).toMatchObject({ id: 1, fin: true });
    expect(String(out[3]!.data)).toBe('payload');
    expect(out[4]).toMatchObject({ id: 3, code: 'CANCEL' });
    expect((out[5]!.opaque as Buffer).readUInt32BE(0)).toBe(9);
    expect(out[6]).toMatchObject({ lastId: 7, code: 'PROTOCOL_ERROR' });
    expect(out[7]).toMatchObject({ id: 1, delta: 4096 });
    expect(out[8]).toMatchObject({ settings: { initial_window_size: 1 << 20, max_concurrent_streams: 100 } });
  });

  it('random HTTP-shaped SYN_STREAMs and DATA, every compression level, read back the same', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(headerMap, fc.uint8Array({ maxLength: 300 }), fc.boolean()), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 9 }),
        async (streams, level) => {
          const enc = new SpdyFrameEncoder({ compressionLevel: level });
          const chunks: Uint8Array[] = [];
          streams.forEach(([headers, data, fin], i) => {
            const id = 2 * i + 1;
            const all: Array<[string, string]> = [[':method', 'GET'], [':path', `/s/${i}`], ...Object.entries(headers)];
            chunks.push(enc.encode({ kind: 'syn_stream', streamId: id, headers: all }));
            chunks.push(enc.encode({ kind: 'data', streamId: id, fin, data }));
          });
          const p = new PeerParser(true);
          const out: PeerFrame[] = await p.writeUntil(Buffer.concat(chunks), streams.length * 2);
          streams.forEach(([headers, data, fin], i) => {
            const syn = out[2 * i]!;
            expect(syn).toMatchObject({ type: 'HEADERS', id: 2 * i + 1, path: `/s/${i}` });
            expect(syn.headers).toEqual({ ':method': 'GET', ':path': `/s/${i}`, ...headers });
            const d = out[2 * i + 1]!;
            expect(d).toMatchObject({ type: 'DATA', id: 2 * i + 1, fin });
            expect([...(d.data as Buffer)]).toEqual([...data]);
          });
        },
      ),
      { numRuns: 25 },
    );
  });
});
