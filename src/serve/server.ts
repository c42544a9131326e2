/**
 * `kubewire serve`: a local fake Kubernetes API endpoint that real clients
 * can exec, attach and port-forward against.
 *
 * - Plain requests (discovery, GET pod): `fake-api.ts`.
 * - Upgrades on `/api/v1/namespaces/<ns>/pods/<pod>/{exec,attach,portforward}`:
 *   SPDY/3.1 (`X-Stream-Protocol-Version` channel.k8s.io … v4, and
 *   portforward.k8s.io) or WebSocket (v5/v4/v1/base64 channel protocols,
 *   native WebSocket port-forward, and the `SPDY/3.1+portforward.k8s.io`
 *   tunnel).
 * - exec runs the command on this machine (or the echo); attach starts the
 *   attach command (see exec.ts); port-forward connects to TCP ports on this
 *   machine (127.0.0.1 by default).
 * - Listens on loopback unless told otherwise; beyond loopback
 *   authentication is mandatory: bearer tokens and/or client certificates,
 *   checked as kube-apiserver checks them (identity/).
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  PORT_FORWARD_PROTOCOL,
  PORT_FORWARD_TUNNEL_PROTOCOL,
  SPDY_REMOTE_COMMAND_SERVER,
  TUNNEL_PROTOCOL_PREFIX,
  WEBSOCKET_PORT_FORWARD_PROTOCOLS,
  WEBSOCKET_REMOTE_COMMAND_PROTOCOLS,
  negotiateSpdy,
  negotiateWebSocket,
  remoteCommandProtocol,
} from '../k8s/index.js';
import { SpdySession } from '../spdy/session/index.js';
import { buildUpgradeResponse, headerValues } from '../websocket/index.js';
import { isLoopback } from './auth.js';
import { parseExecRequest, type ExecBehaviour, type ExecRequest } from './exec.js';
import { handleApiRequest } from './fake-api.js';
import { TokenTable, authenticate, describeOutcome, loadClientCa, type AuthenticatorConfig } from './identity/index.js';
import { kubeconfigYaml } from './kubeconfig.js';
import type { HopRecorder } from './hops/record.js';
import { OpenSockets } from './open-sockets.js';
import { KUBERNETES_PEER_OPTIONS } from './peer-options.js';
import { serveSpdyExec } from './spdy-exec.js';
import { serveSpdyPortForward } from './spdy-portforward.js';
import { generateSelfSigned, type TlsMaterial } from './tls.js';
import { formatHead, refuse, setNoDelay, statusBody } from './upgrade-answer.js';
import { WsServerConnection } from './ws-conn.js';
import { serveWebSocketExec } from './ws-exec.js';
import { serveTunnelledPortForward, serveWebSocketPortForward } from './ws-portforward.js';

/** What an upgrade request's URL names. */
export interface UpgradeTarget {
  url: URL;
  namespace: string;
  pod: string;
  sub: 'exec' | 'attach' | 'portforward';
  /** The exec/attach request when the URL does not carry it (a runtime's `/exec/{token}`). */
  exec?: ExecRequest;
}

/** URL forms a role answers beside the API forms (the runtime's streaming URLs and token requests). */
export interface ServeRoutes {
  /** Answer a plain request; false leaves it to the fake API. */
  request?(req: http.IncomingMessage, res: http.ServerResponse): boolean;
  /** What an upgrade's URL names when it is not an API form; null for none. */
  upgrade?(url: URL): UpgradeTarget | null;
}

/** One user of a token file (`parseTokenFile` gives these). */
export interface ServeTokenUser {
  token: string;
  user: string;
  uid?: string;
  groups?: string[];
}

export interface ServeOptions {
  /** `host:port`; default 127.0.0.1 and an ephemeral port. */
  listen?: string;
  /**
   * A bearer token clients may send (user `kubewire` in the log). With any of
   * `token`, `tokens`, `clientCa`, every request must authenticate; one of
   * them is required when `listen` is not loopback.
   */
  token?: string;
  /** Bearer tokens of several users (kube-apiserver's `--token-auth-file`). */
  tokens?: ReadonlyArray<ServeTokenUser>;
  /**
   * PEM bundle of the CA(s) that sign client certificates (kube-apiserver's
   * `--client-ca-file`): user = Subject CN, groups = Subject O. Implies TLS.
   */
  clientCa?: string | Buffer;
  /**
   * TLS: `true` for a generated self-signed certificate, or PEM cert and key.
   * Default: on (generated) when any authentication is set, since kubectl
   * sends credentials only over HTTPS; off otherwise.
   */
  tls?: boolean | { cert: string | Buffer; key: string | Buffer };
  /** Built-in echo instead of running commands. */
  echo?: boolean;
  /** What attach starts (default `/bin/sh`). */
  attachCommand?: string[];
  /** Where port-forward connects (default 127.0.0.1). */
  connectHost?: string;
  /** Extra environment for commands run by exec/attach. */
  env?: Record<string, string>;
  /**
   * One line per request and session, each request with the identity that
   * sent it (`user=… groups=… auth=x509|token`) or why it was refused;
   * default silent.
   */
  log?: (line: string) => void;
  /** Extra URL forms (`serve --as runtime`). */
  routes?: ServeRoutes;
  /** Record each session's bytes per stream and its exit (`serve --record`). */
  record?: HopRecorder;
}

export interface ServeHandle {
  url: string;
  host: string;
  port: number;
  /** The kubeconfig (YAML) that points kubectl here. */
  kubeconfig: string;
  /** Stop listening and end every open session. */
  close(): Promise<void>;
}

const SUBRESOURCE = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)$/;

/** Listen, and the address bound, or the listen error (a port in use). */
export async function listenAt(server: Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

export function parseListen(listen: string | undefined): { host: string; port: number } {
  if (!listen) return { host: '127.0.0.1', port: 0 };
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(listen.trim());
  if (!m) throw new Error(`--listen: expected host:port, got ${JSON.stringify(listen)}`);
  const host = m[1] ?? (m[2] || '127.0.0.1');
  const port = m[3] === undefined ? 0 : Number(m[3]);
  if (port > 65535) throw new Error(`--listen: port ${port} out of range`);
  return { host, port };
}

export async function startServe(opts: ServeOptions = {}): Promise<ServeHandle> {
  const { host, port } = parseListen(opts.listen);
  const clientCa = opts.clientCa === undefined ? null : loadClientCa(opts.clientCa, 'client CA');
  const tokenUsers = [
    ...(opts.token ? [{ token: opts.token, user: 'kubewire', uid: '', groups: [] }] : []),
    ...(opts.tokens ?? []).map((t) => ({ token: t.token, user: t.user, uid: t.uid ?? '', groups: t.groups ?? [] })),
  ];
  const auth: AuthenticatorConfig = {
    clientCerts: clientCa !== null,
    tokens: tokenUsers.length ? new TokenTable(tokenUsers) : null,
  };
  const authenticates = auth.clientCerts || auth.tokens !== null;
  if (!isLoopback(host) && !authenticates) {
    throw new Error(
      `refusing to listen on ${host} without authentication: it runs commands on this machine (pass --token, --token-file or --client-ca)`,
    );
  }
  if (clientCa && opts.tls === false) throw new Error('client certificates need TLS (clientCa with tls: false)');
  let tls: TlsMaterial | null = null;
  // kubectl sends credentials only over HTTPS (and a token in clear text
  // would protect nothing), so authentication implies TLS unless told otherwise.
  const wantTls = opts.tls ?? authenticates;
  if (wantTls === true) tls = generateSelfSigned(host);
  else if (wantTls) tls = { cert: Buffer.from(wantTls.cert), key: Buffer.from(wantTls.key) };

  const log = opts.log ?? (() => {});
  const behaviour: ExecBehaviour = { echo: opts.echo, attachCommand: opts.attachCommand, env: opts.env };
  const sockets = new OpenSockets();

  /** Authenticate and log one request; false when it was refused (the caller answers 401). */
  const admit = (req: http.IncomingMessage, socket: unknown, what: string): boolean => {
    const outcome = authenticate(auth, socket, req.headers);
    const who = describeOutcome(outcome);
    log(`${req.method} ${req.url}${what}${who ? ` ${who}` : ''}`);
    return outcome.kind !== 'unauthorized';
  };

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!admit(req, req.socket, '')) {
      const body = JSON.stringify(unauthorized());
      res.writeHead(401, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (opts.routes?.request?.(req, res)) return;
    handleApiRequest(req, res);
  };

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.track(socket);
    socket.on('error', () => {});
    // As the apiserver, authentication comes before anything else about
    // the upgrade: an unauthenticated client learns nothing of the protocols.
    if (!admit(req, socket, ` (upgrade: ${req.headers.upgrade})`)) {
      return refuse(socket, 401, 'Unauthorized', unauthorized());
    }
    const url = new URL(req.url ?? '/', 'http://local');
    const target = apiTarget(url) ?? opts.routes?.upgrade?.(url) ?? null;
    if (!target) return refuse(socket, 404, 'Not Found', statusBody(404, 'NotFound', `no upgrade at ${url.pathname}`));
    const upgrade = (req.headers.upgrade ?? '').toLowerCase();
    if (upgrade.includes('websocket')) return upgradeWebSocket(req, socket, head, target);
    if (upgrade.includes('spdy/3.1')) return upgradeSpdy(req, socket, head, target);
    refuse(socket, 400, 'Bad Request', statusBody(400, 'BadRequest', `unsupported upgrade ${upgrade}`));
  };

  const upgradeSpdy = (
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    { url, namespace, pod, sub, exec }: UpgradeTarget,
  ) => {
    const supported = sub === 'portforward' ? [PORT_FORWARD_PROTOCOL] : [...SPDY_REMOTE_COMMAND_SERVER];
    const neg = negotiateSpdy(headerValues(req.headers, 'x-stream-protocol-version'), supported);
    if (!neg.ok) return refuse(socket, neg.status, neg.status === 400 ? 'Bad Request' : 'Forbidden', statusBody(neg.status, 'BadRequest', neg.reason), neg.headers);
    socket.write(
      formatHead('HTTP/1.1 101 Switching Protocols', [['Connection', 'Upgrade'], ['Upgrade', 'SPDY/3.1'], ...neg.headers]),
    );
    setNoDelay(socket);
    if (head.length) socket.unshift(head);
    const session = SpdySession.server(socket, KUBERNETES_PEER_OPTIONS);
    log(`spdy ${sub} ${namespace}/${pod} (${neg.protocol})`);
    const execReq = sub === 'portforward' ? null : (exec ?? parseExecRequest(url, sub, namespace, pod));
    const record = recordSession(socket, sub, 'spdy/3.1', neg.protocol, namespace, pod, execReq?.command);
    if (!execReq) {
      void serveSpdyPortForward(session, { pod, connectHost: opts.connectHost, log, record });
    } else {
      const version = remoteCommandProtocol(neg.protocol)?.version ?? 1;
      void serveSpdyExec(session, execReq, { version, behaviour: { ...behaviour, record }, log });
    }
  };

  /** The record of a session this server serves to its client (`--record`), when records are kept. */
  const recordSession = (
    socket: Duplex,
    kind: UpgradeTarget['sub'],
    transport: 'spdy/3.1' | 'websocket',
    protocol: string,
    namespace: string,
    pod: string,
    command: string[] | undefined,
  ) =>
    opts.record?.session({
      kind,
      transport,
      protocol,
      side: 'client',
      clientPort: (socket as Duplex & { remotePort?: number }).remotePort,
      serverPort: (socket as Duplex & { localPort?: number }).localPort,
      namespace,
      pod,
      command,
    });

  const upgradeWebSocket = (
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    { url, namespace, pod, sub, exec }: UpgradeTarget,
  ) => {
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string' || req.headers['sec-websocket-version'] !== '13') {
      return refuse(socket, 400, 'Bad Request', statusBody(400, 'BadRequest', 'bad WebSocket handshake'), [['Sec-WebSocket-Version', '13']]);
    }
    const supported =
      sub === 'portforward'
        ? [PORT_FORWARD_TUNNEL_PROTOCOL, ...WEBSOCKET_PORT_FORWARD_PROTOCOLS]
        : [...WEBSOCKET_REMOTE_COMMAND_PROTOCOLS];
    const neg = negotiateWebSocket(headerValues(req.headers, 'sec-websocket-protocol'), supported);
    // A refusal makes kubectl retry over SPDY, as with a real apiserver.
    if (!neg.ok) return refuse(socket, 403, 'Forbidden', statusBody(403, 'Forbidden', neg.reason));
    // None chosen (''): no Sec-WebSocket-Protocol line at all.
    socket.write(buildUpgradeResponse({ key, protocol: neg.protocol || null }));
    setNoDelay(socket);
    const conn = new WsServerConnection(socket, head);
    log(`websocket ${sub} ${namespace}/${pod} (${neg.protocol || 'no sub-protocol'})`);
    if (sub !== 'portforward') {
      const execReq = exec ?? parseExecRequest(url, sub, namespace, pod);
      const record = recordSession(socket, sub, 'websocket', neg.protocol, namespace, pod, execReq.command);
      void serveWebSocketExec(conn, neg.protocol, execReq, { ...behaviour, record }, log);
    } else if (neg.protocol.startsWith(TUNNEL_PROTOCOL_PREFIX)) {
      void serveTunnelledPortForward(conn, { pod, connectHost: opts.connectHost, log });
    } else {
      const ports = url.searchParams
        .getAll('ports')
        .flatMap((p) => p.split(','))
        .map((p) => Number(p.trim()))
        .filter((p) => Number.isInteger(p) && p > 0 && p < 65536);
      if (ports.length === 0) {
        conn.close(1008, 'query parameter "ports" is required');
        return;
      }
      void serveWebSocketPortForward(conn, ports, neg.protocol.includes('base64'), {
        pod,
        connectHost: opts.connectHost,
        log,
      });
    }
  };

  const server = tls
    ? https.createServer(
        {
          cert: tls.cert,
          key: tls.key,
          // Request, never require: see identity/client-cert.ts.
          ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: false } : {}),
        },
        onRequest,
      )
    : http.createServer(onRequest);
  server.on('upgrade', onUpgrade);
  server.on('connection', sockets.track);
  server.on('secureConnection', sockets.track);
  const addr = await listenAt(server, port, host);
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `${tls ? 'https' : 'http'}://${urlHost}:${addr.port}`;
  return {
    url,
    host,
    port: addr.port,
    kubeconfig: kubeconfigYaml({
      server: url,
      // Without any credentials kubectl prompts for a password on HTTPS; an
      // unchecked placeholder keeps it quiet. Token-file users and
      // certificates are the user's to fill in: we print no credential we
      // were not given on the command line.
      token: opts.token ?? (tls && !authenticates ? 'kubewire-unchecked' : undefined),
      userNote: opts.token
        ? undefined
        : clientCa
          ? 'replace {} with client-certificate-data and client-key-data (a certificate signed by the client CA)'
          : auth.tokens
            ? 'replace {} with token: <a token of the token file>'
            : undefined,
      caPem: tls?.cert,
    }),
    close: () => sockets.close(server),
  };
}

function apiTarget(url: URL): UpgradeTarget | null {
  const m = SUBRESOURCE.exec(url.pathname);
  if (!m) return null;
  return { url, namespace: decodeURIComponent(m[1]!), pod: decodeURIComponent(m[2]!), sub: m[3] as UpgradeTarget['sub'] };
}

function unauthorized(): object {
  return statusBody(401, 'Unauthorized', 'Unauthorized');
}
