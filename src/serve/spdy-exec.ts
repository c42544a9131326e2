/**
 * Exec/attach over SPDY (`channel.k8s.io` … `v4.channel.k8s.io`): the client
 * opens one stream per role (`streamtype` header), we accept each with an
 * empty SYN_REPLY, start the command once every expected stream is there,
 * and at the end write the status on the error stream, FIN the output
 * streams, reset stdin/resize (input after exit is dropped) and wait for the
 * client to close the connection, as the current CRI streaming server does.
 */
import type { SpdySession, SpdyStream } from '../spdy/session/index.js';
import { runExec, type ExecBehaviour, type ExecRequest } from './exec.js';
import { statusPayload } from './status.js';

/** How long the client has to open its streams (Kubernetes uses the same 30 s). */
const STREAM_CREATION_TIMEOUT_MS = 30_000;
/** How long we wait for the client to hang up after the status was sent. */
const LINGER_MS = 15_000;

export interface SpdyExecOptions {
  /** 1–4 (V5 over SPDY behaves as V4). */
  version: number;
  behaviour: ExecBehaviour;
  log?: (line: string) => void;
}

export function serveSpdyExec(session: SpdySession, req: ExecRequest, opts: SpdyExecOptions): Promise<void> {
  return new Promise((resolve) => {
    const roles = new Map<string, SpdyStream>();
    const withStderr = req.stderr && !req.tty;
    const withResize = req.tty && opts.version >= 3;
    const expected = 1 + Number(req.stdin) + Number(req.stdout) + Number(withStderr) + Number(withResize);
    let started = false;
    const timer = setTimeout(() => {
      opts.log?.('exec: timed out waiting for client to create streams');
      session.destroy();
    }, STREAM_CREATION_TIMEOUT_MS);
    session.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    session.on('error', () => {});

    session.on('stream', (stream) => {
      const role = (stream.header('streamtype') ?? '').toLowerCase();
      stream.on('error', () => {});
      if (!['error', 'stdin', 'stdout', 'stderr', 'resize'].includes(role) || roles.has(role)) {
        stream.reset();
        return;
      }
      stream.respond([]);
      roles.set(role, stream);
      if (!started && roles.size >= expected && roles.has('error')) {
        started = true;
        clearTimeout(timer);
        void start();
      }
    });

    const start = async () => {
      const errorStream = roles.get('error')!;
      const stdin = roles.get('stdin') ?? null;
      const resize = roles.get('resize') ?? null;
      // The error stream's and output streams' read sides carry nothing; drain them.
      errorStream.resume();
      for (const r of ['stdout', 'stderr']) roles.get(r)?.resume();
      await runExec(
        req,
        {
          stdin,
          stdout: roles.get('stdout') ?? null,
          stderr: roles.get('stderr') ?? null,
          resize,
          gone: new Promise<void>((resolve) => session.on('close', () => resolve())),
          finish: (outcome) => {
            const payload = statusPayload(outcome, opts.version >= 4);
            if (payload !== null && !errorStream.destroyed) errorStream.write(payload);
            if (!errorStream.destroyed) errorStream.end();
            for (const s of [stdin, resize]) if (s && !s.destroyed && !s.readableEnded) s.reset();
            opts.log?.(`exec finished: ${outcome.kind === 'exit' ? `exit code ${outcome.code}` : outcome.message}`);
            // The client closes the connection once it has read everything.
            setTimeout(() => session.destroy(), LINGER_MS).unref();
          },
        },
        opts.behaviour,
      );
    };
  });
}
