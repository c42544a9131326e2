/** kubewire/testing: fast-check arbitraries for property-testing framing code. */
export * from './chunking.js';
