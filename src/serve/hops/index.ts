/** The hops of the exec path, each played by `serve --as ROLE`, and `serve --chain` starting all three. */
export { startApiserverHop, apiserverMinor, type ApiserverHopOptions } from './apiserver.js';
export { startKubeletHop, type KubeletHopOptions } from './kubelet.js';
export { startRuntimeHop } from './runtime.js';
export { startChain, type ChainOptions, type ChainHandle } from './chain.js';
export { hopRecorder, type HopRecorder, type RecordedSession, type RecordedStream } from './record.js';
export { kubeletPath, parseKubeletUrl, type KubeletTarget } from './kubelet-urls.js';
export type { HopHandle } from './listen.js';
