/**
 * The apiserver's stream translator (kube-apiserver 1.30+): a WebSocket
 * exec/attach client (`v5.channel.k8s.io`) is served here, and the session
 * is carried on to the kubelet as the apiserver's own SPDY client: a POST
 * with `User-Agent: Go-http-client/1.1` and no client headers, offering
 * v5…v1 (the kubelet picks v4), streams opened in client-go's order (error,
 * stdin, stdout, stderr, resize). stdin's end (V5's close signal) becomes a
 * FIN, terminal sizes are re-encoded as client-go writes them, and the
 * kubelet's status comes back re-wrapped: an exit code as
 * `command terminated with non-zero exit code: command terminated with exit
 * code N`, any other failure as an InternalError around the kubelet's message.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { SPDY_REMOTE_COMMAND_OFFER, encodeResize, parseStatus } from '../../k8s/index.js';
import { SpdySession, type SpdyStream } from '../../spdy/session/index.js';
import { parseResize, type ExecIO, type ExecRequest } from '../exec.js';
import { KUBERNETES_PEER_OPTIONS } from '../peer-options.js';
import type { ExecOutcome } from '../status.js';
import type { HopRecorder } from './record.js';
import { requestUpgrade } from './upstream.js';

export interface TranslateOptions {
  upstream: { host: string; port: number; hostHeader: string };
  /** Path and query on the kubelet. */
  target: string;
  record?: HopRecorder;
  log?: (line: string) => void;
}

export async function translateToSpdy(req: ExecRequest, io: ExecIO, opts: TranslateOptions): Promise<ExecOutcome> {
  const fail = async (message: string): Promise<ExecOutcome> => {
    const outcome: ExecOutcome = { kind: 'failed', message, raw: true };
    io.stdout?.end();
    io.stderr?.end();
    io.stdin?.resume();
    await io.finish(outcome);
    return outcome;
  };
  let up;
  try {
    up = await requestUpgrade(opts.upstream, 'POST', opts.target, [
      ['Host', opts.upstream.hostHeader],
      ['User-Agent', 'Go-http-client/1.1'],
      ['Content-Length', '0'],
      ['Connection', 'Upgrade'],
      ['Upgrade', 'SPDY/3.1'],
      ...SPDY_REMOTE_COMMAND_OFFER.map((p): [string, string] => ['X-Stream-Protocol-Version', p]),
    ]);
  } catch (e) {
    return fail(`error dialing backend: ${(e as Error).message}`);
  }
  if (up.status !== 101) {
    up.socket.destroy();
    return fail(`unable to upgrade connection: ${up.reason || up.status}`);
  }
  const protocol = up.headers.find(([k]) => k.toLowerCase() === 'x-stream-protocol-version')?.[1] ?? 'channel.k8s.io';
  const recorded = opts.record?.session({
    kind: req.kind,
    namespace: req.namespace,
    pod: req.pod,
    command: req.command,
    transport: 'spdy/3.1',
    protocol,
    side: 'upstream',
    clientPort: up.socket.localPort,
    serverPort: up.socket.remotePort,
  });
  if (up.rest.length) up.socket.unshift(up.rest);
  up.socket.resume();
  const session = SpdySession.client(up.socket, KUBERNETES_PEER_OPTIONS);
  session.on('error', () => {});
  const open = (role: string): SpdyStream => {
    const s = session.request([['streamtype', role]]);
    s.on('error', () => {});
    return s;
  };
  const errorStream = open('error');
  const stdin = req.stdin ? open('stdin') : null;
  const stdout = req.stdout ? open('stdout') : null;
  const stderr = req.stderr && !req.tty ? open('stderr') : null;
  const resize = req.tty ? open('resize') : null;

  const gone = () => session.destroy();
  void io.gone.then(gone);

  if (stdin && io.stdin) {
    io.stdin.on('data', (d: Buffer) => recorded?.bytes('stdin', 'clientToServer', d));
    io.stdin.pipe(stdin);
  } else io.stdin?.resume();
  if (resize && io.resize) {
    parseResize(io.resize, (width, height) => {
      const bytes = encodeResize({ width, height });
      recorded?.bytes('resize', 'clientToServer', bytes);
      if (!resize.destroyed && !resize.writableEnded) resize.write(bytes);
    });
  }
  const copies: Array<Promise<unknown>> = [];
  const copy = (role: 'stdout' | 'stderr', from: SpdyStream | null, to: Writable | null) => {
    if (!from) {
      to?.end();
      return;
    }
    from.on('data', (d: Buffer) => recorded?.bytes(role, 'serverToClient', d));
    if (to) {
      from.pipe(to);
      copies.push(once(to, 'finish').catch(() => undefined));
    } else from.resume();
    copies.push(once(from as Readable, 'end').catch(() => undefined));
  };
  copy('stdout', stdout, io.stdout);
  copy('stderr', stderr, io.stderr);
  const parts: Buffer[] = [];
  errorStream.on('data', (d: Buffer) => {
    recorded?.bytes('error', 'serverToClient', d);
    parts.push(d);
  });
  const errorDone = new Promise<void>((resolve) => {
    errorStream.on('end', resolve);
    errorStream.on('close', resolve);
    session.on('close', () => resolve());
  });
  // client-go: wait for stdout and stderr to be copied, then for the error stream.
  await Promise.race([Promise.all(copies), new Promise<void>((r) => session.on('close', () => r()))]);
  await errorDone;
  const outcome = outcomeOf(Buffer.concat(parts), protocol, session.isClosed && parts.length === 0);
  recorded?.end(outcome);
  // The executor is done: cancel what is left and hang up, as client-go's connection close does.
  for (const s of [errorStream, stdout, stderr, stdin, resize]) if (s && !s.destroyed) s.reset();
  void session.close().catch(() => undefined);
  setTimeout(() => session.destroy(), 1000).unref();
  io.stdin?.unpipe();
  io.stdin?.resume();
  await io.finish(outcome);
  return outcome;
}

/** What client-go's error decoder makes of the kubelet's error stream, as the translator reports it. */
function outcomeOf(bytes: Buffer, protocol: string, lost: boolean): ExecOutcome {
  if (lost) return { kind: 'failed', message: 'connection to the kubelet lost', raw: true };
  if (bytes.length === 0) return { kind: 'exit', code: 0 };
  const json = protocol.startsWith('v4.') || protocol.startsWith('v5.');
  if (!json) {
    const text = bytes.toString('utf8');
    const m = /^command terminated with non-zero exit code: .*?(\d+)$/.exec(text);
    return m ? { kind: 'exit', code: Number(m[1]), detail: `command terminated with exit code ${m[1]}` } : internal(text);
  }
  const { status } = parseStatus(bytes, 'json');
  if (status.outcome === 'success') return { kind: 'exit', code: 0 };
  if (status.outcome === 'exit' && status.exitCode !== null) {
    return { kind: 'exit', code: status.exitCode, detail: `command terminated with exit code ${status.exitCode}` };
  }
  return internal(status.message ?? 'error stream protocol error: unknown error');
}

function internal(message: string): ExecOutcome {
  // apierrors.NewInternalError(err): the status encoder adds "Internal error occurred: ".
  return { kind: 'failed', message, raw: true };
}
