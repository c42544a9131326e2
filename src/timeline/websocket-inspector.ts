/**
 * The WebSocket frame decoder a session of the timeline reads one
 * direction with, Kubernetes or not: inspecting (diagnostics, not
 * exceptions), with the decoder's limits and unmasking rule.
 */
import type { Direction } from '../common/errors.js';
import { WebSocketFrameDecoder } from '../websocket/decoder.js';
import type { DecoderContext } from './connection.js';

export function inspectingWebSocketDecoder(
  ctx: DecoderContext,
  connection: number,
  direction: Direction,
  baseOffset: number,
  /** RSV bits an extension the handshake agreed on may set (permessage-deflate: RSV1). */
  allowedRsv?: number,
): WebSocketFrameDecoder {
  return new WebSocketFrameDecoder({
    mode: 'inspect',
    direction,
    baseOffset,
    connection,
    maxPayload: ctx.limits.maxWebSocketPayload,
    allowedRsv,
    // A capture inspector must not touch the bytes it was given, unless they are its own.
    unmask: ctx.unmask,
  });
}
