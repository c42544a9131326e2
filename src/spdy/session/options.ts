/** Options of the session core (shared by the sans-IO core and the Node adapter). */
import type { CodecLimits, SessionCodec } from './codec.js';

export type SessionRole = 'client' | 'server';

/**
 * When we give the peer more credit (WINDOW_UPDATE).
 * - `consumed`: as the application reads stream data (end-to-end backpressure).
 * - `received`: as soon as bytes arrive (the application buffers).
 * - `none`: never, like Go's spdystream (the peer must not honour windows).
 */
export type WindowUpdatePolicy = 'consumed' | 'received' | 'none';

export interface FlowControlOptions {
  /**
   * Receive window per stream that we grant. Announced with SETTINGS
   * INITIAL_WINDOW_SIZE when it differs from the SPDY default (64 KiB).
   * Values below 64 KiB are raised to it: SETTINGS is not acknowledged, so a
   * peer may send a full default window before it sees a smaller one.
   */
  initialWindow?: number;
  /** Session receive window (at least 64 KiB); raised at start with a stream-0 WINDOW_UPDATE when above 64 KiB. */
  sessionWindow?: number;
  windowUpdates?: WindowUpdatePolicy;
  /**
   * Treat DATA beyond our windows as a flow-control error. Off by default:
   * Kubernetes peers (spdystream) never look at windows, and a receiver that
   * enforced them would break every `kubectl exec` that prints over 64 KiB.
   */
  enforceReceiveWindow?: boolean;
  /**
   * Honour the peer's windows when sending (default true). Turn off for peers
   * that never send WINDOW_UPDATE (kubectl, spdystream), or sends stall after 64 KiB.
   */
  respectPeerWindow?: boolean;
}

export interface SessionCoreOptions extends FlowControlOptions {
  role: SessionRole;
  codec?: SessionCodec;
  codecLimits?: CodecLimits;
  /** Largest DATA payload we put in one frame (default 64 KiB, max 2^24 − 1). */
  maxDataFrame?: number;
  /** Largest control frame we buffer from the peer (default 1 MiB). */
  maxControlFrame?: number;
  /** Streams the peer may have open at once (announced with SETTINGS; excess gets REFUSED_STREAM). */
  maxConcurrentStreams?: number;
}

export const SPDY_DEFAULT_WINDOW = 65536;
export const MAX_WINDOW = 0x7fffffff;
export const MAX_FRAME_LENGTH = 0xffffff;
export const DEFAULT_MAX_CONTROL_FRAME = 1 << 20;
export const DEFAULT_MAX_DATA_FRAME = 65536;
