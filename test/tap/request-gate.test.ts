/**
 * The signed-in tap's request gate, sans-IO: which client bytes go upstream,
 * which heads are handed out for rewriting, what waits for the server's
 * answer to an upgrade, and what is refused, for any chunking.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RequestGate, type GateAction } from '../../src/tap/request-gate.js';
import { rewriteHead, CREDENTIAL_PLACEHOLDER } from '../../src/tap/head-rewrite.js';

const TOKEN = 'local-one-time-token';
const auth = `Authorization: Bearer ${TOKEN}\r\n`;
const latin1 = (s: string) => Buffer.from(s, 'latin1');

const GET = `GET /api?timeout=32s HTTP/1.1\r\nHost: 127.0.0.1:1\r\n${auth}Accept: application/json\r\n\r\n`;
const POST_BODY = '{"kind":"Pod","spec":{}}';
const POST = `POST /api/v1/namespaces/d/pods HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: ${POST_BODY.length}\r\n\r\n${POST_BODY}`;
const CHUNKED_BODY = '5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n';
const CHUNKED = `PUT /x HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: chunked\r\n\r\n${CHUNKED_BODY}`;
const UPGRADE =
  `POST /api/v1/namespaces/d/pods/p/exec?command=sh HTTP/1.1\r\nHost: x\r\n${auth}Connection: Upgrade\r\n` +
  'Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\nContent-Length: 0\r\n\r\n';
const FRAMES = latin1('\x80\x03\x00\x01\x00\x00\x00\x04ABCD-spdy-frames-from-the-client');
const RESPONSES = latin1(
  'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}' +
    'HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nyes' +
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n' +
    'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n',
);

/** What the upstream would receive, with each head marked by its target. */
function render(actions: GateAction[]): string {
  return actions
    .map((a) => (a.kind === 'head' ? `<HEAD ${a.head.method} ${a.head.target}>` : a.kind === 'raw' ? Buffer.from(a.bytes).toString('latin1') : `<REFUSE ${a.status}>`))
    .join('');
}

function cut(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...at, bytes.length]) {
    if (p > prev) out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

/** Client: requests then frames; the server answers after the upgrade request; then more frames. */
function drive(clientCuts: number[], serverCuts: number[]): string {
  const gate = new RequestGate(TOKEN);
  const actions: GateAction[] = [];
  const requests = latin1(GET + POST + CHUNKED + UPGRADE);
  const early = Buffer.concat([requests, FRAMES]);
  for (const c of cut(early, clientCuts)) actions.push(...gate.pushClient(c));
  const beforeAnswer = render(actions);
  // Frames sent before the 101 wait for it.
  expect(beforeAnswer.endsWith('Content-Length: 0\r\n\r\n') || beforeAnswer.endsWith('>')).toBe(true);
  for (const c of cut(RESPONSES, serverCuts)) actions.push(...gate.pushServer(c).actions);
  expect(gate.isPipe).toBe(true);
  actions.push(...gate.pushClient(latin1('more-after-101')));
  return render(actions);
}

const EXPECTED =
  '<HEAD GET /api?timeout=32s>' +
  `<HEAD POST /api/v1/namespaces/d/pods>${POST_BODY}` +
  `<HEAD PUT /x>${CHUNKED_BODY}` +
  '<HEAD POST /api/v1/namespaces/d/pods/p/exec?command=sh>' +
  FRAMES.toString('latin1') +
  'more-after-101';

describe('the request gate', () => {
  it('forwards bodies as they came (chunked framing too), hands out every head, and holds frames until the 101', () => {
    expect(drive([], [])).toBe(EXPECTED);
  });

  it('any chunking of either direction gives the same bytes upstream', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 2000 }), { maxLength: 40 }), fc.array(fc.nat({ max: 400 }), { maxLength: 20 }), (c, s) => {
        expect(drive(c, s)).toBe(EXPECTED);
      }),
      { numRuns: 300 },
    );
  });

  it('a refused upgrade lets HTTP go on: the held bytes are the next request', () => {
    const gate = new RequestGate(TOKEN);
    const next = `GET /after HTTP/1.1\r\nHost: x\r\n${auth}\r\n`;
    const actions = [...gate.pushClient(latin1(UPGRADE + next))];
    expect(render(actions)).toBe('<HEAD POST /api/v1/namespaces/d/pods/p/exec?command=sh>');
    actions.push(...gate.pushServer(latin1('HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope')).actions);
    expect(render(actions)).toBe('<HEAD POST /api/v1/namespaces/d/pods/p/exec?command=sh><HEAD GET /after>');
    expect(gate.isPipe).toBe(false);
  });

  it('reports the statuses of responses (a 401 makes the tap drop the credential it used)', () => {
    const gate = new RequestGate(TOKEN);
    gate.pushClient(latin1(GET + GET));
    const v = gate.pushServer(latin1('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    expect(v.statuses).toEqual([401, 200]);
  });

  const refusals: Array<{ label: string; header: string; message: RegExp }> = [
    { label: 'no Authorization', header: '', message: /no Authorization header was sent/ },
    { label: 'a wrong token', header: 'Authorization: Bearer guessed\r\n', message: /wrong bearer token/ },
    { label: 'a token of the right length but wrong', header: `Authorization: Bearer ${'x'.repeat(TOKEN.length)}\r\n`, message: /wrong bearer token/ },
    { label: 'basic auth', header: 'Authorization: Basic dTpw\r\n', message: /not a bearer token/ },
  ];
  for (const r of refusals) {
    it(`${r.label}: 401 with the reason, and nothing of that request or after it goes upstream`, () => {
      const gate = new RequestGate(TOKEN);
      const bad = `POST /api/v1/namespaces/d/pods HTTP/1.1\r\nHost: x\r\n${r.header}Content-Length: 5\r\n\r\nhello`;
      const actions = gate.pushClient(latin1(GET + bad + GET));
      expect(render(actions)).toBe('<HEAD GET /api?timeout=32s><REFUSE 401>');
      const refusal = actions.find((a) => a.kind === 'refuse')!;
      expect(refusal.kind === 'refuse' && refusal.message).toMatch(r.message);
      expect(gate.pushClient(latin1(GET))).toEqual([]);
    });
  }

  it('a request that is not HTTP gets 400', () => {
    const actions = new RequestGate(TOKEN).pushClient(latin1('\x16\x03\x01garbage that is not a request line\r\n\r\n'));
    expect(actions).toMatchObject([{ kind: 'refuse', status: 400 }]);
  });
});

describe('head rewriting', () => {
  const gate = new RequestGate(TOKEN);
  const head = (gate.pushClient(latin1(UPGRADE))[0] as Extract<GateAction, { kind: 'head' }>).head;

  it("puts the user's credentials in, the local token out, names the real server and keeps kubectl's own headers", () => {
    const { wire, shown } = rewriteHead(head, {
      host: 'api.example:6443',
      pathPrefix: '/k8s/clusters/c-1',
      add: [
        ['Authorization', 'Bearer users-real-token'],
        ['Impersonate-User', 'alice'],
      ],
    });
    const w = Buffer.from(wire).toString('latin1');
    expect(w).toBe(
      'POST /k8s/clusters/c-1/api/v1/namespaces/d/pods/p/exec?command=sh HTTP/1.1\r\nHost: api.example:6443\r\nConnection: Upgrade\r\n' +
        'Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\nContent-Length: 0\r\n' +
        'Authorization: Bearer users-real-token\r\nImpersonate-User: alice\r\n\r\n',
    );
    expect(w).not.toContain(TOKEN);
    const s = Buffer.from(shown).toString('latin1');
    expect(s).not.toContain('users-real-token');
    expect(s).toContain(`Authorization: Bearer ${CREDENTIAL_PLACEHOLDER}\r\n`);
    expect(s.length - w.length).toBe(CREDENTIAL_PLACEHOLDER.length - 'users-real-token'.length);
  });

  it('a client certificate user adds no header at all', () => {
    const { wire, shown } = rewriteHead(head, { host: 'h:1', pathPrefix: '', add: [] });
    expect(Buffer.from(wire).equals(Buffer.from(shown))).toBe(true);
    expect(Buffer.from(wire).toString('latin1')).not.toMatch(/authorization/i);
  });
});

describe('a CONNECT through the gate', () => {
  it('a 2xx makes a pipe: the bytes the client sent after it go upstream as they are, not as HTTP', () => {
    const gate = new RequestGate(TOKEN);
    const tunnelled = latin1('\x16\x03\x01\x00\x05hello-tls');
    const sent = render(gate.pushClient(Buffer.concat([latin1(`CONNECT api.example:443 HTTP/1.1\r\nHost: api.example:443\r\n${auth}\r\n`), tunnelled])));
    expect(sent).toBe('<HEAD CONNECT api.example:443>');
    const answer = gate.pushServer(latin1('HTTP/1.1 200 Connection established\r\n\r\n'));
    expect(answer.statuses).toEqual([200]);
    expect(render(answer.actions)).toBe(tunnelled.toString('latin1'));
    expect(gate.isPipe).toBe(true);
  });

  it('any other answer lets HTTP go on with what the client sent after it', () => {
    const gate = new RequestGate(TOKEN);
    gate.pushClient(latin1(`CONNECT api.example:443 HTTP/1.1\r\nHost: api.example:443\r\n${auth}\r\n${GET}`));
    const answer = gate.pushServer(latin1('HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n'));
    expect(render(answer.actions)).toBe('<HEAD GET /api?timeout=32s>');
    expect(gate.isPipe).toBe(false);
  });
});
