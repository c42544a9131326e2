/**
 * SPDY/3.1 multiplexer: a sans-IO session core and a Node adapter that turns
 * any Duplex byte transport into multiplexed SpdyStream duplexes.
 */
export { SpdySessionCore } from './core.js';
export type { SessionEvent, SessionEventKind } from './events.js';
export type { FlowControlOptions, SessionCoreOptions, SessionRole, WindowUpdatePolicy } from './options.js';
export { SPDY_DEFAULT_WINDOW } from './options.js';
export { SpdySession, type SpdySessionOptions } from './node-session.js';
export { SpdyStream } from './node-stream.js';
export { memoryPair } from './memory-pair.js';
export { defaultCodec, type SessionCodec, type ControlFrameDecoder, type ControlFrameEncoder } from './codec.js';
