/**
 * A joined SPDY-in-WebSocket session looks for the first whole SPDY frame of
 * each direction in the tunnelled bytes. kubectl writes 1-byte messages, and
 * looking again at every message was quadratic (a 600 KB capture took 13 s):
 * the search runs again only once the held bytes have doubled.
 */
import { describe, expect, it, vi } from 'vitest';
import { WebSocketFrameEncoder, fixedMaskSource, OPCODE } from '../../src/websocket/index.js';
import { SpdyFrameEncoder } from '../../src/spdy/index.js';
import { C, S, decode, enc, script, type Step } from './helpers.js';

const calls = vi.hoisted(() => ({ guessFraming: 0 }));
vi.mock('../../src/timeline/sniff-framing.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/timeline/sniff-framing.js')>();
  return {
    ...real,
    guessFraming: (...args: Parameters<typeof real.guessFraming>) => {
      calls.guessFraming++;
      return real.guessFraming(...args);
    },
  };
});

describe('joined SPDY tunnel, frame start not found for a long while', () => {
  it('looks for it a logarithmic number of times, not once per 1-byte message', () => {
    const client = new WebSocketFrameEncoder({ role: 'client', maskSource: fixedMaskSource(0x01020304) });
    const server = new WebSocketFrameEncoder();
    const ss = new SpdyFrameEncoder();
    const steps: Step[] = [];
    // The server's side: whole SPDY frames, so the session is a tunnel.
    for (let i = 0; i < 4; i++) {
      steps.push({ d: S, bytes: server.encode({ opcode: OPCODE.BINARY, payload: ss.encode({ kind: 'data', streamId: 1, data: enc(`reply ${i} `.padEnd(100, '.')) }) }) });
    }
    // The client's side: 40,000 one-byte messages in which no SPDY frame chain starts.
    let x = 12345;
    for (let i = 0; i < 40_000; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      steps.push({ d: C, bytes: client.encode({ opcode: OPCODE.BINARY, payload: new Uint8Array([0xff - (x >>> 28)]) }) });
    }
    calls.guessFraming = 0;
    const { decoder } = decode(script(steps, { startedLate: true }));
    const s = decoder.summary().sessions[0]!;
    expect(s.transport).toBe('websocket+spdy/3.1');
    expect(calls.guessFraming).toBeLessThan(200);
  });
});
