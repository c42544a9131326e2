/**
 * `serve --as kubelet --upstream URL`: a kubelet's streaming endpoints in
 * front of a container runtime. For each exec, attach or port-forward on the
 * kubelet URL forms (kubelet-urls.ts) it asks the runtime for a streaming URL,
 * as CRI `Exec`/`Attach`/`PortForward` does (runtime-tokens.ts), then proxies
 * the upgrade there (`/exec/{token}` …) and copies bytes both ways, as the
 * kubelet's upgrade-aware proxy does.
 *
 * WebSocket is accepted only with the sub-protocols a kubelet's streaming
 * server speaks: none, `channel.k8s.io`, `base64.channel.k8s.io` and the
 * `v4.` ones. `v5.channel.k8s.io` and the `SPDY/3.1+portforward.k8s.io`
 * tunnel exist only in the apiserver, so they get a bare
 * `HTTP/1.1 403 Forbidden`.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { headerValues } from '../../websocket/index.js';
import { refuse, refuseText, statusBody } from '../upgrade-answer.js';
import { forwardHeaders } from './forward-headers.js';
import { parseKubeletUrl } from './kubelet-urls.js';
import { listenHop, type HopHandle } from './listen.js';
import type { HopRecorder } from './record.js';
import { relayRecorded } from './relay.js';
import { requestStreamingUrl } from './runtime-tokens.js';
import { parseUpstream, requestUpgrade, type UpstreamResponse } from './upstream.js';

export interface KubeletHopOptions {
  listen?: string;
  /** The runtime, `http://host:port` (a `serve --as runtime`). */
  upstream: string;
  record?: HopRecorder;
  log?: (line: string) => void;
}

export const KUBELET_WEBSOCKET_EXEC = ['', 'channel.k8s.io', 'base64.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io'];
export const KUBELET_WEBSOCKET_PORT_FORWARD = ['', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io'];

export async function startKubeletHop(opts: KubeletHopOptions): Promise<HopHandle> {
  parseUpstream(opts.upstream);
  const log = opts.log ?? (() => {});

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const t = parseKubeletUrl(url);
    if (!t) return refuse(socket, 404, 'Not Found');
    if (t.sub !== 'portforward' && !t.stdin && !t.stdout && !t.stderr) {
      // the kubelet's own check, before any upgrade (a request whose query was lost on the way gets this)
      log(`${req.method} ${req.url}: none of input, output, error: 400`);
      return refuseText(socket, 400, 'Bad Request', 'you must specify at least 1 of stdin, stdout, stderr');
    }
    let set: Record<string, string | null> = {};
    if ((req.headers.upgrade ?? '').toLowerCase().includes('websocket')) {
      const allowed = t.sub === 'portforward' ? KUBELET_WEBSOCKET_PORT_FORWARD : KUBELET_WEBSOCKET_EXEC;
      const offered = headerValues(req.headers, 'sec-websocket-protocol')
        .flatMap((v) => v.split(','))
        .map((p) => p.trim())
        .filter(Boolean);
      const kept = offered.filter((p) => allowed.includes(p));
      if (offered.length > 0 && kept.length === 0) {
        log(`${req.method} ${req.url}: WebSocket protocols ${offered.join(', ')} not spoken here: 403`);
        socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        return;
      }
      set = { 'Sec-WebSocket-Protocol': kept.length ? kept.join(', ') : null };
    }
    void (async () => {
      let streamingUrl: URL;
      try {
        streamingUrl = new URL(
          await requestStreamingUrl(opts.upstream, t.sub, {
            namespace: t.namespace,
            pod: t.pod,
            container: t.container,
            cmd: t.command,
            tty: t.tty,
            stdin: t.stdin,
            stdout: t.stdout,
            stderr: t.stderr,
          }),
        );
      } catch (e) {
        log(`${req.method} ${req.url}: ${(e as Error).message}`);
        return refuse(socket, 500, 'Internal Server Error', statusBody(500, 'InternalError', (e as Error).message));
      }
      const target = `${streamingUrl.pathname}${streamingUrl.search}`;
      log(`${req.method} ${req.url} → ${target}`);
      let up: UpstreamResponse;
      try {
        up = await requestUpgrade(
          { host: streamingUrl.hostname.replace(/^\[|\]$/g, ''), port: Number(streamingUrl.port || 80) },
          req.method ?? 'POST',
          target,
          forwardHeaders(req.rawHeaders, { remoteAddress: req.socket.remoteAddress ?? '127.0.0.1', set }),
        );
      } catch (e) {
        return refuse(socket, 500, 'Internal Server Error', statusBody(500, 'InternalError', (e as Error).message));
      }
      relayRecorded(socket, head, up, opts.record, { kind: t.sub, namespace: t.namespace, pod: t.pod, command: t.command });
    })();
  };

  const onRequest = (_req: http.IncomingMessage, res: http.ServerResponse) => {
    const text = 'streaming endpoints only: /exec, /attach, /portForward (upgrade required)\n';
    res.writeHead(400, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };
  return listenHop('kubelet', opts.listen, onRequest, onUpgrade);
}
