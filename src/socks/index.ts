/** SOCKS5, as far as a capture needs it: the handshake that opens a proxy's tunnel. */
export { readSocks5, type Socks5Command, type Socks5Reading } from './handshake.js';
