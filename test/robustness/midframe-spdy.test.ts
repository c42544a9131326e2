/**
 * A SPDY capture joined inside a PING frame: the tail of the PING reads as a
 * DATA header whose length swallows real frames and still chains to a later
 * boundary. The decoder must take the real frames (regression: a cut that
 * once lost 852 bytes of stdin to a phantom stream 0x03000000).
 */
import { describe, expect, it } from 'vitest';
import type { Direction } from '../../src/common/errors.js';
import { SpdyFrameEncoder } from '../../src/spdy/index.js';
import type { ConnectionEvent } from '../../src/tcp/types.js';
import { SessionDecoder } from '../../src/timeline/index.js';

const enc = (s: string) => new TextEncoder().encode(s);

function side(streamId: number): { bytes: Uint8Array; frames: Array<[number, number]> } {
  const e = new SpdyFrameEncoder();
  const parts: Uint8Array[] = [];
  const frames: Array<[number, number]> = []; // [start, payload length] of DATA frames
  let n = 0;
  for (let i = 0; i < 40; i++) {
    const line = enc(`line ${i} ${'x'.repeat(i * 7)}\n`);
    const f = e.encode({ kind: 'data', streamId, data: line });
    frames.push([n, line.length]);
    parts.push(f);
    n += f.length;
    if (i % 5 === 0) {
      const p = e.encode({ kind: 'ping', id: 2 * i + 1 });
      parts.push(p);
      n += p.length;
    }
    if (streamId === 3 && i % 10 === 9) {
      // a terminal size on stream 7 now and then, as a TTY client sends
      const r = e.encode({ kind: 'data', streamId: 7, data: enc(`{"Width":${80 + i},"Height":24}\n`) });
      parts.push(r);
      n += r.length;
    }
  }
  return { bytes: Buffer.concat(parts), frames };
}

describe('SPDY joined inside a frame', () => {
  it('every DATA frame wholly after the cut is counted, no phantom stream', () => {
    const c = side(3);
    const s = side(5);
    for (const [cut, piece] of [17, 18, 20, 23].flatMap((x) => [500, 700, 1400].map((p) => [x, p] as const))) {
      const dec = new SessionDecoder({ frameEvents: false });
      const ev: ConnectionEvent[] = [{ kind: 'open', connection: 1, client: { address: '10.0.0.1', port: 40000 }, server: { address: '10.0.0.2', port: 10250 }, time: 0, startedLate: true }];
      let t = 1;
      const pos: Record<Direction, number> = { clientToServer: cut, serverToClient: 0 };
      const src: Record<Direction, Uint8Array> = { clientToServer: c.bytes, serverToClient: s.bytes };
      while (pos.clientToServer < c.bytes.length || pos.serverToClient < s.bytes.length) {
        for (const d of ['clientToServer', 'serverToClient'] as const) {
          const b = src[d];
          if (pos[d] >= b.length) continue;
          const end = Math.min(b.length, pos[d] + piece);
          ev.push({ kind: 'data', connection: 1, direction: d, bytes: b.subarray(pos[d], end), offset: pos[d] - (d === 'clientToServer' ? cut : 0), time: t++ });
          pos[d] = end;
        }
      }
      ev.push({ kind: 'close', connection: 1, reason: 'fin', time: t });
      for (const e of ev) dec.push(e);
      dec.finish();
      const ss = dec.summary().sessions[0]!;
      const want = c.frames.filter(([start]) => start >= cut).reduce((a, [, l]) => a + l, 0);
      const got = ss.streams.filter((x) => x.clientToServer.bytes > 0 && x.id !== 7).map((x) => `${x.id}:${x.clientToServer.bytes}`);
      expect(got, `cut at ${cut}, pieces of ${piece}`).toEqual([`3:${want}`]);
    }
  });
});
