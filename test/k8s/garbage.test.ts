/** Garbage in: inspect mode never throws, strict mode throws only KubewireError, nothing hangs. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ChannelSessionInterpreter,
  PortForwardChannelDecoder,
  ResizeDecoder,
  SpdyStreamInterpreter,
  TunnelDecoder,
  parseStatus,
} from '../../src/k8s/index.js';
import { KubewireError } from '../../src/common/errors.js';
import { WebSocketFrameDecoder, type WebSocketFrame } from '../../src/websocket/index.js';
import { spdyFrames } from '../../src/testing/index.js';
import { SpdyFrameDecoder, SpdyFrameEncoder, type SpdyFrame } from '../../src/spdy/index.js';

const strictOnlyTyped = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KubewireError);
  }
};

describe('k8s decoders on garbage', () => {
  it('port-forward, resize, status, channel sessions', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), fc.constantFrom('', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io'), (msgs, protocol) => {
        const pf = new PortForwardChannelDecoder({ protocol, direction: 'serverToClient', ports: [80, 443], mode: 'inspect' });
        const resize = new ResizeDecoder({ mode: 'inspect', maxBuffered: 32 });
        const session = new ChannelSessionInterpreter({ protocol: protocol === '' ? 'v5.channel.k8s.io' : protocol, mode: 'inspect' });
        for (const m of msgs) {
          pf.decode(m);
          resize.push(m);
          parseStatus(m, 'json');
          session.push(m, true, 'clientToServer');
          session.push(m, false, 'serverToClient');
          strictOnlyTyped(() => new PortForwardChannelDecoder({ protocol, direction: 'clientToServer', ports: [1] }).decode(m));
          strictOnlyTyped(() => new ResizeDecoder().push(m));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('SPDY stream interpreter on arbitrary frame sequences, both directions', () => {
    fc.assert(
      fc.property(spdyFrames({ maxFrames: 10 }), fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }), fc.constantFrom('v4.channel.k8s.io', 'v2.channel.k8s.io', 'portforward.k8s.io'), (frames, dirs, protocol) => {
        const enc = new SpdyFrameEncoder();
        const dec = new SpdyFrameDecoder({ mode: 'inspect' });
        const interp = new SpdyStreamInterpreter({ protocol, mode: 'inspect' });
        frames.forEach((f, i) => {
          for (const ev of dec.push(enc.encode(f))) {
            if (ev.kind !== 'diagnostic') interp.push(ev as SpdyFrame, dirs[i] ? 'clientToServer' : 'serverToClient');
          }
        });
      }),
      { numRuns: 150 },
    );
  });

  it('tunnel decoder on garbage WebSocket payloads', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 10 }), (payloads) => {
        const tunnel = new TunnelDecoder({ direction: 'clientToServer', mode: 'inspect' });
        const ws = new WebSocketFrameDecoder({ mode: 'inspect' });
        for (const p of payloads) {
          tunnel.pushBytes(p);
          for (const f of ws.push(p)) if (f.kind !== 'diagnostic') tunnel.pushFrame(f as WebSocketFrame);
        }
        tunnel.gap(5);
        tunnel.pushBytes(payloads[0] ?? new Uint8Array(0));
        tunnel.end();
        strictOnlyTyped(() => {
          const t = new TunnelDecoder({ direction: 'serverToClient' });
          for (const p of payloads) t.pushBytes(p);
          t.end();
        });
      }),
      { numRuns: 200 },
    );
  });
});
