import { describe, expect, it } from 'vitest';
import { reassembleTcp, TcpReassembler, type TcpSegment } from '../../src/tcp/index.js';
import type { ConnectionEvent } from '../../src/tcp/types.js';
import { ACK, collect, FIN, RST, seg, SYN, text } from './helpers.js';

const C_ISN = 1000;
const S_ISN = 5000;

function handshake(): TcpSegment[] {
  return [seg('c', C_ISN, SYN), seg('s', S_ISN, SYN, '', C_ISN + 1), seg('c', C_ISN + 1, 0, '', S_ISN + 1)];
}

describe('TcpReassembler', () => {
  it('delivers both directions in order, with roles from the SYN and a FIN close', () => {
    const events = reassembleTcp([
      ...handshake(),
      seg('c', C_ISN + 1, 0, 'GET / HTTP/1.1\r\n\r\n', S_ISN + 1),
      seg('s', S_ISN + 1, 0, 'HTTP/1.1 200 OK\r\n\r\n', C_ISN + 19),
      seg('s', S_ISN + 20, FIN, '', C_ISN + 19),
      seg('c', C_ISN + 19, FIN, '', S_ISN + 21),
      seg('s', S_ISN + 21, 0, '', C_ISN + 20),
    ]);
    const got = collect(events);
    expect(text(got.c2s)).toBe('GET / HTTP/1.1\r\n\r\n');
    expect(text(got.s2c)).toBe('HTTP/1.1 200 OK\r\n\r\n');
    expect(got.open).toMatchObject({
      client: { address: '10.0.0.1', port: 50000 },
      server: { address: '10.0.0.2', port: 6443 },
      startedLate: false,
    });
    expect(got.close).toMatchObject({ reason: 'fin', direction: 'serverToClient' });
    expect(got.kinds).toEqual(['open', 'data', 'data', 'close']);
  });

  it('keeps the first copy of conflicting overlaps and reports them', () => {
    const events = reassembleTcp([
      ...handshake(),
      seg('c', C_ISN + 1, 0, 'abcdef', S_ISN + 1),
      seg('c', C_ISN + 4, 0, 'XYZghi', S_ISN + 1), // "def" re-sent as "XYZ"
    ]);
    const got = collect(events);
    expect(text(got.c2s)).toBe('abcdefghi');
    expect(got.diagnostics).toEqual(['TCP_OVERLAP_CONFLICT']);
    const d = events.find((e) => e.kind === 'diagnostic');
    expect(d?.kind === 'diagnostic' && d.error.offset).toBe(3);
    expect(d?.kind === 'diagnostic' && d.error.layer).toBe('tcp');
  });

  it('compares retransmissions against the recent bytes after many small segments (ring wraparound)', () => {
    const stream = new Uint8Array(5000).map((_, i) => (i * 31) & 255);
    const segs = [...handshake()];
    for (let o = 0; o < stream.length; o += 7) segs.push(seg('c', C_ISN + 1 + o, 0, stream.subarray(o, Math.min(stream.length, o + 7)), S_ISN + 1));
    const same = reassembleTcp([...segs, seg('c', C_ISN + 1 + 4000, 0, stream.subarray(4000, 4100), S_ISN + 1)], { overlapCheckBytes: 2048 });
    expect(collect(same).diagnostics).toEqual([]);
    const changed = stream.slice(4000, 4100);
    changed[50] ^= 1;
    const diff = reassembleTcp([...segs, seg('c', C_ISN + 1 + 4000, 0, changed, S_ISN + 1)], { overlapCheckBytes: 2048 });
    const d = diff.find((e) => e.kind === 'diagnostic');
    expect(d?.kind === 'diagnostic' && d.error.offset).toBe(4050);
    // Outside the kept window nothing can be compared, so nothing is reported.
    const old = stream.slice(100, 200);
    old[0] ^= 1;
    expect(collect(reassembleTcp([...segs, seg('c', C_ISN + 101, 0, old, S_ISN + 1)])).diagnostics).toEqual([]);
  });

  it('detects conflicts between buffered out-of-order copies', () => {
    const events = reassembleTcp([
      ...handshake(),
      seg('c', C_ISN + 4, 0, 'def', S_ISN + 1),
      seg('c', C_ISN + 4, 0, 'dXf', S_ISN + 1),
      seg('c', C_ISN + 1, 0, 'abc', S_ISN + 1),
    ]);
    const got = collect(events);
    expect(text(got.c2s)).toBe('abcdef');
    expect(got.diagnostics).toEqual(['TCP_OVERLAP_CONFLICT']);
  });

  it('does not report keep-alive probes (one garbage byte below the next sequence number)', () => {
    const events = reassembleTcp([...handshake(), seg('c', C_ISN + 1, 0, 'abc', S_ISN + 1), seg('c', C_ISN + 3, 0, '\0', S_ISN + 1)]);
    expect(collect(events).diagnostics).toEqual([]);
  });

  it('handles sequence numbers that wrap around 2^32', () => {
    const isn = 0xfffffffd;
    const events = reassembleTcp([
      seg('c', isn, SYN),
      seg('c', isn + 1 + 4, 0, 'efgh'), // arrives first, after the wrap
      seg('c', isn + 1, 0, 'abcd'),
    ]);
    expect(text(collect(events).c2s)).toBe('abcdefgh');
  });

  it('connections without a SYN: started late, client guessed from an HTTP request line', () => {
    const events = reassembleTcp([
      seg('s', 9, 0, '', 100), // pure ACK from the server first
      seg('c', 100, 0, 'POST /x HTTP/1.1\r\n', 9),
    ]);
    const got = collect(events);
    expect(got.open).toMatchObject({ startedLate: true, client: { port: 50000 }, server: { port: 6443 } });
    expect(text(got.c2s)).toBe('POST /x HTTP/1.1\r\n');
  });

  it('a quiet connection that started before the capture: its bytes come out once they waited a while, not at the end', () => {
    // as decoding a capture does: bytes with no SYN wait a few segments (or a while) for earlier ones
    const events: ConnectionEvent[] = [];
    const r = new TcpReassembler({ onEvent: (e) => events.push(e.kind === 'data' ? { ...e, bytes: Buffer.from(e.bytes) } : e), ackReorderTolerance: 64 });
    // an idle keep-alive connection: one request and its answer, then nothing until its FIN seconds later
    const req = 'POST /cri/v1/exec HTTP/1.1\r\n\r\n';
    const resp = 'HTTP/1.1 200 OK\r\n\r\n';
    // neither port well known, the client's the lower: the port rule alone would guess the sides wrong
    const c = { srcPort: 35004, dstPort: 35349 };
    const s = { srcPort: 35349, dstPort: 35004 };
    r.segment(seg('c', 100, 0, req, 9, { ...c, time: 1_000 }));
    r.segment(seg('s', 9, 0, resp, 100 + req.length, { ...s, time: 1_500 }));
    r.segment(seg('c', 100 + req.length, 0, '', 9 + resp.length, { ...c, time: 1_600 }));
    // meanwhile another connection, captured from its start, goes on for a second
    const other = { srcPort: 41000, dstPort: 8080 };
    const back = { srcPort: 8080, dstPort: 41000 };
    r.segment(seg('c', 7000, SYN, '', 0, { ...other, time: 2_000 }));
    r.segment(seg('s', 3000, SYN, '', 7001, { ...back, time: 2_100 }));
    for (let k = 0; k < 10; k++) r.segment(seg('c', 7001 + k, 0, 'x', 3001, { ...other, time: 100_000 * (k + 1) }));
    r.segment(seg('c', 100 + req.length, FIN, '', 9 + resp.length, { ...c, time: 3_000_000 }));
    r.segment(seg('s', 9 + resp.length, FIN, '', 101 + req.length, { ...s, time: 3_000_100 }));
    r.end();
    const at = (pred: (e: ConnectionEvent) => boolean) => events.findIndex(pred);
    const lateData = events.filter((e) => e.kind === 'data' && e.connection === 1);
    expect(lateData.map((e) => (e.kind === 'data' ? [e.direction, Buffer.from(e.bytes).toString()] : null))).toEqual([
      ['clientToServer', req],
      ['serverToClient', resp],
    ]);
    // opened by the ACK-only segment while the bytes wait: the held request line still says who the client is
    expect(events.find((e) => e.kind === 'open' && e.connection === 1)).toMatchObject({ startedLate: true, client: { port: 35004 }, server: { port: 35349 } });
    // out before the other connection's bytes of 200 ms later and after (not with the FIN at 3 s)
    const firstLate = at((e) => e.kind === 'data' && e.connection === 1);
    const otherAt = (t: number) => at((e) => e.kind === 'data' && e.connection === 2 && e.time === t);
    expect(firstLate).toBeLessThan(otherAt(300_000));
    // and not before its own time's neighbours: the other connection's first bytes came earlier
    expect(firstLate).toBeGreaterThan(otherAt(100_000));
    expect(text(collect(events, 1).c2s)).toBe(req);
  });

  it('without SYN or HTTP, a well-known port marks the server, else the higher port is the client', () => {
    const a = reassembleTcp([seg('s', 1, 0, 'hello')]);
    expect(collect(a).open).toMatchObject({ server: { port: 6443 }, startedLate: true });
    const b = reassembleTcp([
      { ...seg('c', 1, 0, 'x'), srcPort: 3000, dstPort: 40000 },
    ]);
    expect(b[0]).toMatchObject({ kind: 'open', client: { port: 40000 }, server: { port: 3000 } });
  });

  it('a SYN-ACK without the SYN still fixes roles and both stream starts', () => {
    const events = reassembleTcp([
      seg('s', S_ISN, SYN, '', C_ISN + 1),
      seg('c', C_ISN + 1, 0, 'hi', S_ISN + 1),
      seg('s', S_ISN + 1, 0, 'yo', C_ISN + 3),
    ]);
    const got = collect(events);
    expect(got.open).toMatchObject({ client: { port: 50000 }, startedLate: false });
    expect(text(got.c2s)).toBe('hi');
    expect(text(got.s2c)).toBe('yo');
  });

  it('declares a gap when the peer acknowledges bytes the capture never saw', () => {
    const ackAll = seg('s', S_ISN + 1, 0, '', C_ISN + 15); // server ACKs everything
    const events = reassembleTcp([
      ...handshake(),
      seg('c', C_ISN + 1, 0, 'aaaa', S_ISN + 1),
      // bytes 4..9 lost; 10..13 buffered
      seg('c', C_ISN + 11, 0, 'cccc', S_ISN + 1),
      ackAll,
      seg('c', C_ISN + 15, 0, 'dd', S_ISN + 1),
    ]);
    const got = collect(events);
    expect(got.gaps.c2s).toEqual([[4, 10]]);
    expect(text(got.c2s)).toBe('aaaa\0\0\0\0\0\0ccccdd');
    const gap = events.find((e) => e.kind === 'gap');
    // The gap comes out when the ACK is seen, not at the end of input.
    expect(gap).toMatchObject({ packet: ackAll.packet, time: ackAll.time });
  });

  it('an acknowledged hole at the end of the stream (no later data) becomes a gap at once', () => {
    const events = reassembleTcp([...handshake(), seg('s', S_ISN + 1, 0, '', C_ISN + 1 + 500)]);
    expect(collect(events).gaps.c2s).toEqual([[0, 500]]);
  });

  it('snaplen-truncated segments contribute their full length: bytes, then a gap', () => {
    const events = reassembleTcp([
      ...handshake(),
      seg('c', C_ISN + 1, 0, 'abcd', S_ISN + 1, { missing: 6 }),
      seg('c', C_ISN + 11, 0, 'klm', S_ISN + 1),
    ]);
    const got = collect(events);
    expect(got.gaps.c2s).toEqual([[4, 10]]);
    expect(text(got.c2s)).toBe('abcd\0\0\0\0\0\0klm');
  });

  it('truncated segments that arrive out of order keep their hole', () => {
    const events = reassembleTcp([
      ...handshake(),
      seg('c', C_ISN + 5, 0, 'ef', S_ISN + 1, { missing: 3 }),
      seg('c', C_ISN + 10, 0, 'jk', S_ISN + 1),
      seg('c', C_ISN + 1, 0, 'abcd', S_ISN + 1),
    ]);
    const got = collect(events);
    expect(got.gaps.c2s).toEqual([[6, 9]]);
    expect(text(got.c2s)).toBe('abcdef\0\0\0jk');
  });

  it('FIN half-closes one direction while the other keeps sending', () => {
    const events = reassembleTcp([
      ...handshake(),
      seg('c', C_ISN + 1, FIN, 'bye', S_ISN + 1),
      seg('s', S_ISN + 1, 0, 'still', C_ISN + 5),
      seg('s', S_ISN + 6, 0, ' here', C_ISN + 5),
      seg('s', S_ISN + 11, FIN, '', C_ISN + 5),
      seg('c', C_ISN + 5, 0, '', S_ISN + 12),
    ]);
    const got = collect(events);
    expect(text(got.s2c)).toBe('still here');
    expect(got.close).toMatchObject({ reason: 'fin', direction: 'clientToServer' });
  });

  it('a FIN behind a hole waits for the bytes before it', () => {
    const events = reassembleTcp([
      ...handshake(),
      seg('c', C_ISN + 4, FIN, 'def', S_ISN + 1),
      seg('s', S_ISN + 1, FIN, '', C_ISN + 1),
      seg('c', C_ISN + 1, 0, 'abc', S_ISN + 2),
    ]);
    const got = collect(events);
    expect(text(got.c2s)).toBe('abcdef');
    expect(got.close).toMatchObject({ reason: 'fin' });
    expect(got.kinds[got.kinds.length - 1]).toBe('close');
  });

  it('RST ends the connection; payload on it and later segments are ignored', () => {
    const events = reassembleTcp([
      ...handshake(),
      seg('c', C_ISN + 1, 0, 'abc', S_ISN + 1),
      seg('s', S_ISN + 1, RST, 'junk', C_ISN + 4),
      seg('c', C_ISN + 4, 0, 'def', S_ISN + 1),
    ]);
    const got = collect(events);
    expect(text(got.c2s)).toBe('abc');
    expect(got.s2c).toEqual([]);
    expect(got.close).toMatchObject({ reason: 'rst', direction: 'serverToClient' });
    expect(events.filter((e) => e.kind === 'open')).toHaveLength(1);
  });

  it('segments far larger than any MSS (offload) pass through', () => {
    const big = new Uint8Array(200_000).map((_, i) => i * 7);
    const events = reassembleTcp([...handshake(), seg('c', C_ISN + 1, 0, big, S_ISN + 1)]);
    expect(Buffer.from(collect(events).c2s).equals(Buffer.from(big))).toBe(true);
  });

  it('a buffer limit turns the hole into a gap and reports it', () => {
    const events = reassembleTcp(
      [
        ...handshake(),
        seg('c', C_ISN + 101, 0, new Uint8Array(60).fill(1), S_ISN + 1),
        seg('c', C_ISN + 161, 0, new Uint8Array(60).fill(2), S_ISN + 1),
      ],
      { maxBufferedBytesPerDirection: 100 },
    );
    const got = collect(events);
    expect(got.diagnostics).toEqual(['TCP_BUFFER_LIMIT']);
    expect(got.gaps.c2s).toEqual([[0, 100]]);
    expect(got.c2s.length).toBe(220);
  });

  it('tens of thousands of tiny segments behind a hole wait for it (a re-segmented retransmission), within the byte limits', () => {
    const stream = new Uint8Array(100_000).map((_, i) => (i * 7 + (i >> 8)) & 255);
    const segs = [...handshake()];
    const pieces: TcpSegment[] = [];
    for (let o = 10; o < stream.length; o += 5) pieces.push(seg('c', C_ISN + 1 + o, 0, stream.subarray(o, o + 5), S_ISN + 1));
    // Shuffled in windows of 4 so that most do not simply append.
    for (let w = 0; w + 4 <= pieces.length; w += 4) pieces.splice(w, 4, pieces[w + 2]!, pieces[w]!, pieces[w + 3]!, pieces[w + 1]!);
    segs.push(...pieces, seg('c', C_ISN + 1, 0, stream.subarray(0, 10), S_ISN + 1));
    const got = collect(reassembleTcp(segs));
    expect(got.diagnostics).toEqual([]);
    expect(got.gaps.c2s).toEqual([]);
    expect(Buffer.from(got.c2s).equals(Buffer.from(stream))).toBe(true);
    // The same with a tight byte limit: each piece's overhead counts, so the limit still holds.
    const tight = collect(reassembleTcp(segs, { maxBufferedBytesPerDirection: 256 * 1024 }));
    expect(tight.diagnostics).toEqual(['TCP_BUFFER_LIMIT']);
  });

  it('the overall buffer limit flushes the largest buffer, whichever connection it belongs to', () => {
    const other = (x: TcpSegment) => ({ ...x, srcPort: x.srcPort === 50000 ? 50001 : x.srcPort, dstPort: x.dstPort === 50000 ? 50001 : x.dstPort });
    const events: ConnectionEvent[] = [];
    const r = new TcpReassembler({ onEvent: (e) => events.push(e), maxBufferedBytes: 250 });
    for (const s of handshake()) r.segment(s);
    for (const s of handshake()) r.segment(other(s));
    r.segment(seg('c', C_ISN + 11, 0, new Uint8Array(100), S_ISN + 1)); // connection 1: 100 bytes behind a hole
    expect(r.bufferedBytes).toBe(100 + 64); // each buffered segment also counts 64 bytes
    r.segment(other(seg('c', C_ISN + 11, 0, new Uint8Array(60), S_ISN + 1))); // connection 2: 60 more
    const gaps = events.filter((e) => e.kind === 'gap');
    expect(gaps).toMatchObject([{ connection: 1, offset: 0, size: 10 }]);
    expect(r.bufferedBytes).toBe(60 + 64);
    expect(events.filter((e) => e.kind === 'diagnostic').map((e) => e.kind === 'diagnostic' && e.error.code)).toEqual(['TCP_BUFFER_LIMIT']);
    r.end();
  });

  it('a new SYN after the close starts a new connection; trailing ACKs do not', () => {
    const events = reassembleTcp([
      ...handshake(),
      seg('c', C_ISN + 1, RST, ''),
      seg('s', S_ISN + 1, 0, '', C_ISN + 1), // stray ACK after the reset
      seg('c', 77, SYN),
      seg('c', 78, 0, 'again'),
    ]);
    const opens = events.filter((e) => e.kind === 'open');
    expect(opens.map((e) => e.connection)).toEqual([1, 2]);
    expect(text(collect(events, 2).c2s)).toBe('again');
  });

  it('thousands of connections stream through with bounded state', () => {
    const out: ConnectionEvent[] = [];
    let maxOpen = 0;
    const r = new TcpReassembler({ onEvent: (e) => out.push(e), maxConnections: 100, maxClosedConnections: 50 });
    for (let i = 0; i < 5000; i++) {
      const port = 10000 + (i % 50000);
      const mk = (s: TcpSegment) => ({ ...s, srcPort: s.srcPort === 50000 ? port : s.srcPort, dstPort: s.dstPort === 50000 ? port : s.dstPort });
      r.segment(mk(seg('c', 1, SYN)));
      r.segment(mk(seg('c', 2, 0, `m${i}`)));
      if (i % 2 === 0) r.segment(mk(seg('c', 2 + `m${i}`.length, FIN | ACK, '', 1)));
      maxOpen = Math.max(maxOpen, r.openConnections);
    }
    r.end();
    expect(maxOpen).toBeLessThanOrEqual(100);
    const opens = out.filter((e) => e.kind === 'open').length;
    const closes = out.filter((e) => e.kind === 'close');
    expect(opens).toBe(5000);
    expect(closes.length).toBe(5000);
    expect(closes.filter((e) => e.kind === 'close' && e.reason === 'evicted').length).toBeGreaterThan(0);
    const data = out.filter((e) => e.kind === 'data').map((e) => (e.kind === 'data' ? text([...e.bytes]) : ''));
    expect(data.length).toBe(5000);
    expect(new Set(data).size).toBe(5000);
  });

  it('buffered out-of-order bytes are copies: reusing the input buffer does not change them', () => {
    const events: ConnectionEvent[] = [];
    const r = new TcpReassembler({ onEvent: (e) => events.push(e.kind === 'data' ? { ...e, bytes: Buffer.from(e.bytes) } : e) });
    for (const s of handshake()) r.segment(s);
    const input = Buffer.from('defghi');
    r.segment(seg('c', C_ISN + 4, 0, input.subarray(0, 3), S_ISN + 1)); // a Buffer view, like file reads
    input.fill(0x58); // the reader recycles its buffer
    r.segment(seg('c', C_ISN + 1, 0, 'abc', S_ISN + 1));
    r.end();
    expect(text(collect(events).c2s)).toBe('abcdef');
  });

  it('an idle timeout (capture time) closes quiet connections', () => {
    const events: ConnectionEvent[] = [];
    const r = new TcpReassembler({ onEvent: (e) => events.push(e), idleTimeout: 1e6 });
    r.segment({ ...seg('c', 1, SYN), time: 0 });
    r.segment({ ...seg('c', 2, 0, 'x'), time: 10 });
    // 5000 segments of another connection, 10 s later
    for (let i = 0; i < 5000; i++) r.segment({ ...seg('c', 100 + i, 0, 'y'), srcPort: 1234, time: 10e6 + i });
    const close = events.find((e) => e.kind === 'close' && e.connection === 1);
    expect(close).toMatchObject({ reason: 'timeout' });
    r.end();
  });

  it('strict mode throws the first anomaly', () => {
    expect(() =>
      reassembleTcp([...handshake(), seg('c', C_ISN + 1, 0, 'ab', S_ISN + 1), seg('c', C_ISN + 1, 0, 'xy', S_ISN + 1)], {
        mode: 'strict',
      }),
    ).toThrow(/retransmitted bytes differ/);
  });

  it('ACKs for FIN do not create gaps', () => {
    const events = reassembleTcp([
      ...handshake(),
      seg('c', C_ISN + 1, FIN, 'x', S_ISN + 1),
      seg('s', S_ISN + 1, FIN, '', C_ISN + 3),
      seg('c', C_ISN + 3, 0, '', S_ISN + 2),
    ]);
    const got = collect(events);
    expect(got.gaps.c2s).toEqual([]);
    expect(got.close).toMatchObject({ reason: 'fin' });
  });
});
