export * from './events.js';
export * from './summary-types.js';
export * from './options.js';
export { SessionDecoder } from './session-decoder.js';
export { INLINE_DIGESTS, type DigestEngine, type RunningDigest } from './digests.js';
export { timelineEventToJson, type EventJsonOptions } from './event-json.js';
