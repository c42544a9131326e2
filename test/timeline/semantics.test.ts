import { describe, expect, it } from 'vitest';
import { SpdyFrameEncoder } from '../../src/spdy/index.js';
import { timelineEventToJson } from '../../src/timeline/index.js';
import { C, S, decode, enc, script, type Step } from './helpers.js';

function spdyUpgrade(protocol: string, query: string): Step[] {
  return [
    { d: C, bytes: enc(`POST /api/v1/namespaces/default/pods/web/exec?${query} HTTP/1.1\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`) },
    { d: S, bytes: enc(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`) },
  ];
}

describe('session semantics', () => {
  it('reads a V2/V3 text error stream as a failure, and an empty one as success', () => {
    for (const [text, expected] of [
      ['command terminated with non-zero exit code: exit status 2', { status: 'Failure', code: null, message: 'command terminated with non-zero exit code: exit status 2' }],
      ['', { status: 'Success', code: 0 }],
    ] as const) {
      const c = new SpdyFrameEncoder();
      const s = new SpdyFrameEncoder();
      const steps = [
        ...spdyUpgrade('v3.channel.k8s.io', 'command=true&stdout=true'),
        { d: C, bytes: c.encode({ kind: 'syn_stream', streamId: 1, headers: [['streamtype', 'error']] }) },
        { d: S, bytes: s.encode({ kind: 'syn_reply', streamId: 1, headers: [] }) },
        { d: S, bytes: s.encode({ kind: 'data', streamId: 1, data: enc(text), fin: true }) },
      ];
      const sum = decode(script(steps)).decoder.summary().sessions[0]!;
      expect(sum.exit).toMatchObject(expected);
      expect(sum.protocol).toBe('v3.channel.k8s.io');
    }
  });

  it('tracks SPDY flow control: a used-up window that a WINDOW_UPDATE reopens is a stall', () => {
    const c = new SpdyFrameEncoder();
    const s = new SpdyFrameEncoder();
    const chunk = new Uint8Array(16384);
    const steps: Step[] = [
      ...spdyUpgrade('v4.channel.k8s.io', 'command=cat&stdout=true'),
      { d: C, bytes: c.encode({ kind: 'syn_stream', streamId: 1, headers: [['streamtype', 'error']] }) },
      { d: C, bytes: c.encode({ kind: 'syn_stream', streamId: 3, headers: [['streamtype', 'stdout']] }) },
    ];
    for (let i = 0; i < 4; i++) steps.push({ d: S, bytes: s.encode({ kind: 'data', streamId: 3, data: chunk }) });
    steps.push({ d: C, bytes: c.encode({ kind: 'window_update', streamId: 3, delta: 65536 }) });
    steps.push({ d: C, bytes: c.encode({ kind: 'window_update', streamId: 0, delta: 65536 }) });
    steps.push({ d: S, bytes: s.encode({ kind: 'data', streamId: 3, data: chunk }) });
    const { decoder, events } = decode(script(steps));
    const fc = events.filter((e) => e.kind === 'flow-control');
    expect(fc.map((e) => e.kind === 'flow-control' && [e.streamId, e.state])).toEqual([
      [0, 'exhausted'],
      [3, 'exhausted'],
      [3, 'resumed'],
      [0, 'resumed'],
    ]);
    const resumed = fc[2]!;
    expect(resumed.kind === 'flow-control' && resumed.stalledUs).toBe(1000);
    const sum = decoder.summary().sessions[0]!;
    expect(sum.flowControlStalls).toBe(2);
    expect(sum.flowControlOverruns).toBe(0);
    expect(events.filter((e) => e.kind === 'window-update')).toHaveLength(2);
  });

  it('counts a sender that ignores flow control as an overrun, not a stall', () => {
    const c = new SpdyFrameEncoder();
    const s = new SpdyFrameEncoder();
    const steps: Step[] = [
      ...spdyUpgrade('v4.channel.k8s.io', 'command=cat&stdout=true'),
      { d: C, bytes: c.encode({ kind: 'syn_stream', streamId: 3, headers: [['streamtype', 'stdout']] }) },
    ];
    for (let i = 0; i < 6; i++) steps.push({ d: S, bytes: s.encode({ kind: 'data', streamId: 3, data: new Uint8Array(16384) }) });
    const sum = decode(script(steps)).decoder.summary().sessions[0]!;
    expect(sum.flowControlOverruns).toBe(2); // the stream window and the session window
    expect(sum.flowControlStalls).toBe(0);
    expect(sum.streams[0]!.serverToClient.bytes).toBe(6 * 16384);
  });

  it('flags data on a stream nobody opened, and a SYN_STREAM without streamtype', () => {
    const c = new SpdyFrameEncoder();
    const s = new SpdyFrameEncoder();
    const steps: Step[] = [
      ...spdyUpgrade('v4.channel.k8s.io', 'command=cat&stdout=true'),
      { d: C, bytes: c.encode({ kind: 'syn_stream', streamId: 1, headers: [['x', 'y']] }) },
      { d: S, bytes: s.encode({ kind: 'data', streamId: 9, data: enc('zz') }) },
    ];
    const { events } = decode(script(steps));
    const codes = events.flatMap((e) => (e.kind === 'diagnostic' ? [[e.error.code, e.streamId, e.direction]] : []));
    expect(codes).toEqual([
      ['TIMELINE_UNKNOWN_STREAM_TYPE', 1, C],
      ['TIMELINE_UNKNOWN_STREAM', 9, S],
    ]);
  });
});

describe('event JSON', () => {
  it('gives bytes as a length, base64 only when asked, and errors as plain objects', () => {
    const ev = {
      kind: 'stream-data' as const,
      time: 1,
      connection: 1,
      session: 1,
      direction: C,
      streamId: 3,
      role: 'stdin' as const,
      bytes: enc('hi'),
      offset: 0,
    };
    expect(timelineEventToJson(ev)).toEqual({ kind: 'stream-data', time: 1, connection: 1, session: 1, direction: C, streamId: 3, role: 'stdin', length: 2, offset: 0 });
    expect(timelineEventToJson(ev, { bytes: true })).toMatchObject({ length: 2, base64: 'aGk=' });
    const { events } = decode(script([{ d: C, bytes: enc('GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n') }]));
    const diag = events.find((e) => e.kind === 'diagnostic')!;
    expect(JSON.parse(JSON.stringify(timelineEventToJson(diag)))).toMatchObject({ kind: 'diagnostic', connection: 1, error: { layer: 'http', code: 'HTTP_BAD_CONTENT_LENGTH', direction: C } });
  });
});

describe('port-forward errors', () => {
  it('keeps what the server wrote on an error stream', () => {
    const c = new SpdyFrameEncoder();
    const s = new SpdyFrameEncoder();
    const steps: Step[] = [
      { d: C, bytes: enc('POST /api/v1/namespaces/default/pods/web/portforward HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n') },
      { d: S, bytes: enc('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n') },
      { d: C, bytes: c.encode({ kind: 'syn_stream', streamId: 1, headers: [['streamtype', 'error'], ['port', '9999'], ['requestid', '0']] }) },
      { d: C, bytes: c.encode({ kind: 'data', streamId: 1, data: new Uint8Array(0), fin: true }) },
      { d: C, bytes: c.encode({ kind: 'syn_stream', streamId: 3, headers: [['streamtype', 'data'], ['port', '9999'], ['requestid', '0']] }) },
      { d: S, bytes: s.encode({ kind: 'data', streamId: 1, data: enc('error forwarding port 9999 to pod web: connection refused'), fin: true }) },
      { d: S, bytes: s.encode({ kind: 'rst_stream', streamId: 3, status: 5 }) },
    ];
    const sum = decode(script(steps)).decoder.summary().sessions[0]!;
    expect(sum.kind).toBe('portforward');
    expect(sum.exit).toBeNull();
    expect(sum.streams[0]).toMatchObject({ role: 'error', port: 9999, requestId: '0', message: 'error forwarding port 9999 to pod web: connection refused' });
    expect(sum.streams[1]).toMatchObject({ role: 'data', reset: { direction: S, statusName: 'CANCEL' } });
    expect(sum.streams[1]!.message).toBeUndefined();
  });
});

describe('joined port-forward', () => {
  it('knows port-forward by the error stream the client closes right after opening it', () => {
    const c = new SpdyFrameEncoder();
    const s = new SpdyFrameEncoder();
    const cParts: Uint8Array[] = [];
    const sParts: Uint8Array[] = [];
    for (let req = 0; req < 3; req++) {
      const e = 1 + 4 * req;
      const headers = (t: string): Array<[string, string]> => [['streamtype', t], ['port', '8080'], ['requestid', String(req)]];
      cParts.push(c.encode({ kind: 'syn_stream', streamId: e, headers: headers('error') }));
      cParts.push(c.encode({ kind: 'data', streamId: e, data: new Uint8Array(0), fin: true }));
      cParts.push(c.encode({ kind: 'syn_stream', streamId: e + 2, headers: headers('data') }));
      sParts.push(s.encode({ kind: 'syn_reply', streamId: e, headers: [] }));
      sParts.push(s.encode({ kind: 'syn_reply', streamId: e + 2, headers: [] }));
      sParts.push(s.encode({ kind: 'data', streamId: e + 2, data: enc(`response ${req}`) }));
      sParts.push(s.encode({ kind: 'data', streamId: e + 2, data: new Uint8Array(0), fin: true }));
    }
    // join after the first request: header blocks cannot be inflated from here on
    const steps: Step[] = [];
    for (let i = 3; i < cParts.length; i++) steps.push({ d: C, bytes: cParts[i]! });
    for (let i = 4; i < sParts.length; i++) steps.push({ d: S, bytes: sParts[i]! });
    const { decoder } = decode(script(steps, { startedLate: true }));
    const sum = decoder.summary().sessions[0]!;
    expect(sum).toMatchObject({ kind: 'portforward', inferred: true, transport: 'spdy/3.1' });
    expect(sum.streams.map((x) => [x.id, x.role])).toEqual([
      [5, 'error'],
      [7, 'data'],
      [9, 'error'],
      [11, 'data'],
    ]);
    expect(sum.streams[3]!.serverToClient.bytes).toBe('response 2'.length);
  });
});

describe('protocol violations', () => {
  it('flags DATA after a FIN on the same side, and still counts it', () => {
    const c = new SpdyFrameEncoder();
    const steps: Step[] = [
      ...spdyUpgrade('v4.channel.k8s.io', 'command=cat&stdin=true'),
      { d: C, bytes: c.encode({ kind: 'syn_stream', streamId: 3, headers: [['streamtype', 'stdin']] }) },
      { d: C, bytes: c.encode({ kind: 'data', streamId: 3, data: enc('a'), fin: true }) },
      { d: C, bytes: c.encode({ kind: 'data', streamId: 3, data: enc('b') }) },
    ];
    const { decoder, events } = decode(script(steps));
    const d = events.find((e) => e.kind === 'diagnostic');
    expect(d).toMatchObject({ direction: C, streamId: 3, error: { code: 'TIMELINE_DATA_AFTER_FIN' } });
    expect(decoder.summary().sessions[0]!.streams[0]!.clientToServer.bytes).toBe(2);
  });
});
