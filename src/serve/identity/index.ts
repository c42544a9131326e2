/**
 * Who is calling `kubewire serve`: client certificates (`--client-ca`) and
 * bearer tokens (`--token`, `--token-file`), checked as kube-apiserver
 * checks them. Nothing outside this folder handles client credentials.
 */
export { authenticate, describeOutcome, type AuthMethod, type AuthOutcome, type AuthenticatorConfig, type Identity } from './authenticate.js';
export { checkClientCert, type CertCheck } from './client-cert.js';
export { parseTokenFile, type TokenFile, type TokenRecord } from './token-file.js';
export { TokenTable, bearerMatches, bearerToken, type TokenUser } from './tokens.js';
export { loadClientCa } from './client-ca.js';
