/**
 * kubewire/websocket: RFC 6455 framing, sans-IO.
 *
 * - `WebSocketFrameDecoder`: bytes in (any chunking), frames out; limits,
 *   masking rules per direction, strict/inspect modes, `gap()` for captures.
 * - `MessageAssembler`: frames in, whole messages out (control frames may
 *   interleave); `WebSocketStreamDecoder` gives both views in wire order.
 * - `WebSocketFrameEncoder`: one frame per call, masked for clients with an
 *   injectable `MaskSource`; `encodeParts` for gathered writes.
 * - Handshake helpers: `computeAccept`, `checkUpgradeRequest`,
 *   `buildUpgradeResponse`, `buildUpgradeRequest`, `checkUpgradeResponse`,
 *   `parseProtocolOffer`, `selectProtocol`, `headerValues`.
 */
export * from './constants.js';
export * from './types.js';
export * from './mask.js';
export * from './close.js';
export * from './decoder.js';
export * from './assembler.js';
export * from './stream.js';
export * from './encoder.js';
export * from './handshake.js';
