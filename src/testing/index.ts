/** kubewire/testing: fast-check arbitraries for property-testing framing code. */
export * from './chunking.js';
export * from './spdy-arbitraries.js';
export * from './tcp-arbitraries.js';
export * from './websocket-arbitraries.js';
