/**
 * Server side of the KEP-4006 port-forward tunnel from our codecs: SPDY
 * inside WebSocket binary messages. Replies to every SYN_STREAM, echoes the
 * data streams, and records what the streams meant.
 */
import { SpdyStreamInterpreter, TunnelDecoder, TunnelEncoder, type SpdyStreamEvent } from '../../../src/k8s/index.js';
import type { WsSession } from './ws-server.js';

export interface TunnelRecord {
  events: SpdyStreamEvent[];
  /** Bytes received per data stream. */
  received: Map<number, Buffer>;
  spdyKinds: string[];
  messageSizes: number[];
}

export function serveTunnel(s: WsSession): TunnelRecord {
  const decoder = new TunnelDecoder({ direction: 'clientToServer', mode: 'inspect' });
  const encoder = new TunnelEncoder({ role: 'server' });
  const meaning = new SpdyStreamInterpreter({ protocol: 'portforward.k8s.io', mode: 'inspect' });
  const record: TunnelRecord = { events: [], received: new Map(), spdyKinds: [], messageSizes: [] };
  s.onFrame = (f) => {
    if (f.kind === 'binary' || f.kind === 'continuation') record.messageSizes.push(f.payload.length);
    for (const ev of decoder.pushFrame(f)) {
      if (ev.kind === 'diagnostic') {
        s.problems.push(ev.error.code);
        continue;
      }
      record.spdyKinds.push(ev.kind);
      const meant = meaning.push(ev, 'clientToServer');
      record.events.push(...meant);
      switch (ev.kind) {
        case 'syn_stream':
          s.send(encoder.frame({ kind: 'syn_reply', streamId: ev.streamId, fin: false, headers: [] }));
          break;
        case 'data':
          if (meaning.roleOf(ev.streamId) === 'data') {
            if (ev.data.length > 0) {
              record.received.set(ev.streamId, Buffer.concat([record.received.get(ev.streamId) ?? Buffer.alloc(0), ev.data]));
              s.send(encoder.frame({ kind: 'data', streamId: ev.streamId, fin: false, data: ev.data.slice() }));
            }
            if (ev.fin) s.send(encoder.frame({ kind: 'data', streamId: ev.streamId, fin: true, data: new Uint8Array(0) }));
          }
          break;
        case 'ping':
          s.send(encoder.frame({ kind: 'ping', id: ev.id }));
          break;
        default:
          break;
      }
    }
  };
  return record;
}
