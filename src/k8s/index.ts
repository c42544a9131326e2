/**
 * kubewire/k8s: Kubernetes exec, attach and port-forward protocols, sans-IO.
 *
 * - Protocol facts and negotiation: `remoteCommandProtocol`, `protocolInfo`,
 *   `negotiateSpdy`, `spdyReplyProtocol`, `negotiateWebSocket`.
 * - WebSocket remote command: `ChannelDecoder` (decode, decodeSplit, route),
 *   `channelFrame`, `encodeChannelMessage`, `encodeCloseSignal`,
 *   `ChannelSessionInterpreter` (both directions, status and resize).
 * - WebSocket port-forward: `PortForwardChannelDecoder`, `encodePortPrefix`,
 *   `portForwardChannels`.
 * - SPDY: `SpdyStreamInterpreter` (roles from `streamtype`, port-forward
 *   pairs, status, resize, inferred roles mid-session), stream header builders.
 * - Tunnel (`SPDY/3.1+portforward.k8s.io`): `TunnelDecoder`, `TunnelEncoder`.
 * - Payloads: `parseStatus`, `encodeSuccessStatus`, `encodeExitCodeStatus`,
 *   `encodeInternalErrorStatus`, `encodeStatus`; `ResizeDecoder`, `encodeResize`.
 */
export * from './protocols.js';
export * from './negotiation.js';
export * from './base64.js';
export * from './channel.js';
export * from './channel-session.js';
export * from './status.js';
export * from './resize.js';
export * from './spdy-streams.js';
export * from './portforward-ws.js';
export * from './tunnel.js';
