/**
 * Golden vectors: each frame type encoded, compared with literal bytes, and
 * decoded back. Header-carrying frames are pinned at compression level 0
 * (stored blocks), whose bytes do not depend on the zlib build; the SPDY
 * spec notes' vectors (CPython zlib, level 9) are decoded as given.
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SPDY3_DICTIONARY, SpdyFrameDecoder, SpdyFrameEncoder, type SpdyFrame, type SpdyFrameInput } from '../../src/spdy/index.js';
import { concatBytes } from '../../src/testing/chunking.js';
import { comparable, hex, toHex } from './helpers.js';

interface Vector {
  name: string;
  frame: SpdyFrameInput;
  bytes: string;
}

/** One direction, one encoder at level 0: header blocks share the context in this order. */
const VECTORS: Vector[] = [
  {
    name: 'SYN_STREAM id=1 {streamtype: error} (first block: zlib header with FDICT, DICTID e3c6a7c2)',
    frame: { kind: 'syn_stream', streamId: 1, headers: [['streamtype', 'error']] },
    bytes:
      '80030001 00000035 00000001 00000000 0000' +
      '783f e3c6a7c2 00 1b00 e4ff 00000001 0000000a 73747265616d74797065 00000005 6572726f72 000000ffff',
  },
  {
    name: 'SYN_STREAM id=3 FIN|UNIDIRECTIONAL assoc=1 priority=7 {streamtype: stdin} (continues the context)',
    frame: {
      kind: 'syn_stream',
      streamId: 3,
      associatedStreamId: 1,
      priority: 7,
      slot: 0,
      fin: true,
      unidirectional: true,
      headers: [['streamtype', 'stdin']],
    },
    bytes:
      '80030001 0300002f 00000003 00000001 e000' + '00 1b00 e4ff 00000001 0000000a 73747265616d74797065 00000005 737464696e 000000ffff',
  },
  {
    name: 'SYN_REPLY id=1 {} (empty header block)',
    frame: { kind: 'syn_reply', streamId: 1, headers: [] },
    bytes: '80030002 00000012 00000001 00 0400 fbff 00000000 000000ffff',
  },
  {
    name: 'HEADERS id=1 FIN {a: b NUL c} (two values joined by NUL)',
    frame: { kind: 'headers', streamId: 1, fin: true, headers: [['a', 'b\0c']] },
    bytes: '80030008 0100001e 00000001 00 1000 efff 00000001 00000001 61 00000003 620063 000000ffff',
  },
  { name: 'RST_STREAM id=1 CANCEL', frame: { kind: 'rst_stream', streamId: 1, status: 5 }, bytes: '80030003 00000008 00000001 00000005' },
  {
    name: 'SETTINGS CLEAR_SETTINGS {PERSIST_VALUE MAX_CONCURRENT_STREAMS=100, INITIAL_WINDOW_SIZE=65536}',
    frame: {
      kind: 'settings',
      clearSettings: true,
      entries: [
        { id: 4, flags: 1, value: 100 },
        { id: 7, flags: 0, value: 65536 },
      ],
    },
    bytes: '80030004 01000014 00000002 01000004 00000064 00000007 00010000',
  },
  { name: 'PING id=1', frame: { kind: 'ping', id: 1 }, bytes: '80030006 00000004 00000001' },
  { name: 'PING id=0xfffffffe', frame: { kind: 'ping', id: 0xfffffffe }, bytes: '80030006 00000004 fffffffe' },
  { name: 'GOAWAY last=0 OK', frame: { kind: 'goaway', lastGoodStreamId: 0, status: 0 }, bytes: '80030007 00000008 00000000 00000000' },
  {
    name: 'GOAWAY last=2^31-1 INTERNAL_ERROR',
    frame: { kind: 'goaway', lastGoodStreamId: 0x7fffffff, status: 2 },
    bytes: '80030007 00000008 7fffffff 00000002',
  },
  {
    name: 'WINDOW_UPDATE session +64K',
    frame: { kind: 'window_update', streamId: 0, delta: 0x10000 },
    bytes: '80030009 00000008 00000000 00010000',
  },
  {
    name: 'WINDOW_UPDATE stream 2^31-1 +2^31-1',
    frame: { kind: 'window_update', streamId: 0x7fffffff, delta: 0x7fffffff },
    bytes: '80030009 00000008 7fffffff 7fffffff',
  },
  { name: 'DATA id=1 FIN, empty', frame: { kind: 'data', streamId: 1, fin: true, data: new Uint8Array(0) }, bytes: '00000001 01000000' },
  {
    name: 'DATA id=2^31-1 "hi"',
    frame: { kind: 'data', streamId: 0x7fffffff, data: hex('6869') },
    bytes: '7fffffff 00000002 6869',
  },
  {
    name: 'CREDENTIAL (type 10) as an unknown control frame',
    frame: { kind: 'unknown', version: 3, type: 10, payload: hex('0001 00000000') },
    bytes: '8003000a 00000006 0001 00000000',
  },
];

describe('golden vectors: encode', () => {
  const enc = new SpdyFrameEncoder({ compressionLevel: 0 });
  for (const v of VECTORS) {
    it(v.name, () => {
      expect(toHex(enc.encode(v.frame))).toBe(v.bytes.replace(/\s+/g, ''));
    });
  }
});

describe('golden vectors: decode', () => {
  it('decodes every vector back, in order, through one header context', () => {
    const dec = new SpdyFrameDecoder();
    let offset = 0;
    for (const v of VECTORS) {
      const bytes = hex(v.bytes);
      const events = dec.push(bytes);
      expect(events).toHaveLength(1);
      const f = events[0] as SpdyFrame;
      expect(f.offset).toBe(offset);
      expect(comparable(f)).toEqual({ ...comparable(v.frame), flags: bytes[4] });
      offset += bytes.length;
    }
    expect(dec.end()).toEqual([]);
  });

  it('the level-0 header blocks are one zlib stream that plain zlib inflates', () => {
    const blocks = VECTORS.slice(0, 4).map((v) => hex(v.bytes).subarray(v.frame.kind === 'syn_stream' ? 18 : 12));
    const inflated = zlib.inflateSync(concatBytes(blocks), { dictionary: SPDY3_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    expect(inflated.toString('latin1')).toContain('streamtype\0\0\0\x05error');
    expect(inflated.toString('latin1')).toContain('streamtype\0\0\0\x05stdin');
  });

  it('decodes the spec notes’ client→server vectors (CPython zlib level 9, one context)', () => {
    const dec = new SpdyFrameDecoder({ direction: 'clientToServer' });
    const frames = [
      '80030001 00000028 00000001 00000000 0000 78f9e3c6a7c202a62346703a2b294a4dcc851625aca9a08006000000ffff',
      '80030001 00000017 00000003 00000000 0000 c22e555c02cc2e00000000ffff',
      '80030001 00000019 00000005 00000000 0000 c22a054ce729f9a52500000000ffff',
    ].flatMap((h) => dec.push(hex(h)));
    expect(frames.map((f) => (f.kind === 'syn_stream' ? [f.streamId, f.headers] : f.kind))).toEqual([
      [1, [['streamtype', 'error']]],
      [3, [['streamtype', 'stdin']]],
      [5, [['streamtype', 'stdout']]],
    ]);
  });

  it('decodes the spec notes’ server→client first block (empty SYN_REPLY)', () => {
    const dec = new SpdyFrameDecoder({ direction: 'serverToClient' });
    const [f] = dec.push(hex('80030002 00000014 00000001 78f9e3c6a7c202a6230600000000ffff'));
    expect(f).toMatchObject({ kind: 'syn_reply', streamId: 1, fin: false, headers: [] });
  });

  it('reports a version-2 control frame and returns it as unknown', () => {
    const dec = new SpdyFrameDecoder({ mode: 'inspect' });
    const events = dec.push(hex('80020006 00000004 00000001'));
    expect(events[0]).toMatchObject({ kind: 'diagnostic', error: { code: 'SPDY_UNSUPPORTED_VERSION', offset: 0 } });
    expect(events[1]).toMatchObject({ kind: 'unknown', version: 2, type: 6 });
    expect(toHex((events[1] as Extract<SpdyFrame, { kind: 'unknown' }>).payload)).toBe('00000001');
    expect(() => new SpdyFrameDecoder().push(hex('80020006 00000004 00000001'))).toThrow(/version 2/);
  });

  it('masks the reserved X bit of ids when reading', () => {
    const [f] = new SpdyFrameDecoder().push(hex('80030003 00000008 80000007 00000001'));
    expect(f).toMatchObject({ kind: 'rst_stream', streamId: 7, status: 1 });
  });
});

describe('encodeDataHeader', () => {
  it('writes the 8-byte DATA header alone', () => {
    const enc = new SpdyFrameEncoder();
    expect(toHex(enc.encodeDataHeader(5, 0x123456, true))).toBe('0000000501123456');
    expect(toHex(enc.encodeDataHeader(1, 0, false))).toBe('0000000100000000');
  });

  it('rejects ids and lengths the wire cannot carry', () => {
    const enc = new SpdyFrameEncoder();
    expect(() => enc.encodeDataHeader(2 ** 31, 0, false)).toThrow(RangeError);
    expect(() => enc.encodeDataHeader(1, 2 ** 24, false)).toThrow(RangeError);
    expect(() => enc.encode({ kind: 'syn_stream', streamId: 1, priority: 8, headers: [] })).toThrow(RangeError);
  });
});
