/**
 * Paths: one exec, attach or port-forward followed across its hops
 * (kubectl → API server → kubelet → container runtime). Sits above the
 * timeline: consumes its events (`PathRecorder`) and summaries (`linkPaths`).
 */
export * from './types.js';
export { PathRecorder, type SessionRecord, type StreamRecords, type StallRecord } from './recorder.js';
export { linkPaths } from './link.js';
export { DirectionRecord } from './stream-record.js';
