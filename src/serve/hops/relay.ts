/**
 * Handing the next hop's answer back to the client, as an upgrade-aware
 * proxy does: a 101 is relayed as it came and the connection becomes a
 * byte pipe; a refusal (a kubelet's 403 to a WebSocket protocol it does not
 * speak) is relayed with `Connection: close` and the connection ends.
 */
import type { Duplex } from 'node:stream';
import { formatHead, setNoDelay } from '../upgrade-answer.js';
import { pipeBothWays, type PipeOptions } from './pipe.js';
import type { HopRecorder, SessionInfo } from './record.js';
import { spdyTally } from './spdy-tally.js';
import { headerValue, type UpstreamResponse } from './upstream.js';

export function relayUpgrade(client: Duplex, clientHead: Buffer, up: UpstreamResponse, opts: PipeOptions = {}): void {
  const { socket } = up;
  if (up.status !== 101) {
    const headers = [...up.headers];
    if (!headerValue(headers, 'connection')) headers.push(['Connection', 'close']);
    client.write(formatHead(`HTTP/1.1 ${up.status} ${up.reason}`, headers));
    if (up.rest.length) client.write(up.rest);
    socket.on('data', (d: Buffer) => client.write(d));
    socket.on('end', () => client.end());
    socket.on('error', () => client.destroy());
    socket.resume();
    return;
  }
  client.write(formatHead(`HTTP/1.1 101 ${up.reason || 'Switching Protocols'}`, up.headers));
  if (up.rest.length) {
    opts.observe?.('serverToClient', up.rest);
    client.write(up.rest);
  }
  if (clientHead.length) {
    opts.observe?.('clientToServer', clientHead);
    socket.write(clientHead);
  }
  setNoDelay(client);
  pipeBothWays(client, socket, opts);
}

/**
 * `relayUpgrade`, and a SPDY session that the next hop accepted is recorded
 * (`--record`) stream by stream as its frames pass through.
 */
export function relayRecorded(
  client: Duplex,
  clientHead: Buffer,
  up: UpstreamResponse,
  record: HopRecorder | undefined,
  what: Pick<SessionInfo, 'kind' | 'namespace' | 'pod' | 'command'>,
): void {
  const protocol = headerValue(up.headers, 'x-stream-protocol-version') ?? '';
  const spdy = up.status === 101 && (headerValue(up.headers, 'upgrade') ?? '').toLowerCase().includes('spdy');
  const rec = spdy
    ? record?.session({ ...what, transport: 'spdy/3.1', protocol, side: 'upstream', clientPort: up.socket.localPort, serverPort: up.socket.remotePort })
    : undefined;
  const tally = rec ? spdyTally(rec, protocol) : undefined;
  relayUpgrade(client, clientHead, up, {
    observe: tally ? (d, c) => tally.observe(d, c) : undefined,
    done: () => rec?.end(tally?.outcome()),
  });
}
