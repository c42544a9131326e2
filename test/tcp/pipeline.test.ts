import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeSyntheticPcapng, type SyntheticExchange } from '../../src/capture/index.js';
import { isKubewireError } from '../../src/common/errors.js';
import { CaptureDecoder, connectionEvents, decodeCaptureBytes, decodeCaptureToConnections } from '../../src/tcp/index.js';
import type { ConnectionEvent } from '../../src/tcp/types.js';
import { chunkings } from '../../src/testing/index.js';

const enc = (s: string) => new TextEncoder().encode(s);

function exchange(i: number, chunks: [boolean, string][]): SyntheticExchange {
  return {
    client: { address: '127.0.0.1', port: 40000 + i },
    server: { address: '127.0.0.1', port: 8080 },
    chunks: chunks.map(([c2s, text], k) => ({
      direction: c2s ? 'clientToServer' : 'serverToClient',
      bytes: enc(text),
      time: 1_700_000_000_000_000 + i * 1000 + k,
    })),
    mss: 7,
  };
}

/** Events with data copied and errors reduced to their codes, for comparison. */
function normal(events: ConnectionEvent[]) {
  return events.map((e) =>
    e.kind === 'data' ? { ...e, bytes: Buffer.from(e.bytes).toString() } : e.kind === 'diagnostic' ? { kind: e.kind, code: e.error.code } : e,
  );
}

const FILE = writeSyntheticPcapng([
  exchange(1, [
    [true, 'GET /exec HTTP/1.1\r\n\r\n'],
    [false, 'HTTP/1.1 101 Switching Protocols\r\n\r\n'],
  ]),
  exchange(2, [[true, 'hello'], [false, 'world'], [true, '!']]),
]);

describe('capture → connections pipeline', () => {
  it('gives the same events for any chunking of the file', () => {
    const expected = normal(decodeCaptureBytes(FILE));
    expect(expected.filter((e) => e.kind === 'open')).toHaveLength(2);
    fc.assert(
      fc.property(chunkings(FILE, 40), (chunks) => {
        const got: ConnectionEvent[] = [];
        const d = new CaptureDecoder((e) => got.push(e.kind === 'data' ? { ...e, bytes: Buffer.from(e.bytes) } : e));
        for (const c of chunks) d.push(c);
        d.end();
        expect(normal(got)).toEqual(expected);
      }),
      { numRuns: 60 },
    );
  });

  it('reads a Node Readable and an async iterable the same way', async () => {
    const expected = normal(decodeCaptureBytes(FILE));
    const pieces = Array.from({ length: Math.ceil(FILE.length / 333) }, (_, i) => Buffer.from(FILE.subarray(i * 333, i * 333 + 333)));
    const viaStream: ConnectionEvent[] = [];
    for await (const e of connectionEvents(Readable.from(pieces))) viaStream.push(e);
    expect(normal(viaStream)).toEqual(expected);
    const viaCallback: ConnectionEvent[] = [];
    const summary = await decodeCaptureToConnections(
      (async function* () {
        yield* pieces;
      })(),
      (e) => viaCallback.push(e.kind === 'data' ? { ...e, bytes: Buffer.from(e.bytes) } : e),
    );
    expect(normal(viaCallback)).toEqual(expected);
    expect(summary).toMatchObject({ format: 'pcapng', connections: 2, failed: false, diagnostics: 0, bytes: FILE.length });
  });

  it('a file cut mid-packet: everything before comes out, then a capture diagnostic, then the closes', () => {
    const cut = FILE.subarray(0, Math.floor(FILE.length * 0.8));
    const events = decodeCaptureBytes(cut);
    const diag = events.find((e) => e.kind === 'diagnostic');
    expect(diag?.kind === 'diagnostic' && diag.error.code).toBe('CAPTURE_TRUNCATED_PACKET');
    expect(diag?.kind === 'diagnostic' && diag.error.layer).toBe('capture');
    const data = events.filter((e) => e.kind === 'data').map((e) => (e.kind === 'data' ? Buffer.from(e.bytes).toString() : ''));
    expect(data.join('')).toContain('HTTP/1.1 101 Switching Protocols');
    const last = events[events.length - 1];
    expect(last).toMatchObject({ kind: 'close', reason: 'end-of-input' });
    expect(events.indexOf(diag!)).toBeLessThan(events.indexOf(last!));
  });

  it('strict mode rejects with the typed error', async () => {
    await expect(decodeCaptureToConnections(FILE.subarray(0, 100), () => {}, { mode: 'strict' })).rejects.toSatisfy(isKubewireError);
  });

  it('random bytes never make the pipeline throw in inspect mode', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (tail, ng) => {
        const head = ng ? FILE.subarray(0, 200) : new Uint8Array([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0]);
        const bytes = new Uint8Array(head.length + tail.length);
        bytes.set(head);
        bytes.set(tail, head.length);
        const events = decodeCaptureBytes(bytes);
        expect(events.filter((e) => e.kind === 'open').length).toBe(events.filter((e) => e.kind === 'close').length);
      }),
      { numRuns: 200 },
    );
  });

  it('a file whose link type is wrong says so (not one packet held TCP), instead of decoding to nothing cleanly', () => {
    const right = readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'k127-exec.pcap'));
    const codes = (b: Uint8Array) => decodeCaptureBytes(b).flatMap((e) => (e.kind === 'diagnostic' ? [e.error.code] : []));
    expect(codes(right)).toEqual([]);
    const wrong = Buffer.from(right);
    wrong.writeUInt32LE(113, 20); // Linux cooked capture, over what are Ethernet frames
    const diagnostics = decodeCaptureBytes(wrong).filter((e) => e.kind === 'diagnostic');
    expect(diagnostics.map((e) => e.kind === 'diagnostic' && e.error.code)).toEqual(['CAPTURE_NO_TCP']);
    expect(diagnostics[0]!.kind === 'diagnostic' && diagnostics[0]!.error.message).toMatch(/none of the \d+ packets of link type 113/);
  });
});
