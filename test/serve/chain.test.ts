/**
 * Real kubectl through `serve --chain` (apiserver → kubelet → runtime, three
 * loopback TCP hops): kubectl 1.27 speaks SPDY end to end, 1.33 WebSocket v5
 * (exec) or the SPDY tunnel (port-forward) to the apiserver and SPDY beyond.
 * Output and exit codes must equal plain `serve`. Where tcpdump can run, the
 * three hops are captured, decoded with the built CLI, and every hop's
 * session is held against the hops' own records of what they read and wrote.
 */
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type RecordedSession, type ServeHandle } from '../../src/serve/index.js';
import { cliMissing, runCli } from '../cli/helpers.js';
import { captureLo, chainCaptureUnavailable, recordingChain, type RecordingChain } from '../helpers/chain.js';
import { kubectlBinary, kubectlMissing, runKubectl, writeKubeconfig } from '../helpers/kubectl.js';
import { echoServer, exchange, freePort, roundTrip, runOnPty, waitForOutput } from './helpers.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const noCapture = chainCaptureUnavailable() ?? cliMissing();
if (noCapture) console.warn(`chain tests run without captures: ${noCapture}`);

interface SummaryStream {
  role: string;
  port?: number | null;
  requestId?: string | null;
  clientToServer: { bytes: number; sha256: string };
  serverToClient: { bytes: number; sha256: string };
}
interface SummarySession {
  kind: string;
  transport: string;
  protocol: string;
  hop: string;
  nodeProxy: string | null;
  namespace: string | null;
  pod: string | null;
  server: string;
  exit: { status: string; code: number; message: string } | null;
  streams: SummaryStream[];
}
interface Summary {
  sessions: SummarySession[];
  requests: Array<{ server: string; path: string; status: number | null; upgrade: string | null }>;
}

async function decodeSummary(file: string): Promise<Summary> {
  const r = await runCli(['decode', file, '--summary', '--json'], { timeoutMs: 120_000 });
  // 1 would mean diagnostics: gaps in the capture or a protocol fault on some hop.
  const why = r.code === 0 ? '' : await diagnosticsOf(file);
  expect({ code: r.code, stderr: r.stderr }, `decoding ${file} (kept): ${why}`).toEqual({ code: 0, stderr: '' });
  return JSON.parse(r.stdout.toString('utf8')) as Summary;
}

/** The decoder's diagnostics for a capture, one line each, to say why a decode failed. */
async function diagnosticsOf(file: string): Promise<string> {
  const r = await runCli(['decode', file, '--json'], { timeoutMs: 120_000 });
  try {
    const events = (JSON.parse(r.stdout.toString('utf8')) as { events: Array<{ kind: string; connection?: number; error?: { code: string; message: string } }> }).events;
    return events
      .filter((e) => e.kind === 'diagnostic')
      .map((e) => `connection ${e.connection}: ${e.error?.code} ${e.error?.message}`)
      .join('; ');
  } catch {
    return `exit ${r.code}: ${r.stderr.toString().slice(0, 2000)}`;
  }
}

const HOPS = ['client-apiserver', 'apiserver-kubelet', 'kubelet-runtime'] as const;

/** The three hops' sessions in path order (by the port each was served on). */
function byHop(s: Summary, c: RecordingChain): SummarySession[] {
  const ports = [c.ports.apiserver, c.ports.kubelet, c.ports.runtime];
  return ports.map((p) => {
    const found = s.sessions.filter((x) => x.server.endsWith(`:${p}`));
    expect(found, `one session served on :${p}`).toHaveLength(1);
    return found[0]!;
  });
}

function stream(s: SummarySession, role: string): SummaryStream {
  const found = s.streams.find((x) => x.role === role);
  expect(found, `${s.hop} has a ${role} stream`).toBeDefined();
  return found!;
}

function recordOf(records: RecordedSession[], hop: RecordedSession['hop']): RecordedSession {
  const r = records.filter((x) => x.hop === hop);
  expect(r, `one ${hop} record`).toHaveLength(1);
  return r[0]!;
}

const ALL_HOPS: Array<RecordedSession['hop']> = ['apiserver', 'kubelet', 'runtime'];

/**
 * The records of the sessions this test opened (started at or after `since`),
 * once each of `hops` has kept one: a hop records a session when it is over,
 * a proxying hop when both of its connections have closed. Records of earlier
 * tests' sessions are not this test's, and none may still be arriving: each
 * test waits for its own, so a late one means a hop held a session open.
 */
async function recordsSince(c: RecordingChain, since: number, hops = ALL_HOPS): Promise<RecordedSession[]> {
  const mine = () => c.records.filter((r) => Date.parse(r.startedAt) >= since);
  const complete = () => hops.every((h) => mine().some((r) => r.hop === h));
  for (let i = 0; i < 200 && !complete(); i++) await new Promise((r) => setTimeout(r, 50));
  const late = c.records.filter((r) => Date.parse(r.startedAt) < since && Date.parse(r.endedAt) >= since);
  const list = (rs: RecordedSession[]) => rs.map((r) => `${r.hop} ${r.kind} ${r.startedAt}–${r.endedAt}`).join(', ') || 'none';
  expect(mine().map((r) => r.hop).sort(), `each hop's record of this test's session after 10 s; have: ${list(mine())}`).toEqual([...hops].sort());
  expect(late, `records of earlier tests' sessions that ended during this one: ${list(late)}`).toEqual([]);
  return mine();
}

/** Run `fn` with the three hops captured when possible; the pcap path, or null. */
async function captured<T>(c: RecordingChain, fn: () => Promise<T>): Promise<{ value: T; file: string | null }> {
  if (noCapture) return { value: await fn(), file: null };
  const file = join(mkdtempSync(join(tmpdir(), 'kubewire-chain-')), 'hops.pcap');
  const cap = await captureLo(file, [c.ports.apiserver, c.ports.kubelet, c.ports.runtime]);
  try {
    const value = await fn();
    return { value, file };
  } finally {
    await cap.stop();
  }
}

let plain: ServeHandle;
let plainConfig: string;
beforeAll(async () => {
  plain = await startServe({});
  plainConfig = join(mkdtempSync(join(tmpdir(), 'kubewire-plain-')), 'config');
  writeFileSync(plainConfig, plain.kubeconfig);
});
afterAll(async () => {
  await plain?.close();
});

const clients = [
  { version: '1.27', client: { transport: 'spdy/3.1', protocol: 'v4.channel.k8s.io' }, tunnel: { transport: 'spdy/3.1', protocol: 'portforward.k8s.io' } },
  {
    version: '1.33',
    client: { transport: 'websocket', protocol: 'v5.channel.k8s.io' },
    tunnel: { transport: 'websocket+spdy/3.1', protocol: 'SPDY/3.1+portforward.k8s.io' },
  },
];

for (const k of clients) {
  const missing = kubectlMissing(k.version);
  if (missing) console.warn(`skipping kubectl ${k.version} through serve --chain: ${missing}`);
  const maybe = missing ? describe.skip : describe;

  maybe(`kubectl ${k.version} through serve --chain`, () => {
    let c: RecordingChain;
    let kubeconfig: string;
    const bin = () => kubectlBinary(k.version)!;
    beforeAll(async () => {
      c = await recordingChain({});
      kubeconfig = writeKubeconfig(c.chain.apiserver.url);
    });
    afterAll(async () => {
      await c?.chain.close();
    });

    it('3 MiB of stdin echoed byte-exact and exit 7; each hop decoded from the capture matches the hops\' records', async () => {
      const since = Date.now();
      const input = randomBytes(3 * 1024 * 1024);
      const args = ['exec', '-i', 'web', '--', 'sh', '-c', 'cat; exit 7'];
      const { value: r, file } = await captured(c, () => runKubectl(bin(), args, { kubeconfig, stdin: input, timeoutMs: 120_000 }));
      expect(r.code).toBe(7);
      expect(r.stdout.length).toBe(input.length);
      expect(r.stdout.equals(input)).toBe(true);
      expect(r.stderr.toString()).toContain('command terminated with exit code 7');
      const records = await recordsSince(c, since);
      // Every hop's own record: the same bytes, the same exit.
      for (const hop of ALL_HOPS) {
        const rec = recordOf(records, hop);
        const stdin = rec.streams.find((s) => s.role === 'stdin')!;
        const stdout = rec.streams.find((s) => s.role === 'stdout')!;
        expect(stdin.clientToServer).toEqual({ bytes: input.length, sha256: sha(input) });
        expect(stdout.serverToClient).toEqual({ bytes: input.length, sha256: sha(input) });
        expect(rec.exit).toEqual({ code: 7 });
      }
      if (!file) return;
      const sessions = byHop(await decodeSummary(file), c);
      const inner = { transport: 'spdy/3.1', protocol: 'v4.channel.k8s.io' };
      [k.client, inner, inner].forEach((want, i) => {
        const s = sessions[i]!;
        expect(s.hop).toBe(HOPS[i]);
        expect({ transport: s.transport, protocol: s.protocol }).toEqual(want);
        expect(s.exit?.code).toBe(7);
        expect(stream(s, 'stdin').clientToServer).toEqual({ bytes: input.length, sha256: sha(input) });
        expect(stream(s, 'stdout').serverToClient).toEqual({ bytes: input.length, sha256: sha(input) });
      });
      // The hops beyond the apiserver against the records the apiserver and kubelet kept of them.
      for (const [i, hop] of [[1, 'apiserver'], [2, 'kubelet']] as const) {
        const rec = recordOf(records, hop);
        for (const st of rec.streams) expect(stream(sessions[i]!, st.role).serverToClient).toEqual(st.serverToClient);
      }
      // The runtime says "exit status 7"; a translating apiserver re-wraps it for kubectl.
      expect(sessions[2]!.exit!.message).toBe('command terminated with non-zero exit code: exit status 7');
      expect(sessions[0]!.exit!.message).toBe(
        k.version === '1.27'
          ? 'command terminated with non-zero exit code: exit status 7'
          : 'command terminated with non-zero exit code: command terminated with exit code 7',
      );
    }, 180_000);

    it('stdout, stderr and exit code equal plain serve', async () => {
      const since = Date.now();
      const args = ['exec', 'web', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7'];
      const [viaChain, viaPlain] = await Promise.all([
        runKubectl(bin(), args, { kubeconfig }),
        runKubectl(bin(), args, { kubeconfig: plainConfig }),
      ]);
      expect(viaChain.code).toBe(7);
      expect(viaChain.code).toBe(viaPlain.code);
      expect(viaChain.stdout.toString()).toBe('out\n');
      expect(viaChain.stdout.equals(viaPlain.stdout)).toBe(true);
      expect(viaChain.stderr.toString()).toBe(viaPlain.stderr.toString());
      for (const rec of await recordsSince(c, since)) expect(rec.exit, `${rec.hop}'s record`).toEqual({ code: 7 });
    });

    it('a missing command fails with an error, as against plain serve', async () => {
      const since = Date.now();
      const args = ['exec', 'web', '--', '/no/such/command'];
      const [viaChain, viaPlain] = await Promise.all([
        runKubectl(bin(), args, { kubeconfig }),
        runKubectl(bin(), args, { kubeconfig: plainConfig }),
      ]);
      expect(viaChain.code).toBe(1);
      expect(viaChain.code).toBe(viaPlain.code);
      expect(viaChain.stderr.toString()).toContain('error executing command in container');
      expect(viaChain.stderr.toString()).toContain('ENOENT');
      await recordsSince(c, since);
    });

    it('attach: the started shell reads stdin and its exit code reaches kubectl', async () => {
      const since = Date.now();
      const script = 'echo attached; exit 4\n';
      const [viaChain, viaPlain] = await Promise.all([
        runKubectl(bin(), ['attach', '-i', 'web'], { kubeconfig, stdin: script }),
        runKubectl(bin(), ['attach', '-i', 'web'], { kubeconfig: plainConfig, stdin: script }),
      ]);
      expect(viaChain.code).toBe(4);
      expect(viaChain.code).toBe(viaPlain.code);
      expect(viaChain.stdout.toString()).toBe('attached\n');
      expect(viaChain.stdout.equals(viaPlain.stdout)).toBe(true);
      for (const rec of await recordsSince(c, since)) expect(rec.exit, `${rec.hop}'s record`).toEqual({ code: 4 });
    });

    it('TTY: the client size reaches the command, then a resize, over every hop', async () => {
      const since = Date.now();
      // The first size travels beside the exec's start (three hops here); on a
      // busy machine the command may start before it lands, so wait for it.
      const PROBE =
        'i=0; while [ "$(stty size)" = "0 0" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; stty size; echo READY; read x; i=0; while [ "$(stty size)" = "30 100" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; stty size; tty >/dev/null && echo IS-TTY; exit 3';
      const { value: r, file } = await captured(c, () =>
        runOnPty(
          [bin(), '--kubeconfig', kubeconfig, '--cache-dir', mkdtempSync(join(tmpdir(), 'kubewire-kcache-')), 'exec', '-it', 'web', '--', 'sh', '-c', PROBE],
          { cols: 100, rows: 30, resizeAfter: 'READY', resizeTo: [120, 40], input: 'go\r', timeout: 30 },
          { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() },
        ),
      );
      expect(r.code).toBe(3);
      expect(r.output).toContain('30 100');
      expect(r.output).toContain('40 120');
      expect(r.output).toContain('IS-TTY');
      const records = await recordsSince(c, since);
      const resize = recordOf(records, 'runtime').streams.find((s) => s.role === 'resize')!;
      expect(resize.clientToServer.bytes).toBeGreaterThan(0);
      if (!file) return;
      const sessions = byHop(await decodeSummary(file), c);
      for (const s of sessions) {
        expect(s.exit?.code).toBe(3);
        // The resize stream's bytes are the same JSON at every SPDY hop (the translator re-encodes V5's).
        expect(stream(s, 'stdout').serverToClient.sha256).toBe(stream(sessions[2]!, 'stdout').serverToClient.sha256);
      }
      expect(stream(sessions[1]!, 'resize').clientToServer).toEqual(resize.clientToServer);
      expect(stream(sessions[2]!, 'resize').clientToServer).toEqual(resize.clientToServer);
    }, 60_000);

    it('port-forward: parallel connections echoed byte-exact at every hop; a closed port reports the error', async () => {
      const since = Date.now();
      const target = await echoServer();
      const local = await freePort();
      const closed = await freePort();
      const localClosed = await freePort();
      let child: ChildProcess | null = null;
      const a = randomBytes(200_000);
      const b = randomBytes(70_000);
      const hello = Buffer.from('hello');
      const { value: refused, file } = await captured(c, async () => {
        const run = runKubectl(bin(), ['port-forward', 'pod/web', `${local}:${target.port}`, `${localClosed}:${closed}`], {
          kubeconfig,
          timeoutMs: 60_000,
          onSpawn: (ch) => (child = ch),
        });
        let reset = false;
        try {
          await waitForOutput(child!, `Forwarding from 127.0.0.1:${localClosed}`);
          const [ra, rb] = await Promise.all([roundTrip(local, a), roundTrip(local, b)]);
          expect(ra.equals(a)).toBe(true);
          expect(rb.equals(b)).toBe(true);
          expect(target.connections()).toBe(2);
          // Nothing listens on `closed` in the pod: the runtime's error travels back on the error stream.
          const got = await exchange(localClosed, hello);
          expect(got.data.length).toBe(0);
          reset = got.reset !== null;
          await new Promise((r) => setTimeout(r, 500));
        } finally {
          child!.kill('SIGTERM');
        }
        return { reset, stderr: (await run).stderr.toString() };
      });
      await target.close();
      expect(refused.stderr).toContain(`error forwarding port ${closed} to pod web`);
      const records = await recordsSince(c, since);
      const runtime = recordOf(records, 'runtime');
      const dataOf = (rec: RecordedSession) =>
        rec.streams
          .filter((s) => s.role === 'data' && s.port === target.port && s.clientToServer.bytes > 0)
          .map((s) => s.clientToServer.sha256)
          .sort();
      expect(dataOf(runtime)).toEqual([sha(a), sha(b)].sort());
      // The refusal is the runtime's, and the runtime never reads what kubectl sends to the closed port.
      type Streams = { streams: Array<{ role: string; port?: number | null; clientToServer: { bytes: number }; serverToClient: { bytes: number } }> };
      const refusedAt = (rec: Streams, role: string) => rec.streams.filter((s) => s.role === role && s.port === closed);
      const sentTo = (rec: Streams) => refusedAt(rec, 'data').reduce((n, s) => n + s.clientToServer.bytes, 0);
      expect(refusedAt(runtime, 'error')[0]?.serverToClient.bytes).toBeGreaterThan(0);
      expect(sentTo(runtime)).toBe(0);
      // Whether kubectl forwards the 'hello' before the refusal reaches it is up
      // to its goroutines (the reply to the data stream and the refusal may come
      // in one read): either all of it crossed the apiserver and the kubelet, or
      // none. When kubectl hung up without reading it, the local connection was
      // reset, and then nothing can have been sent.
      const sent = sentTo(recordOf(records, 'kubelet'));
      expect([0, hello.length]).toContain(sent);
      if (refused.reset) expect(sent, 'kubectl reset the local connection: it never read the hello').toBe(0);
      expect(sentTo(recordOf(records, 'apiserver'))).toBe(sent);
      expect(dataOf(recordOf(records, 'kubelet'))).toEqual(dataOf(runtime));
      expect(dataOf(recordOf(records, 'apiserver'))).toEqual(dataOf(runtime));
      if (!file) return;
      const sessions = byHop(await decodeSummary(file), c);
      const inner = { transport: 'spdy/3.1', protocol: 'portforward.k8s.io' };
      [k.tunnel, inner, inner].forEach((want, i) => {
        const s = sessions[i]!;
        expect(s.hop).toBe(HOPS[i]);
        expect(s.kind).toBe('portforward');
        expect({ transport: s.transport, protocol: s.protocol }).toEqual(want);
        const data = s.streams.filter((x) => x.role === 'data' && x.port === target.port && x.clientToServer.bytes > 0);
        expect(data.map((x) => x.clientToServer.sha256).sort()).toEqual([sha(a), sha(b)].sort());
        for (const d of data) expect(d.serverToClient).toEqual(d.clientToServer);
        expect(refusedAt(s, 'error')[0]?.serverToClient.bytes).toBeGreaterThan(0);
        expect(sentTo(s), `${s.hop}: bytes sent to the closed port`).toBe(sent);
      });
    }, 90_000);
  });
}

const k133 = kubectlMissing('1.33');
(k133 ? describe.skip : describe)('kubectl 1.33 through serve --chain --apiserver-version 1.29', () => {
  let c: RecordingChain;
  let kubeconfig: string;
  beforeAll(async () => {
    c = await recordingChain({ apiserverVersion: '1.29' });
    kubeconfig = writeKubeconfig(c.chain.apiserver.url);
  });
  afterAll(async () => {
    await c?.chain.close();
  });

  it('the kubelet refuses WebSocket v5 with 403, the apiserver relays it, kubectl falls back to SPDY', async () => {
    const since = Date.now();
    const input = randomBytes(100_000);
    const { value: r, file } = await captured(c, () =>
      runKubectl(kubectlBinary('1.33')!, ['exec', '-i', 'web', '--', 'sh', '-c', 'cat; exit 5'], { kubeconfig, stdin: input }),
    );
    expect(r.code).toBe(5);
    expect(r.stdout.equals(input)).toBe(true);
    const records = await recordsSince(c, since);
    // No translation: the apiserver's session toward the kubelet is the client's own SPDY, passed through.
    expect(recordOf(records, 'apiserver').side).toBe('upstream');
    if (!file) return;
    const s = await decodeSummary(file);
    const refusals = s.requests.filter((q) => q.upgrade === 'websocket');
    expect(refusals.map((q) => [q.server.endsWith(`:${c.ports.apiserver}`) ? 'apiserver' : 'kubelet', q.status]).sort()).toEqual([
      ['apiserver', 403],
      ['kubelet', 403],
    ]);
    const sessions = byHop(s, c);
    for (const x of sessions) expect({ transport: x.transport, protocol: x.protocol }).toEqual({ transport: 'spdy/3.1', protocol: 'v4.channel.k8s.io' });
    expect(sessions.map((x) => x.hop)).toEqual([...HOPS]);
  }, 60_000);
});

const PYTHON = '/usr/bin/python3';
function pythonKubernetesMissing(): string | null {
  try {
    execFileSync(PYTHON, ['-c', 'import kubernetes.stream'], { stdio: 'ignore', timeout: 20_000 });
    return null;
  } catch {
    return 'python3-kubernetes is not installed for /usr/bin/python3';
  }
}
const pyMissing = pythonKubernetesMissing();
if (pyMissing) console.warn(`skipping python3-kubernetes through serve --chain: ${pyMissing}`);

(pyMissing ? describe.skip : describe)('python3-kubernetes (WebSocket v4) through serve --chain', () => {
  it('v4 is not translated: it passes the apiserver and the kubelet to the runtime as WebSocket', async () => {
    const since = Date.now();
    const c = await recordingChain({});
    try {
      const kubeconfig = writeKubeconfig(c.chain.apiserver.url);
      const script = [
        'import sys',
        'from kubernetes import client, config',
        'from kubernetes.stream import stream',
        'config.load_kube_config(sys.argv[1])',
        "r = stream(client.CoreV1Api().connect_get_namespaced_pod_exec, 'web', 'default', command=['sh', '-c', 'echo hello-v4; exit 3'], stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)",
        'r.run_forever(timeout=20)',
        "print(repr(r.read_stdout()), r.returncode)",
      ].join('\n');
      // Asynchronously: the hops run in this process.
      const { value: out, file } = await captured(c, async () =>
        (await promisify(execFile)(PYTHON, ['-c', script, kubeconfig], { encoding: 'utf8', timeout: 40_000 })).stdout,
      );
      expect(out.trim()).toBe("'hello-v4\\n' 3");
      if (!file) return;
      const sessions = byHop(await decodeSummary(file), c);
      expect(sessions.map((s) => [s.hop, s.transport, s.protocol])).toEqual([
        ['client-apiserver', 'websocket', 'v4.channel.k8s.io'],
        ['apiserver-kubelet', 'websocket', 'v4.channel.k8s.io'],
        ['kubelet-runtime', 'websocket', 'v4.channel.k8s.io'],
      ]);
      for (const s of sessions) {
        expect(s.exit?.code).toBe(3);
        expect(stream(s, 'stdout').serverToClient.bytes).toBe('hello-v4\n'.length);
      }
      // The runtime's own record of the WebSocket session (the proxying hops record SPDY sessions only).
      const rec = recordOf(await recordsSince(c, since, ['runtime']), 'runtime');
      expect({ transport: rec.transport, protocol: rec.protocol, exit: rec.exit }).toEqual({ transport: 'websocket', protocol: 'v4.channel.k8s.io', exit: { code: 3 } });
      expect(rec.streams.find((x) => x.role === 'stdout')!.serverToClient.bytes).toBe('hello-v4\n'.length);
    } finally {
      await c.chain.close();
    }
  }, 60_000);
});

describe("a WebSocket exec through the API server's node proxy (ws as the client)", () => {
  it('the query stays behind at the API server, as it does at a real one, and the kubelet refuses; decode names the node and shows both refusals', async () => {
    const { default: WebSocket } = await import('ws');
    const c = await recordingChain({});
    try {
      const url = `ws://127.0.0.1:${c.ports.apiserver}/api/v1/nodes/node-1/proxy/exec/default/web/main?command=id&output=1&error=1`;
      const { value: refusal, file } = await captured(c, () =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const ws = new WebSocket(url, ['v4.channel.k8s.io']);
          ws.on('unexpected-response', (_req, res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          });
          ws.on('open', () => reject(new Error('the upgrade went through')));
          ws.on('error', () => {});
        }),
      );
      expect(refusal).toEqual({ status: 400, body: 'you must specify at least 1 of stdin, stdout, stderr' });
      if (!file) return;
      const r = await runCli(['decode', file, '--summary', '--json'], { timeoutMs: 120_000 });
      expect(r.code).toBe(0);
      const s = JSON.parse(r.stdout.toString('utf8')) as Summary;
      expect(s.sessions).toEqual([]);
      // the client's request names the node; the API server's to the kubelet has the kubelet path, without the query
      expect(s.requests.filter((q) => q.upgrade !== null).map((q) => [q.path, q.status])).toEqual([
        ['/api/v1/nodes/node-1/proxy/exec/default/web/main', 400],
        ['/exec/default/web/main', 400],
      ]);
      const text = await runCli(['decode', file], { timeoutMs: 120_000, env: { NO_COLOR: '1' } });
      expect(text.stdout.toString('utf8')).toContain('you must specify at least 1 of stdin, stdout, stderr');
    } finally {
      await c.chain.close();
    }
  }, 60_000);
});
