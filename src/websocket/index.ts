/** kubewire/websocket: RFC 6455 framing, sans-IO. */
export * from './constants.js';
export * from './types.js';
export * from './mask.js';
export * from './close.js';
export * from './decoder.js';
export * from './assembler.js';
export * from './stream.js';
export * from './encoder.js';
export * from './handshake.js';
