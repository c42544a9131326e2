/**
 * How the runtime hands out streaming URLs. A real kubelet asks the
 * container runtime over CRI gRPC (`Exec`, `Attach`, `PortForward`) and gets
 * a URL on the runtime's streaming server, `/exec/{token}`, `/attach/{token}`
 * or `/portforward/{token}`; the token names the request, once, for a
 * minute. Here the question is one loopback HTTP call with the CRI request's
 * fields as JSON:
 *
 *   POST /cri/v1/exec         {"namespace","pod","container","cmd":[…],"tty","stdin","stdout","stderr"}
 *   POST /cri/v1/attach       {"namespace","pod","container","tty","stdin","stdout","stderr"}
 *   POST /cri/v1/portforward  {"namespace","pod"}
 *   → 200 {"url":"http://127.0.0.1:PORT/exec/TOKEN"}
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { ExecRequest } from '../exec.js';
import type { ServeRoutes, UpgradeTarget } from '../server.js';

export const CRI_PATH = /^\/cri\/v1\/(exec|attach|portforward)$/;
const STREAM_PATH = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)$/;
/** How long a token stays valid (the CRI streaming server's request cache keeps one a minute). */
const TOKEN_TTL_MS = 60_000;
/** Tokens waiting at once (the CRI streaming server's cache holds as many). */
const MAX_TOKENS = 1000;
const MAX_BODY = 64 * 1024;

interface Pending {
  target: Omit<UpgradeTarget, 'url'>;
  expires: number;
}

export interface CriRequest {
  namespace?: string;
  pod?: string;
  container?: string;
  cmd?: string[];
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

/** The runtime's extra URL forms: the token requests and `/{exec,attach,portforward}/{token}`. */
export function runtimeRoutes(baseUrl: () => string, log?: (line: string) => void): ServeRoutes {
  const tokens = new Map<string, Pending>();
  const issue = (sub: UpgradeTarget['sub'], body: CriRequest): string => {
    const now = Date.now();
    for (const [t, p] of tokens) if (p.expires <= now) tokens.delete(t);
    if (tokens.size >= MAX_TOKENS) throw new Error('too many pending streaming requests');
    // 8 URL-safe characters, as containerd's tokens look.
    const token = randomBytes(6).toString('base64url');
    const namespace = body.namespace ?? 'default';
    const pod = body.pod ?? '';
    const exec: ExecRequest | undefined =
      sub === 'portforward'
        ? undefined
        : {
            kind: sub,
            namespace,
            pod,
            container: body.container ?? '',
            command: sub === 'exec' ? (body.cmd ?? []) : [],
            stdin: !!body.stdin,
            stdout: !!body.stdout,
            stderr: !!body.stderr && !body.tty,
            tty: !!body.tty,
          };
    tokens.set(token, { target: { namespace, pod, sub, exec }, expires: now + TOKEN_TTL_MS });
    return `${baseUrl()}/${sub}/${token}`;
  };
  return {
    request(req: http.IncomingMessage, res: http.ServerResponse): boolean {
      const m = CRI_PATH.exec(new URL(req.url ?? '/', 'http://local').pathname);
      if (!m) return false;
      if (req.method !== 'POST') {
        res.writeHead(405, { Allow: 'POST', 'Content-Length': 0 });
        res.end();
        return true;
      }
      const parts: Buffer[] = [];
      let size = 0;
      req.on('data', (d: Buffer) => {
        size += d.length;
        if (size <= MAX_BODY) parts.push(d);
      });
      req.on('end', () => {
        let url: string;
        try {
          if (size > MAX_BODY) throw new Error('request too large');
          url = issue(m[1] as UpgradeTarget['sub'], JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as CriRequest);
        } catch (e) {
          const text = JSON.stringify({ error: (e as Error).message });
          res.writeHead(400, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
          res.end(text);
          return;
        }
        log?.(`cri ${m[1]}: ${url}`);
        const text = JSON.stringify({ url });
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      });
      return true;
    },
    upgrade(url: URL): UpgradeTarget | null {
      const m = STREAM_PATH.exec(url.pathname);
      if (!m) return null;
      const p = tokens.get(m[2]!);
      // One use per token, as the streaming server's cache consumes it.
      tokens.delete(m[2]!);
      if (!p || p.expires <= Date.now() || p.target.sub !== m[1]) return null;
      return { url, ...p.target };
    },
  };
}

/** Ask the runtime at `runtimeUrl` for a streaming URL. */
export async function requestStreamingUrl(runtimeUrl: string, sub: UpgradeTarget['sub'], body: CriRequest): Promise<string> {
  const res = await fetch(`${runtimeUrl}/cri/v1/${sub}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`runtime answered ${res.status}: ${text}`);
  const { url } = JSON.parse(text) as { url?: string };
  if (typeof url !== 'string') throw new Error('runtime gave no url');
  return url;
}
