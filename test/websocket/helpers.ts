import type { WebSocketFrameEvent } from '../../src/websocket/index.js';

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Frames without the parts that depend on chunking (nothing does) as plain data for equality checks. */
export function summarise(events: WebSocketFrameEvent[]): unknown[] {
  return events.map((e) =>
    e.kind === 'diagnostic'
      ? { diag: e.error.code, offset: e.error.offset }
      : { kind: e.kind, fin: e.fin, rsv: e.rsv, masked: e.masked, key: e.maskKey, payload: toHex(e.payload), prefix: e.prefix, offset: e.offset, h: e.headerLength },
  );
}
