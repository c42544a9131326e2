/**
 * The timeline's `frame` event for one WebSocket frame, the same for a
 * Kubernetes channel session and a plain WebSocket one; only the channel
 * (`streamId`) and its role differ.
 */
import type { Direction } from '../common/errors.js';
import type { WebSocketFrame } from '../websocket/types.js';
import type { StreamRole, TimelineEvent } from './events.js';

export function websocketFrameEvent(
  base: { time: number; connection: number; session: number },
  direction: Direction,
  f: WebSocketFrame,
  streamId: number | null,
  role: StreamRole | null,
): TimelineEvent {
  return {
    kind: 'frame',
    ...base,
    direction,
    layer: 'websocket',
    type: f.kind,
    streamId,
    role,
    length: f.payload.length,
    flags: (f.fin ? 0x80 : 0) | (f.rsv << 4) | f.opcode,
    fin: f.fin,
    offset: f.offset,
    detail: f.kind === 'close' ? { masked: f.masked, code: f.code, reason: f.reason } : { masked: f.masked },
  };
}
