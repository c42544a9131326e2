/**
 * Real kubectl through the tap to `kubewire serve`: kubectl 1.27 (SPDY exec
 * and port-forward) and 1.33 (WebSocket v5 exec, tunnelled port-forward).
 * For each: kubectl's own output through the tap equals a direct run; the
 * live summary shows the bytes and exit code that really went by; decoding
 * the `--write` recording gives the same summary; the bearer token appears in
 * no output.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeHandle } from '../../src/serve/index.js';
import { generateSelfSigned, parseUpstream, type Tap } from '../../src/tap/index.js';
import { runTap, type TapRunResult } from '../../src/tap/run-tap.js';
import { CaptureDecoder } from '../../src/tcp/index.js';
import { SessionDecoder, timelineEventToJson, type DecodeSummary, type SessionSummary } from '../../src/timeline/index.js';
import { kubectlBinary, kubectlMissing, runKubectl, writeKubeconfig, type KubectlResult } from '../helpers/kubectl.js';
import { echoServer, freePort, roundTrip, waitForText } from './helpers.js';

const TOKEN = 'kw-tap-secret-0c9d4e7a51';
let serve: ServeHandle;
let serveCa: string;
let directConfig: string;

// kubectl sends a bearer token only over TLS: serve over https, and the tap
// verifies it against serve's own certificate.
beforeAll(async () => {
  serve = await startServe({ token: TOKEN, tls: true });
  const caData = /certificate-authority-data: (\S+)/.exec(serve.kubeconfig)![1]!;
  serveCa = Buffer.from(caData, 'base64').toString();
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-tap-direct-'));
  writeFileSync(join(dir, 'ca.pem'), serveCa);
  directConfig = writeKubeconfig(serve.url, { token: TOKEN, caFile: join(dir, 'ca.pem') });
});
afterAll(async () => {
  await serve?.close();
});

interface Tapped<T> {
  value: T;
  run: TapRunResult;
  live: DecodeSummary;
  recorded: DecodeSummary;
  ndjson: string;
  stderr: string;
}

/** Start the tap (TLS listener, recording), run `fn` with a kubeconfig that points at it, stop, decode the recording. */
async function throughTap<T>(fn: (kubeconfig: string, tap: Tap, ca: string) => Promise<T>): Promise<Tapped<T>> {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-tap-kubectl-'));
  const pair = generateSelfSigned();
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, pair.cert);
  const pcap = join(dir, 'tap.pcapng');
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let ready!: (tap: Tap) => void;
  const listening = new Promise<Tap>((resolve) => (ready = resolve));
  const lines: string[] = [];
  const stderr = new PassThrough();
  const stderrChunks: Buffer[] = [];
  stderr.on('data', (d: Buffer) => stderrChunks.push(d));
  let finished: DecodeSummary | undefined;
  const running = runTap({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: parseUpstream(serve.url),
    upstreamCa: serveCa,
    tls: pair,
    write: pcap,
    graceMs: 3000,
    decoder: {},
    output: {
      event: (ev) => lines.push(JSON.stringify(timelineEventToJson(ev, { bytes: true }))),
      finish: async (summary) => {
        finished = summary;
      },
    },
    stderr,
    stopped,
    onListening: ready,
  });
  const tap = await listening;
  const kubeconfig = writeKubeconfig(tap.url, { token: TOKEN, caFile });
  let value: T;
  try {
    value = await fn(kubeconfig, tap, pair.cert);
  } finally {
    stop();
  }
  const run = await running;
  expect(run.exitCode).toBe(0);
  expect(finished).toEqual(run.summary);

  const decoder = new SessionDecoder({ inputNames: [pcap] });
  const capture = new CaptureDecoder((ev) => void decoder.push(ev));
  capture.push(readFileSync(pcap));
  capture.end();
  decoder.finish();
  return {
    value,
    run,
    live: run.summary!,
    recorded: decoder.summary(),
    ndjson: lines.join('\n'),
    stderr: Buffer.concat(stderrChunks).toString(),
  };
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function onlySession(summary: DecodeSummary, kind: string): SessionSummary {
  const s = summary.sessions.filter((x) => x.kind === kind);
  expect(s).toHaveLength(1);
  return s[0]!;
}

function stream(s: SessionSummary, role: string) {
  const found = s.streams.filter((x) => x.role === role);
  expect(found.length).toBeGreaterThan(0);
  return found;
}

function expectNoSecret(t: Tapped<unknown>): void {
  expect(t.ndjson).not.toContain(TOKEN);
  expect(JSON.stringify(t.live)).not.toContain(TOKEN);
  expect(t.stderr).not.toContain(TOKEN);
}

const execClients = [
  { version: '1.27', label: 'kubectl 1.27 (SPDY)', transport: 'spdy/3.1' },
  { version: '1.33', label: 'kubectl 1.33 (WebSocket v5)', transport: 'websocket' },
];

for (const c of execClients) {
  const missing = kubectlMissing(c.version);
  if (missing) console.warn(`skipping ${c.label} through the tap: ${missing}`);
  (missing ? describe.skip : describe)(`${c.label} exec through the tap`, () => {
    it('kubectl sees what it sees directly; the live summary has the real bytes and exit code and equals the recording decoded', async () => {
      const bin = kubectlBinary(c.version)!;
      const input = randomBytes(150_000);
      const args = ['exec', '-i', 'web', '--', 'sh', '-c', 'cat; printf "err\\001\\377" >&2; exit 3'];
      const direct = await runKubectl(bin, args, { kubeconfig: directConfig, stdin: input });
      const t = await throughTap((kubeconfig) => runKubectl(bin, args, { kubeconfig, stdin: input }));
      const tapped: KubectlResult = t.value;

      expect(direct.code).toBe(3);
      expect(direct.stdout.equals(input)).toBe(true);
      expect(tapped.code).toBe(direct.code);
      expect(tapped.stdout.equals(direct.stdout)).toBe(true);
      expect(tapped.stderr.toString('latin1')).toBe(direct.stderr.toString('latin1'));

      const s = onlySession(t.live, 'exec');
      expect(s.transport).toBe(c.transport);
      expect(s.exit).toMatchObject({ status: 'Failure', code: 3 });
      const stdin = stream(s, 'stdin')[0]!;
      expect(stdin.clientToServer).toEqual({ bytes: input.length, sha256: sha(input) });
      expect(stream(s, 'stdout')[0]!.serverToClient).toEqual({ bytes: input.length, sha256: sha(input) });
      const errBytes = Buffer.from('err\x01\xff', 'latin1');
      expect(stream(s, 'stderr')[0]!.serverToClient).toEqual({ bytes: errBytes.length, sha256: sha(errBytes) });

      expect(t.recorded).toEqual(t.live);
      expect(t.run.stats!.queue.droppedBytes).toBe(0);
      expectNoSecret(t);
    });
  });
}

/**
 * A client that upgrades to SPDY exec through the tap (TLS) and then sends
 * random bytes instead of frames, until the server gives up on it.
 */
async function garbageAfterUpgrade(tapPort: number, ca: string, bytes: number): Promise<number> {
  const socket = tlsConnect({ port: tapPort, host: '127.0.0.1', ca });
  socket.on('error', () => {});
  await new Promise((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('close', () => reject(new Error('closed before the handshake')));
  });
  socket.write(
    'POST /api/v1/namespaces/default/pods/web/exec?command=cat&stdin=true&stdout=true HTTP/1.1\r\n' +
      `Host: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 0\r\nConnection: Upgrade\r\n` +
      'Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n',
  );
  let head = '';
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) resolve();
    });
    socket.once('close', () => reject(new Error(`closed before the upgrade answer: ${head}`)));
  });
  expect(head).toMatch(/^HTTP\/1\.1 101/);
  let sent = 0;
  while (sent < bytes && !socket.destroyed) {
    const chunk = randomBytes(16 * 1024);
    sent += chunk.length;
    if (!socket.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
    }
  }
  socket.end();
  await new Promise((resolve) => (socket.closed ? resolve(null) : socket.once('close', resolve)));
  return sent;
}

const garbageMissing = kubectlMissing('1.33');
(garbageMissing ? describe.skip : describe)('a garbage session beside a real one, through the tap', () => {
  it("garbage after one client's upgrade leaves kubectl 1.33's exec and its decoding untouched", async () => {
    const bin = kubectlBinary('1.33')!;
    const input = randomBytes(80_000);
    const args = ['exec', '-i', 'web', '--', 'sh', '-c', 'cat; exit 5'];
    const direct = await runKubectl(bin, args, { kubeconfig: directConfig, stdin: input });
    const t = await throughTap(async (kubeconfig, tap, ca) => {
      const [kubectl] = await Promise.all([
        runKubectl(bin, args, { kubeconfig, stdin: input }),
        garbageAfterUpgrade(tap.address.port, ca, 2 * 1024 * 1024),
        garbageAfterUpgrade(tap.address.port, ca, 2 * 1024 * 1024),
      ]);
      return kubectl;
    });
    expect(t.value.code).toBe(5);
    expect(t.value.code).toBe(direct.code);
    expect(t.value.stdout.equals(direct.stdout)).toBe(true);
    expect(t.value.stderr.toString()).toBe(direct.stderr.toString());
    const execs = t.live.sessions.filter((s) => s.kind === 'exec' && s.exit !== null);
    expect(execs).toHaveLength(1);
    expect(execs[0]!.exit).toMatchObject({ code: 5 });
    expect(stream(execs[0]!, 'stdout')[0]!.serverToClient).toEqual({ bytes: input.length, sha256: sha(input) });
    // The garbage was noticed, not hidden.
    expect(t.live.diagnostics).toBeGreaterThan(0);
    expect(t.run.stats!.queue.consumerErrors).toBe(0);
    expect(t.recorded).toEqual(t.live);
    expectNoSecret(t);
  });
});

const forwarders = [
  { version: '1.27', label: 'kubectl 1.27 (SPDY portforward.k8s.io)', transport: 'spdy/3.1' },
  { version: '1.33', label: 'kubectl 1.33 (tunnelled SPDY/3.1+portforward.k8s.io)', transport: 'websocket+spdy/3.1' },
];

for (const c of forwarders) {
  const missing = kubectlMissing(c.version);
  if (missing) console.warn(`skipping ${c.label} through the tap: ${missing}`);
  (missing ? describe.skip : describe)(`${c.label} port-forward through the tap`, () => {
    async function forward(kubeconfig: string, data: Buffer): Promise<{ echoed: Buffer; kubectl: KubectlResult; local: number; remote: number }> {
      const target = await echoServer();
      const local = await freePort();
      let child: ChildProcess | null = null;
      const run = runKubectl(kubectlBinary(c.version)!, ['port-forward', 'pod/web', `${local}:${target.port}`], {
        kubeconfig,
        timeoutMs: 40_000,
        onSpawn: (ch) => (child = ch),
      });
      try {
        await waitForText(child!, 'Forwarding from');
        const echoed = await roundTrip(local, data);
        // Let kubectl log the connection before it is stopped.
        await new Promise((resolve) => setTimeout(resolve, 300));
        return { echoed, kubectl: await stopKubectl(child!, run), local, remote: target.port };
      } finally {
        child!.kill('SIGKILL');
        await target.close();
      }
    }

    async function stopKubectl(child: ChildProcess, run: Promise<KubectlResult>): Promise<KubectlResult> {
      child.kill('SIGINT');
      return run;
    }

    it('forwards byte-exact; kubectl output matches a direct run; the summary shows the data both ways and equals the recording', async () => {
      const data = randomBytes(120_000);
      const direct = await forward(directConfig, data);
      const t = await throughTap((kubeconfig) => forward(kubeconfig, data));
      expect(direct.echoed.equals(data)).toBe(true);
      expect(t.value.echoed.equals(data)).toBe(true);
      const normal = (r: { kubectl: KubectlResult; local: number; remote: number }) =>
        r.kubectl.stdout.toString().split(String(r.local)).join('LOCAL').split(String(r.remote)).join('REMOTE');
      expect(normal(t.value)).toBe(normal(direct));
      expect(t.value.kubectl.code).toBe(direct.kubectl.code);

      const s = onlySession(t.live, 'portforward');
      expect(s.transport).toBe(c.transport);
      const dataStreams = stream(s, 'data');
      expect(dataStreams).toHaveLength(1);
      expect(dataStreams[0]!.clientToServer).toEqual({ bytes: data.length, sha256: sha(data) });
      expect(dataStreams[0]!.serverToClient).toEqual({ bytes: data.length, sha256: sha(data) });

      expect(t.recorded).toEqual(t.live);
      expectNoSecret(t);
    });
  });
}
