/**
 * HPACK against RFC 7541 Appendix C (every example, with the dynamic table
 * after each block), the Huffman code's shape, and garbage.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KubewireError } from '../../src/common/errors.js';
import { HpackDecoder, decodeHuffman, encodeHuffman } from '../../src/http2/index.js';
import { HUFFMAN_CODES } from '../../src/http2/hpack/huffman-table.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

const REQUESTS = [
  [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']],
  [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']],
  [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']],
];
/** Table sizes after each request (C.3.1–C.3.3, same with Huffman in C.4). */
const REQUEST_TABLE_SIZES = [57, 110, 164];

const RESPONSES = [
  [[':status', '302'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com']],
  [[':status', '307'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com']],
  [
    [':status', '200'],
    ['cache-control', 'private'],
    ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
    ['location', 'https://www.example.com'],
    ['content-encoding', 'gzip'],
    ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
  ],
];
/** C.5.1–C.5.3 (table of 256 octets: entries are evicted). */
const RESPONSE_TABLE_SIZES = [222, 222, 215];

describe('RFC 7541 Appendix C', () => {
  it('C.2: one field of each representation', () => {
    expect(new HpackDecoder().decode(hex('400a637573746f6d2d6b65790d637573746f6d2d686561646572'))).toEqual([['custom-key', 'custom-header']]);
    const d = new HpackDecoder();
    expect(d.decode(hex('040c2f73616d706c652f70617468'))).toEqual([[':path', '/sample/path']]);
    expect(d.tableSize).toBe(0);
    const never = new HpackDecoder();
    expect(never.decode(hex('100870617373776f726406736563726574'))).toEqual([['password', 'secret']]);
    expect(never.tableSize).toBe(0);
    expect(new HpackDecoder().decode(hex('82'))).toEqual([[':method', 'GET']]);
  });

  for (const [name, blocks] of [
    ['C.3 requests without Huffman coding', ['828684410f7777772e6578616d706c652e636f6d', '828684be58086e6f2d6361636865', '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565']],
    ['C.4 requests with Huffman coding', ['828684418cf1e3c2e5f23a6ba0ab90f4ff', '828684be5886a8eb10649cbf', '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf']],
  ] as const) {
    it(name, () => {
      const d = new HpackDecoder();
      blocks.forEach((b, i) => {
        expect(d.decode(hex(b))).toEqual(REQUESTS[i]);
        expect(d.tableSize).toBe(REQUEST_TABLE_SIZES[i]);
      });
    });
  }

  for (const [name, blocks] of [
    [
      'C.5 responses without Huffman coding',
      [
        '4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d',
        '4803333037c1c0bf',
        '88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31',
      ],
    ],
    [
      'C.6 responses with Huffman coding',
      [
        '488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3',
        '4883640effc1c0bf',
        '88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007',
      ],
    ],
  ] as const) {
    it(`${name} (256-octet table, with evictions)`, () => {
      const d = new HpackDecoder({ maxTableSize: 256 });
      blocks.forEach((b, i) => {
        expect(d.decode(hex(b))).toEqual(RESPONSES[i]);
        expect(d.tableSize).toBe(RESPONSE_TABLE_SIZES[i]);
      });
    });
  }
});

describe('Huffman code', () => {
  it('is complete: with EOS, the code lengths fill the code space exactly (Kraft sum 1)', () => {
    // in units of 2^-30, the longest code
    let sum = 1; // EOS: 30 bits
    for (const c of HUFFMAN_CODES) sum += 2 ** (30 - Number(c.split(':')[0]));
    expect(HUFFMAN_CODES.length).toBe(256);
    expect(sum).toBe(2 ** 30);
  });

  it('round-trips any octets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const r = decodeHuffman(encodeHuffman(b));
        expect(r.ok && Buffer.from(r.bytes).equals(Buffer.from(b))).toBe(true);
      }),
    );
  });

  it('refuses padding that is long or not all ones, and EOS', () => {
    expect(decodeHuffman(hex('ff'))).toMatchObject({ ok: false }); // 8 bits of padding
    const zero = decodeHuffman(Uint8Array.of(0x07)); // '0' (00000) and 3 bits of padding, all ones
    expect(zero.ok && Buffer.from(zero.bytes).toString()).toBe('0');
    expect(decodeHuffman(hex('00'))).toMatchObject({ ok: false, why: expect.stringContaining('not all ones') });
    expect(decodeHuffman(hex('ffffffff'))).toMatchObject({ ok: false, why: expect.stringContaining('EOS') });
  });
});

describe('garbage', () => {
  it('any bytes give header fields or a KubewireError with an HTTP2_HPACK_ code, never anything else', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }), (blocks) => {
        const d = new HpackDecoder();
        for (const b of blocks) {
          try {
            const fields = d.decode(b);
            expect(Array.isArray(fields)).toBe(true);
          } catch (e) {
            expect(e).toBeInstanceOf(KubewireError);
            expect((e as KubewireError).code).toMatch(/^HTTP2_HPACK_/);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps the table bounded whatever SETTINGS announce', () => {
    const d = new HpackDecoder({ tableSizeLimit: 8192 });
    d.allowTableSize(2 ** 32 - 1);
    expect(d.decode(hex('3fe13f'))).toEqual([]); // 8192: the limit
    expect(() => new HpackDecoder({ tableSizeLimit: 8192 }).decode(hex('3fe23f'))).toThrow(/over the allowed/);
    const big = new HpackDecoder({ tableSizeLimit: 8192 });
    big.allowTableSize(2 ** 32 - 1);
    expect(() => big.decode(hex('3fe23f'))).toThrow(/8193 over the allowed 8192/);
  });

  it('a failed block fails every later one (the table is out of step)', () => {
    const d = new HpackDecoder();
    expect(() => d.decode(hex('be'))).toThrow(/index 62 beyond/);
    expect(() => d.decode(hex('82'))).toThrow(KubewireError);
  });

  it('a huge integer is an error, not a hang or a wrong number', () => {
    expect(() => new HpackDecoder().decode(hex('ff' + 'ff'.repeat(10) + '01'))).toThrow(/too large/);
    expect(new HpackDecoder().decode(hex('3fe11f'))).toEqual([]); // size update to 4096: allowed
    expect(() => new HpackDecoder().decode(hex('3fe21f'))).toThrow(/table size 4097 over the allowed 4096/);
  });
});
