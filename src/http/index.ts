export * from './headers.js';
export * from './parser.js';
export * from './redact.js';
export * from './target.js';
export * from './sniff.js';
