/**
 * The client side of one connection through a signed-in tap: client bytes
 * go through a `RequestGate` one chunk at a time (the client is paused while
 * a chunk's heads wait for credentials, so order is kept and memory is one
 * chunk), heads are rewritten with the user's credentials, and the upstream
 * connection is opened only once a request has passed the local check: a
 * caller without the token never reaches the server.
 */
import type { Socket } from 'node:net';
import type { RequestCredentials, UpstreamCredentials } from '../identity/upstream-credentials.js';
import { rewriteHead } from './head-rewrite.js';
import { RequestGate, type GateAction } from './request-gate.js';

export interface SignIn {
  credentials: UpstreamCredentials;
  localToken: string;
}

export interface SignedInLink {
  /** Open the upstream (once); false when it could not be (the client has been answered). */
  connect(): Promise<boolean>;
  /** Forward to the upstream: `wire` is sent, `shown` is what decoding and recording see. */
  forward(wire: Uint8Array, shown: Uint8Array): Promise<void>;
  /** Answer the client locally and close. */
  answer(status: number, reason: string, message: string): void;
  /** A local request was refused (for the tap's report). */
  refused(message: string): void;
}

export class SignedInClient {
  private readonly gate: RequestGate;
  private chain: Promise<void> = Promise.resolve();
  private lastUsed: RequestCredentials | undefined;
  private stopped = false;

  constructor(
    private readonly client: Socket,
    private readonly signIn: SignIn,
    private readonly link: SignedInLink,
  ) {
    this.gate = new RequestGate(signIn.localToken);
  }

  /** Start reading the client. */
  start(): void {
    this.client.on('data', (chunk: Buffer) => {
      // The gate sees chunks in arrival order; their handling is chained in the same order.
      const actions = this.gate.pushClient(chunk);
      if (actions.length) this.run(() => this.handle(actions));
    });
  }

  /** Server bytes pass here before they are forwarded: 401s and the 101 matter. */
  server(chunk: Uint8Array): void {
    if (this.gate.isPipe) return;
    const verdict = this.gate.pushServer(chunk);
    if (verdict.statuses.includes(401)) this.signIn.credentials.rejected(this.lastUsed);
    if (verdict.actions.length) this.run(() => this.handle(verdict.actions));
  }

  stop(): void {
    this.stopped = true;
  }

  /** Run `fn` once everything queued so far has been handled. */
  after(fn: () => void): void {
    this.chain = this.chain.then(fn, fn);
  }

  private pending = 0;

  /** Keep chunks in order; the client is paused while work is queued. */
  private run(step: () => Promise<void>): void {
    this.pending++;
    this.client.pause();
    this.chain = this.chain
      .then(step)
      .catch(() => undefined)
      .then(() => {
        this.pending--;
        if (this.pending === 0 && !this.stopped && !this.client.destroyed) this.client.resume();
      });
  }

  private async handle(actions: GateAction[]): Promise<void> {
    for (const a of actions) {
      if (this.stopped) return;
      switch (a.kind) {
        case 'refuse':
          this.link.refused(a.message);
          this.link.answer(a.status, a.reason, a.message);
          this.stopped = true;
          return;
        case 'head': {
          if (!(await this.link.connect())) {
            this.stopped = true;
            return;
          }
          let used: RequestCredentials;
          try {
            used = await this.signIn.credentials.forRequest();
          } catch (e) {
            this.link.answer(502, 'BadGateway', `kubewire tap: cannot get the user's credentials: ${(e as Error).message}`);
            this.stopped = true;
            return;
          }
          this.lastUsed = used;
          const server = this.signIn.credentials.target.cluster.server;
          const { wire, shown } = rewriteHead(a.head, {
            host: server.host,
            pathPrefix: server.pathname.replace(/\/+$/, ''),
            add: used.headers,
          });
          await this.link.forward(wire, shown);
          break;
        }
        case 'raw':
          await this.link.forward(a.bytes, a.bytes);
          break;
      }
    }
  }
}
