import type { SpdySessionOptions } from '../spdy/session/index.js';

/**
 * Session settings for Kubernetes clients (client-go over spdystream): they
 * never send WINDOW_UPDATE and never look at ours, so we neither wait for
 * credit nor send any; memory stays bounded by pausing the transport when a
 * stream's reader falls behind.
 */
export const KUBERNETES_PEER_OPTIONS: SpdySessionOptions = {
  windowUpdates: 'none',
  respectPeerWindow: false,
  enforceReceiveWindow: false,
  maxDataFrame: 32 * 1024,
};
