/**
 * The SOCKS5 handshake (RFC 1928, with RFC 1929's username/password), read
 * from the start of both directions of a connection. A client behind a
 * SOCKS proxy (`HTTPS_PROXY=socks5://…`, kubeconfig `proxy-url`, an
 * `ssh -D` tunnel) opens every connection this way; after the proxy's
 * success reply the connection carries the tunnel to the target.
 *
 * Sans-IO and pure: it reads the first bytes of each direction as they are
 * so far and says whether they are a SOCKS5 handshake, not yet known, or
 * done (where the tunnel starts in each direction). The handshake is a few
 * hundred bytes at most, so reading it again as more bytes come is cheap.
 */

export type Socks5Command = 'connect' | 'bind' | 'udp-associate';

export type Socks5Reading =
  /** Not SOCKS5 (or not its start). */
  | { kind: 'no' }
  /** Consistent with SOCKS5 so far; more bytes are needed to know. */
  | { kind: 'more' }
  /** The handshake is over. */
  | {
      kind: 'done';
      command: Socks5Command;
      /** What the client asked for, `host:port` (`[v6]:port` for IPv6). */
      target: string;
      /** The proxy's reply code: 0 succeeded, else the RFC 1928 failure (1–8). */
      reply: number;
      /** Bytes of the handshake in each direction: the tunnel starts there (after a success). */
      clientBytes: number;
      serverBytes: number;
    };

const VERSION = 5;
const NO_ACCEPTABLE_METHOD = 0xff;
const METHOD_USERNAME_PASSWORD = 2;
const COMMANDS: Record<number, Socks5Command> = { 1: 'connect', 2: 'bind', 3: 'udp-associate' };
const ADDRESS_IPV4 = 1;
const ADDRESS_DOMAIN = 3;
const ADDRESS_IPV6 = 4;
/** A handshake is never longer than this per direction (greeting, authentication, request: 3 × ~260 bytes). */
const MAX_HANDSHAKE_BYTES = 1024;

const NO: Socks5Reading = { kind: 'no' };
const MORE: Socks5Reading = { kind: 'more' };

/** The handshake in the first bytes of each direction (`client`: what the client sent, from its first byte). */
export function readSocks5(client: Uint8Array, server: Uint8Array): Socks5Reading {
  // greeting: VER NMETHODS METHODS…
  if (client.length === 0) return MORE;
  if (client[0] !== VERSION) return NO;
  if (client.length < 2) return MORE;
  const methods = client[1]!;
  if (methods === 0) return NO;
  let c = 2 + methods;
  if (client.length < c) return client.length > MAX_HANDSHAKE_BYTES ? NO : MORE;
  const offered = client.subarray(2, c);
  // the proxy's choice: VER METHOD, one it was offered
  if (server.length > 0 && server[0] !== VERSION) return NO;
  if (server.length < 2) return MORE;
  const method = server[1]!;
  // a proxy that accepts none of them (0xff) opens no tunnel: nothing more to read
  if (method === NO_ACCEPTABLE_METHOD || !offered.includes(method)) return NO;
  let s = 2;
  if (method === METHOD_USERNAME_PASSWORD) {
    // RFC 1929: VER(1) ULEN UNAME PLEN PASSWD, answered VER(1) STATUS
    if (client.length < c + 2) return MORE;
    if (client[c] !== 1) return NO;
    const ulen = client[c + 1]!;
    if (client.length < c + 2 + ulen + 1) return MORE;
    const plen = client[c + 2 + ulen]!;
    c += 3 + ulen + plen;
    if (client.length < c) return MORE;
    if (server.length < s + 2) return MORE;
    if (server[s] !== 1) return NO;
    if (server[s + 1] !== 0) return NO; // refused: no tunnel, nothing more to read
    s += 2;
  }
  // request: VER CMD RSV ATYP DST.ADDR DST.PORT
  const request = address(client, c);
  if (request === null) return client.length - c > MAX_HANDSHAKE_BYTES ? NO : MORE;
  if (request === 'bad' || client[c] !== VERSION || client[c + 2] !== 0) return NO;
  const command = COMMANDS[client[c + 1]!];
  if (command === undefined) return NO;
  // reply: VER REP RSV ATYP BND.ADDR BND.PORT
  const reply = address(server, s);
  if (reply === null) return MORE;
  if (reply === 'bad' || server[s] !== VERSION || server[s + 2] !== 0 || server[s + 1]! > 8) return NO;
  return { kind: 'done', command, target: request.text, reply: server[s + 1]!, clientBytes: request.end, serverBytes: reply.end };
}

/** The address part of a request or reply at `at` (ATYP at at+3): its text and where the message ends; null when incomplete. */
function address(b: Uint8Array, at: number): { text: string; end: number } | 'bad' | null {
  if (b.length < at + 5) return null;
  const type = b[at + 3]!;
  let end: number;
  let host: string;
  if (type === ADDRESS_IPV4) {
    end = at + 4 + 4 + 2;
    if (b.length < end) return null;
    host = Array.from(b.subarray(at + 4, at + 8)).join('.');
  } else if (type === ADDRESS_DOMAIN) {
    const n = b[at + 4]!;
    if (n === 0) return 'bad';
    end = at + 5 + n + 2;
    if (b.length < end) return null;
    host = Buffer.from(b.subarray(at + 5, at + 5 + n)).toString('latin1');
  } else if (type === ADDRESS_IPV6) {
    end = at + 4 + 16 + 2;
    if (b.length < end) return null;
    const words: string[] = [];
    for (let k = 0; k < 16; k += 2) words.push(((b[at + 4 + k]! << 8) | b[at + 5 + k]!).toString(16));
    host = `[${words.join(':')}]`;
  } else return 'bad';
  const port = (b[end - 2]! << 8) | b[end - 1]!;
  return { text: `${host}:${port}`, end };
}
