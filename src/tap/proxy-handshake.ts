/**
 * What opening a tunnel through a proxy has in common, whatever the proxy
 * speaks (HTTP CONNECT, SOCKS5): greet it once connected, read its answers
 * as they come, give up after a timeout or a socket error, and hand over the
 * socket, paused, with any bytes after the handshake put back in front of
 * it (they already belong to the tunnel).
 */
import type { Socket } from 'node:net';

/** What the handshake made of the bytes received so far. */
export type ProxyAnswer =
  /** Not over yet. */
  | { kind: 'more' }
  /** The proxy refused, or is not what it should be. */
  | { kind: 'fail'; error: Error }
  /** Over: the tunnel's bytes start at `tunnelFrom` in what was received. */
  | { kind: 'done'; tunnelFrom: number };

/**
 * `connected`: the socket's event after which the proxy is greeted
 * (`connect`, or `secureConnect` for a TLS proxy); `read` sees everything
 * received so far on each new chunk (and may write the next step itself).
 */
export function proxyHandshake(
  socket: Socket,
  proxy: URL,
  timeoutMs: number,
  connected: 'connect' | 'secureConnect',
  greet: () => void,
  read: (received: Buffer) => ProxyAnswer,
): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`proxy ${proxy.host} did not answer within ${timeoutMs} ms`)), timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    let received = Buffer.alloc(0);
    socket.once('error', (e) => fail(new Error(`proxy ${proxy.host}: ${e.message}`)));
    socket.once(connected, greet);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const answer = read(received);
      if (answer.kind === 'more') return;
      socket.off('data', onData);
      if (answer.kind === 'fail') return fail(answer.error);
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.pause();
      const rest = received.subarray(answer.tunnelFrom);
      if (rest.length) socket.unshift(rest);
      resolve(socket);
    };
    socket.on('data', onData);
  });
}
