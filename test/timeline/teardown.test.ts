/**
 * A normal end is not a broken frame: a frame cut by the connection's own
 * close after the session was over is a `teardown` event, and one cut before
 * stays a diagnostic (issue 16, part 1).
 */
import { describe, expect, it } from 'vitest';
import { SpdyFrameEncoder } from '../../src/spdy/index.js';
import { OPCODE, WebSocketFrameEncoder, fixedMaskSource } from '../../src/websocket/index.js';
import { formatTimelineEvent } from '../../src/cli/output/timeline.js';
import { Chalk } from 'chalk';
import { C, S, cat, decode, enc, script, type Step } from './helpers.js';

const SUCCESS = '{"metadata":{},"status":"Success"}';

/** client-go's exec on the runtime hop up to the status, as containerd answers it. */
function spdyExec(withStatus: boolean): { steps: Step[]; goaway: Uint8Array } {
  const c = new SpdyFrameEncoder();
  const s = new SpdyFrameEncoder();
  const steps: Step[] = [
    { d: C, bytes: enc('POST /exec/tok HTTP/1.1\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n') },
    { d: S, bytes: enc('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n') },
    { d: C, bytes: c.encode({ kind: 'syn_stream', streamId: 1, headers: [['streamtype', 'error']] }) },
    { d: S, bytes: s.encode({ kind: 'syn_reply', streamId: 1, headers: [] }) },
    { d: C, bytes: c.encode({ kind: 'syn_stream', streamId: 3, headers: [['streamtype', 'stdout']] }) },
    { d: S, bytes: s.encode({ kind: 'syn_reply', streamId: 3, headers: [] }) },
    { d: S, bytes: s.encode({ kind: 'data', streamId: 3, data: enc('hi\n'), fin: true }) },
  ];
  if (withStatus) {
    steps.push({ d: S, bytes: s.encode({ kind: 'data', streamId: 1, data: enc(SUCCESS) }) });
    steps.push({ d: S, bytes: s.encode({ kind: 'goaway', lastGoodStreamId: 3, status: 0 }) });
  }
  return { steps, goaway: c.encode({ kind: 'goaway', lastGoodStreamId: 0, status: 0 }) };
}

const plain = new Chalk({ level: 0 });

/** kubectl 1.33's exec over WebSocket v5: stdout, the status, then the close handshake. */
function wsExec(): Step[] {
  const c = new WebSocketFrameEncoder({ role: 'client', maskSource: fixedMaskSource(0x11223344) });
  const s = new WebSocketFrameEncoder({ role: 'server' });
  const bin = (ch: number, p: string) => cat(new Uint8Array([ch]), enc(p));
  const close = new Uint8Array([0x03, 0xe8]);
  return [
    {
      d: C,
      bytes: enc(
        'GET /api/v1/namespaces/ns1/pods/p1/exec?command=date&stdout=true HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n',
      ),
    },
    {
      d: S,
      bytes: enc('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n'),
    },
    { d: S, bytes: s.encode({ opcode: OPCODE.BINARY, payload: bin(1, 'a long enough line of output\n') }) },
    { d: S, bytes: s.encode({ opcode: OPCODE.BINARY, payload: bin(3, SUCCESS) }) },
    { d: S, bytes: s.encode({ opcode: OPCODE.CLOSE, payload: close }) },
    { d: C, bytes: c.encode({ opcode: OPCODE.CLOSE, payload: close }) },
  ];
}

describe('teardown: a frame cut by the close after the session ended', () => {
  for (const [cut, frame, text] of [
    [2, 'control', 'closing control frame cut by RST (2 header bytes)'],
    [4, 'goaway', 'closing GOAWAY cut by RST (4 header bytes)'],
    [12, 'goaway', 'closing GOAWAY cut by RST (12 of 16 bytes)'],
  ] as const) {
    it(`the client's closing GOAWAY cut by a RST after ${cut} bytes is teardown: no diagnostic, named in the timeline and the summary`, () => {
      const { steps, goaway } = spdyExec(true);
      steps.push({ d: C, bytes: goaway.subarray(0, cut) });
      const { decoder, events } = decode(script(steps, { close: 'rst' }));
      expect(events.filter((e) => e.kind === 'diagnostic')).toEqual([]);
      const td = events.filter((e) => e.kind === 'teardown');
      expect(td).toHaveLength(1);
      expect(td[0]).toMatchObject({ direction: C, layer: 'spdy', frame, have: cut, cutBy: 'rst' });
      expect(formatTimelineEvent(td[0]!, plain)).toContain(text);
      const sum = decoder.summary();
      expect(sum.diagnostics).toBe(0);
      expect(sum.sessions[0]!.exit).toMatchObject({ status: 'Success', code: 0 });
      expect(sum.sessions[0]!.teardown).toEqual({ direction: C, layer: 'spdy', frame, have: cut, need: cut >= 8 ? 16 : null, cutBy: 'rst' });
    });
  }

  it('also when a FIN cuts it', () => {
    const { steps, goaway } = spdyExec(true);
    steps.push({ d: C, bytes: goaway.subarray(0, 3) });
    const { decoder, events } = decode(script(steps, { close: 'fin' }));
    expect(decoder.summary().diagnostics).toBe(0);
    expect(events.find((e) => e.kind === 'teardown')).toMatchObject({ cutBy: 'fin' });
  });

  it('a frame cut before the session ended (no exit status, streams open) stays a diagnostic', () => {
    const { steps, goaway } = spdyExec(false);
    steps.push({ d: C, bytes: goaway.subarray(0, 2) });
    const { decoder, events } = decode(script(steps, { close: 'rst' }));
    expect(events.filter((e) => e.kind === 'teardown')).toEqual([]);
    const diags = events.filter((e) => e.kind === 'diagnostic');
    expect(diags.map((e) => e.kind === 'diagnostic' && e.error.code)).toEqual(['SPDY_TRUNCATED_FRAME']);
    expect(decoder.summary().sessions[0]!.teardown).toBeNull();
  });

  it('a capture that stops inside a frame (no close seen) stays a diagnostic, even after the exit', () => {
    const { steps, goaway } = spdyExec(true);
    steps.push({ d: C, bytes: goaway.subarray(0, 2) });
    const { decoder } = decode(script(steps, { close: null }));
    expect(decoder.summary().diagnostics).toBe(1);
  });

  it("a WebSocket client's close frame cut by the RST after the server's close is teardown", () => {
    const steps = wsExec();
    const last = steps.pop()!;
    expect(last.bytes[0]! & 0x0f).toBe(OPCODE.CLOSE);
    steps.push({ d: C, bytes: last.bytes.subarray(0, 3) });
    const { decoder, events } = decode(script(steps, { close: 'rst' }));
    expect(decoder.summary().diagnostics).toBe(0);
    const td = events.find((e) => e.kind === 'teardown');
    expect(td).toMatchObject({ layer: 'websocket', frame: 'close', have: 3, cutBy: 'rst' });
    expect(formatTimelineEvent(td!, plain)).toContain('closing close frame cut by RST');
  });

  it('a WebSocket data frame cut before the status and close stays a diagnostic', () => {
    const steps = wsExec().slice(0, 3);
    const cutFrom = steps.pop()!;
    steps.push({ d: cutFrom.d, bytes: cutFrom.bytes.subarray(0, cutFrom.bytes.length - 1) });
    const { decoder, events } = decode(script(steps, { close: 'rst' }));
    expect(events.filter((e) => e.kind === 'teardown')).toEqual([]);
    expect(decoder.summary().diagnostics).toBeGreaterThan(0);
  });

  it('a port-forward whose streams are all closed: a cut frame is teardown', () => {
    const { steps, c } = portForward(true);
    const goaway = c.encode({ kind: 'goaway', lastGoodStreamId: 0, status: 0 });
    const over = decode(script([...steps, { d: C, bytes: goaway.subarray(0, 5) }], { close: 'rst' }));
    expect(over.decoder.summary().diagnostics).toBe(0);
    expect(over.events.some((e) => e.kind === 'teardown')).toBe(true);
  });
});

/**
 * A port-forward's error and data streams, one exchange on the data stream;
 * `closed`: every stream closed both ways, else the data stream still open
 * (as when kubectl port-forward is stopped).
 */
function portForward(closed: boolean): { steps: Step[]; c: SpdyFrameEncoder } {
  const c = new SpdyFrameEncoder();
  const s = new SpdyFrameEncoder();
  const steps: Step[] = [
    { d: C, bytes: enc('POST /api/v1/namespaces/default/pods/web/portforward HTTP/1.1\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n') },
    { d: S, bytes: enc('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n') },
    { d: C, bytes: c.encode({ kind: 'syn_stream', streamId: 1, headers: [['streamtype', 'error'], ['port', '80'], ['requestid', '0']], fin: true }) },
    { d: C, bytes: c.encode({ kind: 'syn_stream', streamId: 3, headers: [['streamtype', 'data'], ['port', '80'], ['requestid', '0']] }) },
    { d: C, bytes: c.encode({ kind: 'data', streamId: 3, data: enc('ping'), fin: closed }) },
    { d: S, bytes: s.encode({ kind: 'data', streamId: 3, data: enc('pong'), fin: closed }) },
  ];
  if (closed) steps.push({ d: S, bytes: s.encode({ kind: 'data', streamId: 1, data: new Uint8Array(0), fin: true }) });
  return { steps, c };
}

describe("teardown: a closing frame cut by its own sender's close, whatever is still open", () => {
  /** The script's events with the close sent by `by`. */
  function closedBy(steps: Step[], by: typeof C | typeof S) {
    const events = script(steps, { close: 'rst' });
    const last = events[events.length - 1]!;
    if (last.kind === 'close') last.direction = by;
    return events;
  }

  // kubectl 1.27 port-forward stopped through the tap: its RST_STREAM cut after 4 bytes by its own kernel's RST
  it('an RST_STREAM cut by the RST of the side that sent it is teardown, with the stream left open in the summary', () => {
    const { steps, c } = portForward(false);
    steps.push({ d: C, bytes: c.encode({ kind: 'rst_stream', streamId: 3, status: 5 }).subarray(0, 4) });
    const { decoder, events } = decode(closedBy(steps, C));
    expect(events.filter((e) => e.kind === 'diagnostic')).toEqual([]);
    expect(events.find((e) => e.kind === 'teardown')).toMatchObject({ direction: C, layer: 'spdy', frame: 'rst_stream', have: 4, cutBy: 'rst' });
    const session = decoder.summary().sessions[0]!;
    expect(session.teardown).toMatchObject({ frame: 'rst_stream', have: 4 });
    // what was still open stays visible
    expect(session.streams.find((x) => x.id === 3)!.halfClosed).toEqual({ clientToServer: false, serverToClient: false });
  });

  it('a GOAWAY cut by the RST of the side that sent it is teardown too', () => {
    const { steps, c } = portForward(false);
    steps.push({ d: C, bytes: c.encode({ kind: 'goaway', lastGoodStreamId: 0, status: 0 }).subarray(0, 5) });
    const { decoder } = decode(closedBy(steps, C));
    expect(decoder.summary().diagnostics).toBe(0);
  });

  it('stays a diagnostic when the other side closed, when the frame is not a closing one, or when its type had not arrived', () => {
    const cut = (frame: (c: SpdyFrameEncoder) => Uint8Array, n: number, by: typeof C | typeof S) => {
      const { steps, c } = portForward(false);
      steps.push({ d: C, bytes: frame(c).subarray(0, n) });
      const { decoder, events } = decode(closedBy(steps, by));
      expect(events.filter((e) => e.kind === 'teardown')).toEqual([]);
      return decoder.summary().diagnostics;
    };
    const goaway = (c: SpdyFrameEncoder) => c.encode({ kind: 'goaway', lastGoodStreamId: 0, status: 0 });
    expect(cut(goaway, 5, S)).toBe(1);
    expect(cut((c) => c.encode({ kind: 'data', streamId: 3, data: enc('more bytes') }), 9, C)).toBe(1);
    expect(cut(goaway, 3, C)).toBe(1);
  });
});
