/** TLS: recognise, describe and (with a key log) decrypt TLS 1.2 and 1.3 connections, sans-IO. */
export { TlsDecoder, type TlsDecoderOptions } from './decoder.js';
export { TlsKeyLog, type ConnectionSecrets, type KeyLogStats, type SecretLabel } from './keylog.js';
export { TLS_ERROR } from './errors.js';
export { aeadSuite, suiteName, versionName, type AeadSuite } from './suites.js';
export { hkdfExpandLabel, prf12, tls12Keys, tls13Keys, tls13NextSecret, type TrafficKeys } from './key-schedule.js';
export { parseClientHello, parseServerHello, type ClientHelloInfo, type ServerHelloInfo } from './handshake.js';
export type { NotDecryptedReason, TlsDescription, TlsEvent } from './types.js';
