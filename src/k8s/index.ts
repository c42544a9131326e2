/** kubewire/k8s: Kubernetes exec, attach and port-forward protocols, sans-IO. */
export * from './protocols.js';
export * from './negotiation.js';
export * from './base64.js';
export * from './channel.js';
export * from './channel-session.js';
export * from './status.js';
export * from './resize.js';
export * from './spdy-streams.js';
export * from './portforward-ws.js';
export * from './tunnel.js';
