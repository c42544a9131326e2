/**
 * The signed-in tap's view of a client connection, sans-IO: it finds each
 * HTTP/1.1 request head in the client's bytes (any chunking), checks the
 * local token, and says what to forward. Heads are handed out to be
 * rewritten (the caller adds the user's credentials, which may take an
 * exec plugin run); everything between heads (bodies, chunked framing) is
 * forwarded as it came. After an upgrade request the client's bytes wait
 * until the server's answer is known: a 101 (or a 2xx to a CONNECT) turns
 * both directions into a plain byte pipe, anything else lets HTTP go on.
 *
 * The server's responses are followed only as far as needed: their status
 * (a 401 means the user's credentials were rejected) and the 101.
 */
import { ByteQueue } from '../common/byte-queue.js';
import { HttpParser, switchesProtocol, type HttpParseEvent, type HttpRequestHead } from '../http/parser.js';
import { headerValue } from '../http/headers.js';
import { checkLocalToken } from '../identity/local-access.js';

export type GateAction =
  /** A complete request head that passed the local check: rewrite and forward it. */
  | { kind: 'head'; head: HttpRequestHead }
  /** Bytes to forward as they are (bodies, and everything after a 101). */
  | { kind: 'raw'; bytes: Uint8Array }
  /** Answer locally and close; nothing more goes upstream. */
  | { kind: 'refuse'; status: 400 | 401; reason: string; message: string };

export interface ServerVerdict {
  /** Client bytes released by a 101 (or a refused upgrade), to forward now. */
  actions: GateAction[];
  /** Statuses of responses whose heads completed in this chunk. */
  statuses: number[];
}

export class RequestGate {
  private readonly requests = new HttpParser({ type: 'request', mode: 'inspect' });
  private readonly responses = new HttpParser({ type: 'response', mode: 'inspect' });
  /** Client bytes received and not yet forwarded; `held.offset` = first of them. */
  private readonly held = new ByteQueue();
  private inBody = false;
  private upgradePending = false;
  /** The method of the request whose answer is awaited: a CONNECT's 2xx makes a tunnel, as a 101 does. */
  private pendingMethod: string | undefined;
  private piping = false;
  private refused = false;
  private watchingResponses = true;

  constructor(private readonly localToken: string) {}

  /** True once the connection is a plain byte pipe (after a 101). */
  get isPipe(): boolean {
    return this.piping;
  }

  pushClient(chunk: Uint8Array): GateAction[] {
    if (this.refused || chunk.length === 0) return [];
    if (this.piping) return [{ kind: 'raw', bytes: chunk }];
    this.held.push(chunk);
    return this.follow(this.requests.push(chunk));
  }

  pushServer(chunk: Uint8Array): ServerVerdict {
    const verdict: ServerVerdict = { actions: [], statuses: [] };
    if (!this.watchingResponses || this.piping) return verdict;
    for (const ev of this.responses.push(chunk)) {
      if (ev.kind === 'response-head') {
        verdict.statuses.push(ev.head.status);
        // An upgrade's answer decides what the held client bytes are.
        if (this.upgradePending && ev.head.status >= 200 && !switchesProtocol(this.pendingMethod, ev.head.status)) {
          this.upgradePending = false;
          verdict.actions.push(...this.follow(this.requests.refuseUpgrade()));
        }
      } else if (ev.kind === 'switch') {
        this.startPipe(verdict.actions);
      } else if (ev.kind === 'diagnostic') {
        // Responses we cannot follow: stop looking. A pending upgrade is
        // then let through, since only the server can judge it now.
        this.watchingResponses = false;
        if (this.upgradePending) this.startPipe(verdict.actions);
      }
    }
    return verdict;
  }

  private startPipe(out: GateAction[]): void {
    this.piping = true;
    this.upgradePending = false;
    this.requests.acceptUpgrade();
    if (this.held.length) out.push({ kind: 'raw', bytes: this.held.take(this.held.length) });
  }

  private follow(events: HttpParseEvent[]): GateAction[] {
    const out: GateAction[] = [];
    for (const ev of events) {
      if (this.refused) break;
      switch (ev.kind) {
        case 'request-head': {
          this.forwardUpTo(ev.head.offset, out);
          this.held.skip(ev.head.offset + ev.head.headLength - this.held.offset);
          const check = checkLocalToken(headerValue(ev.head.headers, 'authorization'), this.localToken);
          if (check !== 'ok') {
            this.refuse(out, 401, 'Unauthorized', LOCAL_TOKEN_PROBLEM[check]);
            break;
          }
          this.responses.expectResponse({ method: ev.head.method, upgrade: ev.head.upgrade });
          this.pendingMethod = ev.head.method;
          out.push({ kind: 'head', head: ev.head });
          this.inBody = true;
          break;
        }
        case 'message-end':
          this.forwardUpTo(ev.offset, out);
          this.inBody = false;
          break;
        case 'upgrade-pending':
          this.forwardUpTo(ev.offset, out);
          this.inBody = false;
          this.upgradePending = true;
          break;
        case 'diagnostic':
          this.refuse(out, 400, 'BadRequest', `kubewire tap: cannot read the request: ${ev.error.message}`);
          break;
        default:
          break;
      }
    }
    // Body bytes may go on as they come; bytes of a head not yet complete wait.
    if (this.inBody && !this.upgradePending && !this.refused) this.forwardUpTo(this.held.offset + this.held.length, out);
    return out;
  }

  private forwardUpTo(offset: number, out: GateAction[]): void {
    const n = offset - this.held.offset;
    if (n > 0) out.push({ kind: 'raw', bytes: this.held.take(n) });
  }

  private refuse(out: GateAction[], status: 400 | 401, reason: string, message: string): void {
    this.refused = true;
    this.held.clear();
    out.push({ kind: 'refuse', status, reason, message });
  }
}

const LOCAL_TOKEN_PROBLEM: Record<'missing' | 'not-bearer' | 'wrong', string> = {
  missing:
    'kubewire tap: this tap needs the bearer token of the kubeconfig it wrote (no Authorization header was sent; use KUBECONFIG as the tap printed it)',
  'not-bearer': 'kubewire tap: this tap takes only the bearer token of the kubeconfig it wrote (the Authorization header is not a bearer token)',
  wrong: 'kubewire tap: wrong bearer token: use the kubeconfig this tap wrote (KUBECONFIG as the tap printed it)',
};
