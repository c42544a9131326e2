/**
 * What the sans-IO session core reports after consuming peer bytes or
 * performing a local command. Each event is small and typed; the Node adapter
 * turns them into stream and session behaviour.
 */
import type { KubewireError } from '../../common/errors.js';
import type { SettingsEntry, SpdyHeaders } from '../types.js';

export type SessionEvent =
  /** The peer opened a stream (SYN_STREAM). `fin`: the peer sends nothing more. */
  | {
      kind: 'stream';
      streamId: number;
      headers: SpdyHeaders;
      fin: boolean;
      unidirectional: boolean;
      associatedStreamId: number;
      priority: number;
    }
  /** SYN_REPLY for a stream we opened. */
  | { kind: 'reply'; streamId: number; headers: SpdyHeaders }
  /** HEADERS on an open stream. */
  | { kind: 'headers'; streamId: number; headers: SpdyHeaders }
  /**
   * Payload bytes of a DATA frame, possibly a piece of one: pieces are
   * delivered as they arrive. `data` is a view into the chunk given to
   * `receive`; it stays valid while that chunk is not reused.
   */
  | { kind: 'data'; streamId: number; data: Uint8Array }
  /** The peer half-closed the stream (FIN on any frame). */
  | { kind: 'end'; streamId: number }
  /** The stream was reset: by the peer (`byPeer`) or by us in answer to a protocol fault. */
  | { kind: 'reset'; streamId: number; status: number; byPeer: boolean }
  /** Both directions are closed; the stream is forgotten. */
  | { kind: 'closed'; streamId: number }
  /** Send credit grew on one stream, or on every stream (`streamId` 0: session window or SETTINGS). */
  | { kind: 'window'; streamId: number }
  /** The peer answered our PING. */
  | { kind: 'pong'; id: number }
  /** The peer pinged us (already answered). */
  | { kind: 'ping'; id: number }
  | { kind: 'settings'; entries: SettingsEntry[] }
  /** The peer will accept no new streams; ours above `lastGoodStreamId` were not processed (they get `reset` events). */
  | { kind: 'goaway'; lastGoodStreamId: number; status: number }
  /** The session is unusable (we already queued GOAWAY when the fault was the peer's). */
  | { kind: 'error'; error: KubewireError };

export type SessionEventKind = SessionEvent['kind'];
