/**
 * `serve --as apiserver --upstream URL`: the API server's side of exec,
 * attach and port-forward, in front of a kubelet. Plain API requests get the
 * fake API (discovery, every pod Running with one container `main`). Upgrades
 * go to the kubelet's URL forms (kubelet-urls.ts) as a real kube-apiserver
 * sends them:
 *
 * - SPDY clients, port-forward included: passed through (the upgrade-aware
 *   proxy): kubectl's headers kept, `Authorization` dropped,
 *   `X-Forwarded-For` added; the kubelet's 101 relayed, then bytes copied.
 * - WebSocket exec/attach offering `v5.channel.k8s.io`, from 1.30: the stream
 *   translator (translator.ts) speaks SPDY to the kubelet itself.
 * - WebSocket port-forward offering `SPDY/3.1+portforward.k8s.io`, from 1.31:
 *   the tunnel: SPDY `portforward.k8s.io` toward the kubelet (a POST with the
 *   client's headers), and the SPDY bytes carried in binary messages.
 * - Any other WebSocket, and everything before those versions: passed
 *   through; a kubelet refuses v5 and the tunnel with 403, relayed with
 *   `Connection: close`, and kubectl falls back to SPDY.
 * - The node proxy, `/api/v1/nodes/{node}/proxy/{kubelet path}`: the rest of
 *   the path passed through to the kubelet, never translated (a real API
 *   server's node proxy is the plain upgrade-aware proxy), and without the
 *   query: the proxy loses it on upgrades (measured with a real
 *   kube-apiserver 1.20, and a known limitation upstream), so the kubelet
 *   refuses an exec or attach that no longer says which streams it wants.
 *   One kubelet stands for every node.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import {
  PORT_FORWARD_PROTOCOL,
  PORT_FORWARD_TUNNEL_PROTOCOL,
  REMOTE_COMMAND_V5,
  WEBSOCKET_REMOTE_COMMAND_PROTOCOLS,
  negotiateWebSocket,
} from '../../k8s/index.js';
import { buildUpgradeResponse, headerValues } from '../../websocket/index.js';
import { parseExecRequest } from '../exec.js';
import { handleApiRequest } from '../fake-api.js';
import { refuse, setNoDelay, statusBody } from '../upgrade-answer.js';
import { WsServerConnection } from '../ws-conn.js';
import { serveWebSocketExec } from '../ws-exec.js';
import { WsMessageDuplex } from '../ws-portforward.js';
import { forwardHeaders } from './forward-headers.js';
import { kubeletPath, parseKubeletUrl, type KubeletTarget } from './kubelet-urls.js';
import { listenHop, type HopHandle } from './listen.js';
import { pipeBothWays } from './pipe.js';
import type { HopRecorder } from './record.js';
import { relayRecorded, relayUpgrade } from './relay.js';
import { spdyTally } from './spdy-tally.js';
import { translateToSpdy } from './translator.js';
import { parseUpstream, requestUpgrade, type UpstreamResponse } from './upstream.js';

export interface ApiserverHopOptions {
  /** host:port (loopback); default 127.0.0.1 and a free port. */
  listen?: string;
  /** The kubelet, `http://host:port`. */
  upstream: string;
  /** The kube-apiserver version played (default 1.33): 1.30+ translates WebSocket exec, 1.31+ the port-forward tunnel. */
  version?: string;
  /** The container of a request that names none (the pod's first). */
  defaultContainer?: string;
  record?: HopRecorder;
  log?: (line: string) => void;
}

const SUBRESOURCE = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)$/;
const NODE_PROXY = /^\/api\/v1\/nodes\/[^/]+\/proxy(\/.*)$/;

/** `1.29` → 29 (the minor version; only 1.x exists). */
export function apiserverMinor(version: string): number {
  const m = /^v?1\.(\d+)(?:\.\d+)?$/.exec(version.trim());
  if (!m) throw new Error(`--apiserver-version: expected 1.N, got ${JSON.stringify(version)}`);
  return Number(m[1]);
}

export async function startApiserverHop(opts: ApiserverHopOptions): Promise<HopHandle> {
  const upstream = parseUpstream(opts.upstream);
  const minor = apiserverMinor(opts.version ?? '1.33');
  const translatesExec = minor >= 30;
  const tunnelsPortForward = minor >= 31;
  const log = opts.log ?? (() => {});

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const remoteAddress = req.socket.remoteAddress ?? '127.0.0.1';
    const proxied = NODE_PROXY.exec(url.pathname);
    if (proxied) {
      // the query stays behind, as it does at a real API server (see above)
      const path = proxied[1]!;
      const t = parseKubeletUrl(new URL(path, 'http://local'));
      if (!t) return refuse(socket, 404, 'Not Found', statusBody(404, 'NotFound', `no upgrade at ${path}`));
      log(`${req.method} ${req.url} (node proxy, passed through: ${req.method} ${path})`);
      return void passThrough(req, socket, head, path, remoteAddress, { kind: t.sub, namespace: t.namespace, pod: t.pod, command: t.command });
    }
    const m = SUBRESOURCE.exec(url.pathname);
    if (!m) return refuse(socket, 404, 'Not Found', statusBody(404, 'NotFound', `no upgrade at ${url.pathname}`));
    const namespace = decodeURIComponent(m[1]!);
    const pod = decodeURIComponent(m[2]!);
    const sub = m[3] as KubeletTarget['sub'];
    const exec = parseExecRequest(url, sub === 'attach' ? 'attach' : 'exec', namespace, pod);
    const container = exec.container || opts.defaultContainer || 'main';
    const target: KubeletTarget = { ...exec, sub, container, command: sub === 'exec' ? exec.command : [] };
    const path = kubeletPath(target);
    const websocket = (req.headers.upgrade ?? '').toLowerCase().includes('websocket');
    const offered = headerValues(req.headers, 'sec-websocket-protocol')
      .flatMap((v) => v.split(','))
      .map((p) => p.trim());

    if (websocket && sub !== 'portforward' && translatesExec && offered.includes(REMOTE_COMMAND_V5)) {
      log(`${req.method} ${req.url} (websocket, translated to SPDY: POST ${path})`);
      return translate(req, socket, head, { ...exec, container }, path);
    }
    if (websocket && sub === 'portforward' && tunnelsPortForward && offered.includes(PORT_FORWARD_TUNNEL_PROTOCOL)) {
      log(`${req.method} ${req.url} (websocket tunnel, SPDY to the kubelet: POST ${path})`);
      return void tunnel(req, socket, head, path, remoteAddress, { namespace, pod });
    }
    log(`${req.method} ${req.url} (${websocket ? 'websocket' : 'spdy'}, passed through: ${req.method} ${path})`);
    void passThrough(req, socket, head, path, remoteAddress, { kind: sub, namespace, pod, command: target.command });
  };

  const passThrough = async (
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    path: string,
    remoteAddress: string,
    what: { kind: KubeletTarget['sub']; namespace: string; pod: string; command: string[] },
  ) => {
    let up: UpstreamResponse;
    try {
      // Measured: a 1.20 apiserver names the kubelet in Host; 1.33 keeps the client's (its tunnel does).
      const host = translatesExec ? undefined : upstream.hostHeader;
      up = await requestUpgrade(upstream, req.method ?? 'POST', path, forwardHeaders(req.rawHeaders, { remoteAddress, host }));
    } catch (e) {
      return refuse(socket, 503, 'Service Unavailable', statusBody(503, 'ServiceUnavailable', `error dialing backend: ${(e as Error).message}`));
    }
    if (up.status !== 101) log(`kubelet answered ${up.status} ${up.reason}: relayed with Connection: close`);
    relayRecorded(socket, head, up, opts.record, what);
  };

  const acceptWebSocket = (req: http.IncomingMessage, socket: Duplex, protocol: string): boolean => {
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string' || req.headers['sec-websocket-version'] !== '13') {
      refuse(socket, 400, 'Bad Request', statusBody(400, 'BadRequest', 'bad WebSocket handshake'));
      return false;
    }
    // None chosen (''): no Sec-WebSocket-Protocol line at all.
    socket.write(buildUpgradeResponse({ key, protocol: protocol || null }));
    setNoDelay(socket);
    return true;
  };

  const translate = (
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    exec: ReturnType<typeof parseExecRequest>,
    path: string,
  ) => {
    const neg = negotiateWebSocket(headerValues(req.headers, 'sec-websocket-protocol'), [...WEBSOCKET_REMOTE_COMMAND_PROTOCOLS]);
    if (!neg.ok) return refuse(socket, 400, 'Bad Request', statusBody(400, 'BadRequest', neg.reason));
    // The translator answers the client first and dials the kubelet after.
    if (!acceptWebSocket(req, socket, neg.protocol)) return;
    const conn = new WsServerConnection(socket, head);
    void serveWebSocketExec(conn, neg.protocol, exec, {}, log, (r, io) =>
      translateToSpdy(r, io, { upstream, target: path, record: opts.record, log }),
    );
  };

  const tunnel = async (
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    path: string,
    remoteAddress: string,
    what: { namespace: string; pod: string },
  ) => {
    const headers = forwardHeaders(req.rawHeaders, {
      remoteAddress,
      set: {
        Upgrade: 'SPDY/3.1',
        Connection: 'Upgrade',
        'X-Stream-Protocol-Version': PORT_FORWARD_PROTOCOL,
        'Sec-WebSocket-Key': null,
        'Sec-WebSocket-Version': null,
        'Sec-WebSocket-Protocol': null,
        'Sec-WebSocket-Extensions': null,
      },
    });
    let up: UpstreamResponse;
    try {
      up = await requestUpgrade(upstream, 'POST', path, headers);
    } catch (e) {
      return refuse(socket, 503, 'Service Unavailable', statusBody(503, 'ServiceUnavailable', `error dialing backend: ${(e as Error).message}`));
    }
    if (up.status !== 101) {
      log(`kubelet answered ${up.status} ${up.reason} to the tunnel`);
      return relayUpgrade(socket, head, up);
    }
    if (!acceptWebSocket(req, socket, PORT_FORWARD_TUNNEL_PROTOCOL)) {
      up.socket.destroy();
      return;
    }
    const rec = opts.record?.session({
      kind: 'portforward',
      ...what,
      transport: 'spdy/3.1',
      protocol: PORT_FORWARD_PROTOCOL,
      side: 'upstream',
      clientPort: up.socket.localPort,
      serverPort: up.socket.remotePort,
    });
    const tally = rec ? spdyTally(rec, PORT_FORWARD_PROTOCOL) : undefined;
    const conn = new WsServerConnection(socket, head);
    const inner = new WsMessageDuplex(conn);
    if (up.rest.length) {
      tally?.observe('serverToClient', up.rest);
      inner.write(up.rest);
    }
    pipeBothWays(inner, up.socket, {
      observe: tally ? (d, c) => tally.observe(d, c) : undefined,
      done: () => rec?.end(null),
    });
  };

  return listenHop('apiserver', opts.listen, (req, res) => handleApiRequest(req, res), onUpgrade);
}
