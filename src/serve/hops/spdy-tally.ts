/**
 * What a byte-copying hop read and wrote, per stream: the SPDY frames
 * passing through are decoded (the project's frame decoder, inspect mode)
 * and each DATA payload is counted under its stream's role, port and request
 * id; the error stream's bytes give the exit status the hop saw go by.
 */
import { parseStatus } from '../../k8s/index.js';
import { SpdyFrameDecoder } from '../../spdy/index.js';
import type { ExecOutcome } from '../status.js';
import type { PipeDirection } from './pipe.js';
import type { SessionRecord, StreamKey } from './record.js';

export interface SpdyTally {
  observe(direction: PipeDirection, chunk: Buffer): void;
  /** The exit status seen on the error stream (V4 JSON or V1–V3 text), null when none. */
  outcome(): ExecOutcome | null;
}

export function spdyTally(rec: SessionRecord, protocol: string): SpdyTally {
  const decoders = {
    clientToServer: new SpdyFrameDecoder({ mode: 'inspect', direction: 'clientToServer' }),
    serverToClient: new SpdyFrameDecoder({ mode: 'inspect', direction: 'serverToClient' }),
  };
  const streams = new Map<number, { role: string; key: StreamKey }>();
  const errorBytes: Buffer[] = [];
  let sawError = false;
  return {
    observe(direction, chunk) {
      for (const ev of decoders[direction].push(chunk)) {
        if (ev.kind === 'syn_stream') {
          const h = new Map((ev.headers ?? []).map(([k, v]) => [k.toLowerCase(), v]));
          const port = h.has('port') ? Number(h.get('port')) : undefined;
          const requestId = h.get('requestid');
          streams.set(ev.streamId, {
            role: h.get('streamtype') ?? 'unknown',
            key: { ...(port !== undefined ? { port } : {}), ...(requestId !== undefined ? { requestId } : {}) },
          });
        } else if (ev.kind === 'data') {
          const s = streams.get(ev.streamId);
          if (!s) continue;
          rec.bytes(s.role, direction, ev.data, s.key);
          if (s.role === 'error' && direction === 'serverToClient' && s.key.port === undefined) {
            sawError = true;
            errorBytes.push(Buffer.from(ev.data));
          }
        }
      }
    },
    outcome() {
      if (!sawError && errorBytes.length === 0) return null;
      const bytes = Buffer.concat(errorBytes);
      if (bytes.length === 0) return { kind: 'exit', code: 0 };
      const json = protocol.startsWith('v4.') || protocol.startsWith('v5.');
      const { status } = parseStatus(bytes, json ? 'json' : 'text');
      if (status.outcome === 'success') return { kind: 'exit', code: 0 };
      if (status.outcome === 'exit' && status.exitCode !== null) return { kind: 'exit', code: status.exitCode };
      return { kind: 'failed', message: status.message ?? status.raw, raw: true };
    },
  };
}
