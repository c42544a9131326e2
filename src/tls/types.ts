/**
 * What the TLS layer says about a connection, and the events it emits.
 * Directions are TLS roles: `clientToServer` is the side that sent the ClientHello.
 */
import type { Direction, KubewireError } from '../common/errors.js';

/** Why a TLS connection is not decrypted. */
export type NotDecryptedReason = 'no-key' | 'unsupported-suite' | 'handshake-not-captured';

export interface TlsDescription {
  /** Negotiated version ('TLS 1.3', 'TLS 1.2', …); null before the ServerHello. */
  version: string | null;
  /** Server name (SNI) the client asked for. */
  serverName: string | null;
  /** ALPN protocols the client offered. */
  alpnOffered: string[];
  /** ALPN protocol the server chose (TLS 1.3: known once EncryptedExtensions is decrypted). */
  alpn: string | null;
  /** IANA name of the chosen cipher suite (or its number in hex). */
  cipherSuite: string | null;
  decrypted: boolean;
  /** Why not, when not decrypted. */
  reason: NotDecryptedReason | null;
  /** TLS 1.2: an abbreviated handshake (session id or ticket). */
  resumed: boolean;
  /** TLS 1.2: both hellos carried extended_master_secret (RFC 7627). */
  extendedMasterSecret: boolean;
  /** TLS 1.3: the server asked for a second ClientHello. */
  helloRetryRequest: boolean;
  /** Protected records opened, and those that failed authentication. */
  recordsDecrypted: number;
  recordsFailed: number;
}

export type TlsEvent =
  /** Decrypted application data; `offset` counts plaintext bytes of this direction. `bytes` is owned by the receiver. */
  | { kind: 'plaintext'; direction: Direction; bytes: Uint8Array; offset: number }
  /** Plaintext lost (records that failed or were not captured); `size` is an estimate from the TLS bytes lost. */
  | { kind: 'gap'; direction: Direction; offset: number; size: number }
  /** What the connection is, and whether it is decrypted: once, when that is known. */
  | { kind: 'described'; description: TlsDescription }
  | { kind: 'diagnostic'; error: KubewireError };
