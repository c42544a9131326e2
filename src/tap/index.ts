/**
 * The live tap: forward a client's connections to a server unchanged while
 * handing both byte streams to the decoder as `ConnectionEvent`s.
 */
export { startTap, type Tap, type TapOptions, type TapStats, type TapTlsListener } from './proxy.js';
export { DecodeQueue, type DecodeQueueOptions, type DecodeQueueStats } from './decode-queue.js';
export { parseListen, parseUpstream, hostPort, DEFAULT_LISTEN_HOST, type ListenAddress, type UpstreamAddress } from './addresses.js';
export { systemClock, type Clock } from './clock.js';
export { generateSelfSigned, type SelfSigned, type SelfSignedOptions } from './self-signed.js';
export { kubeconfigSnippet, type KubeconfigSnippetOptions } from './kubeconfig.js';
export { PcapngRecorder, type PcapngRecorderOptions, type PcapngRecorderStats } from './pcapng-recorder.js';
