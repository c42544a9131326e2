/**
 * Options of `SessionDecoder`.
 */
import type { SpdyLimits } from '../spdy/limits.js';
import type { TlsKeyLog } from '../tls/keylog.js';
import type { DigestEngine } from './digests.js';

/**
 * `--decode-as`: force how a connection is read. `spdy` / `websocket` /
 * `websocket+spdy` force the framing; a channel protocol name (e.g.
 * `v4.channel.k8s.io`, `v5.channel.k8s.io`, `portforward.k8s.io`,
 * `SPDY/3.1+portforward.k8s.io`) forces the framing it implies and the
 * Kubernetes protocol on top.
 */
export type DecodeAs = 'spdy' | 'websocket' | 'websocket+spdy' | (string & {});

export interface TimelineLimits {
  /** Bytes of one HTTP message head (request/status line and headers). Default 64 KiB. */
  maxHttpHeadBytes: number;
  /** Header lines per HTTP message. Default 256. */
  maxHttpHeaders: number;
  /** Bytes of a response body kept for the `http-response` event (refusal statuses). Default 64 KiB. */
  maxHttpBodyKept: number;
  /** Bytes of error-stream content kept to parse the exit status. Default 64 KiB. */
  maxStatusBytes: number;
  /** Bytes of resize-stream content buffered while a JSON object is incomplete. Default 4 KiB. */
  maxResizeBytes: number;
  /** Client→server bytes held after an upgrade request while its response is pending. Default 1 MiB. */
  maxPendingUpgradeBytes: number;
  /** Streams tracked per session. Default 65,536. */
  maxStreamsPerSession: number;
  /**
   * Closed connections whose sessions and requests the summary keeps (a tap
   * may run for weeks). Beyond it the oldest are dropped and counted in
   * `DecodeSummary.dropped`. Default 100,000.
   */
  maxClosedConnectionsKept: number;
  /** SPDY codec limits passed down. */
  spdy?: Partial<SpdyLimits>;
  /** WebSocket codec: largest payload accepted. Default 64 MiB. */
  maxWebSocketPayload: number;
}

export const DEFAULT_TIMELINE_LIMITS: TimelineLimits = {
  maxHttpHeadBytes: 64 * 1024,
  maxHttpHeaders: 256,
  maxHttpBodyKept: 64 * 1024,
  maxStatusBytes: 64 * 1024,
  maxResizeBytes: 4 * 1024,
  maxPendingUpgradeBytes: 1024 * 1024,
  maxStreamsPerSession: 65536,
  maxClosedConnectionsKept: 100_000,
  maxWebSocketPayload: 64 * 1024 * 1024,
};

export interface SessionDecoderOptions {
  /** Per connection number, or one value for every connection. */
  decodeAs?: Map<number, DecodeAs> | DecodeAs;
  /** Default false: Authorization, bearer tokens and Sec-WebSocket-Key are redacted in events and the summary. */
  showSecrets?: boolean;
  limits?: Partial<TimelineLimits>;
  /**
   * Emit a `frame` event for every decoded frame (default true). The CLI's
   * summary mode may turn it off to go faster.
   */
  frameEvents?: boolean;
  /**
   * Count and hash the payload of a SPDY DATA frame that straddles TCP
   * segments as its pieces arrive, instead of copying the frame to hand it on
   * whole (default false). Only for streams whose bytes are counted and not
   * read (stdin, stdout, stderr, port-forward data), once the session's sides
   * and streams are known, and without frame events. The summary is the same
   * (a frame cut by a gap or the end of input still counts for nothing); what
   * differs is that `stream-data` events come per piece, so a consumer of
   * events sees the pieces of a cut frame. The CLI's summary uses it.
   */
  dataPieces?: boolean;
  /**
   * Keep a running sha256 of every stream and direction for the summary
   * (default true). Hashing is most of the cost of decoding bulk transfers;
   * outputs that never show digests (the timeline, NDJSON, the transcript)
   * turn it off, and the summary then reports `sha256: null`. An engine
   * computes them elsewhere (e.g. on a worker thread); its digests must have
   * settled before `summary()` is called.
   */
  digests?: boolean | DigestEngine;
  /**
   * Secrets for decrypting TLS connections (key logs, pcapng Decryption
   * Secrets Blocks). Without it TLS connections are recognised and described,
   * not decrypted.
   */
  tlsKeys?: TlsKeyLog | null;
  /**
   * The names of the capture inputs, in order, for the summary's `files`:
   * a connection whose close event lists `sources` gets their names; with
   * one input, every connection gets it.
   */
  inputNames?: readonly string[];
  /**
   * The data chunks pushed are the decoder's own: nothing reads them after
   * `push` (the live tap's decoding reads them in its own ring). Masked
   * WebSocket payloads are then unmasked where they lie instead of into a
   * second copy, so the chunks no longer hold the wire bytes. Default false:
   * a capture reader's buffers are left as they are.
   */
  ownsInput?: boolean;
}
