/** TLS layer error codes (stable). Offsets name their space: TLS-record offsets are TCP stream offsets of the record header. */
import { KubewireError, type Direction } from '../common/errors.js';

export const TLS_ERROR = {
  /** A record header that cannot be one (type, version or length out of range). */
  BAD_RECORD: 'TLS_BAD_RECORD',
  /** A record failed AEAD authentication (wrong key, corrupted or lost bytes). */
  RECORD_AUTH_FAILED: 'TLS_RECORD_AUTH_FAILED',
  /** A handshake message that cannot be parsed. */
  BAD_HANDSHAKE: 'TLS_BAD_HANDSHAKE',
  /** The negotiated cipher suite is not one we decrypt. */
  UNSUPPORTED_SUITE: 'TLS_UNSUPPORTED_SUITE',
  /** No secret in the key logs for this connection's client random. */
  NO_KEY: 'TLS_NO_KEY',
  /** The handshake is not (wholly) in the capture. */
  HANDSHAKE_NOT_CAPTURED: 'TLS_HANDSHAKE_NOT_CAPTURED',
  /** Bytes lost inside an encrypted stream. */
  GAP: 'TLS_GAP',
  /** An encrypted record larger than what is held while waiting for a key. */
  HELD_LIMIT: 'TLS_HELD_LIMIT',
} as const;

export function tlsError(code: string, message: string, connection: number | undefined, direction: Direction | undefined, offset?: number): KubewireError {
  return new KubewireError('tls', code, 'connection', message, { connection, direction, offset });
}
