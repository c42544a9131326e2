export * from './errors.js';
export * from './byte-queue.js';
export * from './bytes.js';
