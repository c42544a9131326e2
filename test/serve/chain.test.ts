/**
 * Real kubectl through `serve --chain` (apiserver → kubelet → runtime, three
 * loopback TCP hops): kubectl 1.27 speaks SPDY end to end, 1.33 WebSocket v5
 * (exec) or the SPDY tunnel (port-forward) to the apiserver and SPDY beyond.
 * Output and exit codes must equal plain `serve`. Where tcpdump can run, the
 * three hops are captured, decoded with the built CLI, and every hop's
 * session is held against the hops' own records of what they read and wrote.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type RecordedSession, type ServeHandle } from '../../src/serve/index.js';
import { cliMissing, runCli } from '../cli/helpers.js';
import { captureLo, chainCaptureUnavailable, recordingChain, type RecordingChain } from '../helpers/chain.js';
import { kubectlBinary, kubectlMissing, runKubectl, writeKubeconfig } from '../helpers/kubectl.js';
import { echoServer, freePort, roundTrip, runOnPty, waitForOutput } from './helpers.js';

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
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(r.stdout.toString('utf8')) as Summary;
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

async function waitForRecords(c: RecordingChain, n: number): Promise<void> {
  for (let i = 0; i < 200 && c.records.length < n; i++) await new Promise((r) => setTimeout(r, 50));
  expect(c.records.length).toBeGreaterThanOrEqual(n);
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
      c.records.length = 0;
      const input = randomBytes(3 * 1024 * 1024);
      const args = ['exec', '-i', 'web', '--', 'sh', '-c', 'cat; exit 7'];
      const { value: r, file } = await captured(c, () => runKubectl(bin(), args, { kubeconfig, stdin: input, timeoutMs: 120_000 }));
      expect(r.code).toBe(7);
      expect(r.stdout.length).toBe(input.length);
      expect(r.stdout.equals(input)).toBe(true);
      expect(r.stderr.toString()).toContain('command terminated with exit code 7');
      await waitForRecords(c, 3);
      // Every hop's own record: the same bytes, the same exit.
      for (const hop of ['apiserver', 'kubelet', 'runtime'] as const) {
        const rec = recordOf(c.records, hop);
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
        const rec = recordOf(c.records, hop);
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
    });

    it('a missing command fails with an error, as against plain serve', async () => {
      const args = ['exec', 'web', '--', '/no/such/command'];
      const [viaChain, viaPlain] = await Promise.all([
        runKubectl(bin(), args, { kubeconfig }),
        runKubectl(bin(), args, { kubeconfig: plainConfig }),
      ]);
      expect(viaChain.code).toBe(1);
      expect(viaChain.code).toBe(viaPlain.code);
      expect(viaChain.stderr.toString()).toContain('error executing command in container');
      expect(viaChain.stderr.toString()).toContain('ENOENT');
    });

    it('attach: the started shell reads stdin and its exit code reaches kubectl', async () => {
      const script = 'echo attached; exit 4\n';
      const [viaChain, viaPlain] = await Promise.all([
        runKubectl(bin(), ['attach', '-i', 'web'], { kubeconfig, stdin: script }),
        runKubectl(bin(), ['attach', '-i', 'web'], { kubeconfig: plainConfig, stdin: script }),
      ]);
      expect(viaChain.code).toBe(4);
      expect(viaChain.code).toBe(viaPlain.code);
      expect(viaChain.stdout.toString()).toBe('attached\n');
      expect(viaChain.stdout.equals(viaPlain.stdout)).toBe(true);
    });

    it('TTY: the client size reaches the command, then a resize, over every hop', async () => {
      c.records.length = 0;
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
      await waitForRecords(c, 3);
      const resize = recordOf(c.records, 'runtime').streams.find((s) => s.role === 'resize')!;
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
      c.records.length = 0;
      const target = await echoServer();
      const local = await freePort();
      const closed = await freePort();
      const localClosed = await freePort();
      let child: ChildProcess | null = null;
      const a = randomBytes(200_000);
      const b = randomBytes(70_000);
      const { value: refusedStderr, file } = await captured(c, async () => {
        const run = runKubectl(bin(), ['port-forward', 'pod/web', `${local}:${target.port}`, `${localClosed}:${closed}`], {
          kubeconfig,
          timeoutMs: 60_000,
          onSpawn: (ch) => (child = ch),
        });
        try {
          await waitForOutput(child!, `Forwarding from 127.0.0.1:${localClosed}`);
          const [ra, rb] = await Promise.all([roundTrip(local, a), roundTrip(local, b)]);
          expect(ra.equals(a)).toBe(true);
          expect(rb.equals(b)).toBe(true);
          expect(target.connections()).toBe(2);
          // Nothing listens on `closed` in the pod: the runtime's error travels back on the error stream.
          const got = await roundTrip(localClosed, Buffer.from('hello'));
          expect(got.length).toBe(0);
          await new Promise((r) => setTimeout(r, 500));
        } finally {
          child!.kill('SIGTERM');
        }
        return (await run).stderr.toString();
      });
      await target.close();
      expect(refusedStderr).toContain(`error forwarding port ${closed} to pod web`);
      await waitForRecords(c, 3);
      const runtime = recordOf(c.records, 'runtime');
      const dataOf = (rec: RecordedSession) =>
        rec.streams
          .filter((s) => s.role === 'data' && s.port === target.port && s.clientToServer.bytes > 0)
          .map((s) => s.clientToServer.sha256)
          .sort();
      expect(dataOf(runtime)).toEqual([sha(a), sha(b)].sort());
      // The refusal is the runtime's; what kubectl sent to the closed port crossed two hops and was never read there.
      const refusedAt = (rec: RecordedSession, role: string) => rec.streams.filter((s) => s.role === role && s.port === closed);
      expect(refusedAt(runtime, 'error')[0]?.serverToClient.bytes).toBeGreaterThan(0);
      expect(refusedAt(runtime, 'data').reduce((n, s) => n + s.clientToServer.bytes, 0)).toBe(0);
      expect(refusedAt(recordOf(c.records, 'kubelet'), 'data')[0]?.clientToServer.bytes).toBe(5);
      expect(dataOf(recordOf(c.records, 'kubelet'))).toEqual(dataOf(runtime));
      expect(dataOf(recordOf(c.records, 'apiserver'))).toEqual(dataOf(runtime));
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
        const refused = s.streams.find((x) => x.role === 'error' && x.port === closed);
        expect(refused?.serverToClient.bytes).toBeGreaterThan(0);
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
    const input = randomBytes(100_000);
    const { value: r, file } = await captured(c, () =>
      runKubectl(kubectlBinary('1.33')!, ['exec', '-i', 'web', '--', 'sh', '-c', 'cat; exit 5'], { kubeconfig, stdin: input }),
    );
    expect(r.code).toBe(5);
    expect(r.stdout.equals(input)).toBe(true);
    await waitForRecords(c, 3);
    // No translation: the apiserver's session toward the kubelet is the client's own SPDY, passed through.
    expect(recordOf(c.records, 'apiserver').side).toBe('upstream');
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
