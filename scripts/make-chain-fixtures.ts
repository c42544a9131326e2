/**
 * Fixtures of the whole exec path: real kubectl (1.27: SPDY end to end;
 * 1.33: WebSocket v5 or the port-forward tunnel to the API server, SPDY
 * beyond) through `serve --chain`, all three hops captured on loopback with
 * tcpdump in one file:
 *
 *   client-apiserver, apiserver-kubelet, kubelet-runtime
 *
 *   npm run build && node --import tsx scripts/make-chain-fixtures.ts [OUT_DIR]
 *
 * Needs root, tcpdump, editcap and kubectl.1.27 / kubectl.1.33 beside
 * kubectl; without them it prints why and exits 0 having written nothing.
 * Each capture has a `.truth.json`: what kubectl was given and printed, the
 * three ports, and each hop's own record of the bytes it read and wrote per
 * stream (`serve --record`), never what a decoder read from the capture.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { captureLo, chainCaptureUnavailable, recordingChain, type RecordingChain } from '../test/helpers/chain.js';
import { kubectlBinary, runKubectl, writeKubeconfig, type KubectlResult } from '../test/helpers/kubectl.js';
import { echoServer, freePort, roundTrip, runOnPty } from '../test/serve/helpers.js';
import { deterministicBytes, sha256 } from './fixtures/truth.js';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = resolve(process.argv[2] ?? join(ROOT, 'fixtures', 'chain'));
const STDIN_BYTES = 256 * 1024;

interface HopTruth {
  hop: 'client-apiserver' | 'apiserver-kubelet' | 'kubelet-runtime';
  transport: string;
  protocol: string;
  serverPort: number;
}

function unavailable(): string | null {
  const cap = chainCaptureUnavailable();
  if (cap) return cap;
  if (!existsSync('/usr/bin/editcap')) return 'editcap is not installed (Debian: wireshark-common)';
  for (const v of ['1.27', '1.33']) if (!kubectlBinary(v)) return `kubectl.${v} not found beside kubectl`;
  return null;
}

function hops(c: RecordingChain, client: { transport: string; protocol: string }, inner: string): HopTruth[] {
  return [
    { hop: 'client-apiserver', ...client, serverPort: c.ports.apiserver },
    { hop: 'apiserver-kubelet', transport: 'spdy/3.1', protocol: inner, serverPort: c.ports.kubelet },
    { hop: 'kubelet-runtime', transport: 'spdy/3.1', protocol: inner, serverPort: c.ports.runtime },
  ];
}

async function waitForRecords(c: RecordingChain, n: number): Promise<void> {
  for (let i = 0; i < 100 && c.records.length < n; i++) await new Promise((r) => setTimeout(r, 50));
}

function clientProcess(args: string[], r: { code: number | null; stdout: Buffer; stderr: Buffer }) {
  return {
    args,
    exitCode: r.code,
    stdoutBytes: r.stdout.length,
    stdoutSha256: sha256(r.stdout),
    stderr: r.stderr.toString('utf8'),
  };
}

async function fixture(
  name: string,
  description: string,
  version: string,
  body: (c: RecordingChain, kubeconfig: string) => Promise<Record<string, unknown>>,
  sessions: number,
): Promise<string> {
  const c = await recordingChain({ runtime: {} });
  const kubeconfig = writeKubeconfig(c.chain.apiserver.url);
  const file = join(OUT, `${name}.pcap`);
  const cap = await captureLo(file, [c.ports.apiserver, c.ports.kubelet, c.ports.runtime]);
  let extra: Record<string, unknown>;
  try {
    extra = await body(c, kubeconfig);
    await waitForRecords(c, sessions);
  } finally {
    await cap.stop();
    await c.chain.close();
  }
  const kubectlVersion = execFileSync(kubectlBinary(version)!, ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  const truth = {
    name: `chain/${name}.pcap`,
    description,
    client: `kubectl ${(JSON.parse(kubectlVersion) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion}`,
    format: 'pcap',
    capturedWith: 'tcpdump',
    apiserverVersion: '1.33',
    ports: c.ports,
    ...extra,
    records: c.records,
  };
  writeFileSync(join(OUT, `${name}.truth.json`), `${JSON.stringify(truth, null, 2)}\n`);
  process.stdout.write(`${name}.pcap: ${statSync(file).size} bytes, ${c.records.length} hop records\n`);
  return file;
}

async function execCatExit7(version: string): Promise<string> {
  const input = deterministicBytes(STDIN_BYTES, version === '1.27' ? 0x127 : 0x133);
  const args = ['exec', '-i', 'web', '--', 'sh', '-c', 'cat; exit 7'];
  const ws = version !== '1.27';
  return fixture(
    `k${version.replace('.', '')}-exec-cat-exit7`,
    `kubectl ${version} exec -i web -- sh -c 'cat; exit 7' with ${STDIN_BYTES} bytes of stdin, echoed, exit 7, through serve --chain`,
    version,
    async (c, kubeconfig) => {
      const r = await runKubectl(kubectlBinary(version)!, args, { kubeconfig, stdin: input, timeoutMs: 60_000 });
      if (r.code !== 7 || !r.stdout.equals(input)) throw new Error(`kubectl ${version}: exit ${r.code}, stdout ${r.stdout.length} bytes: ${r.stderr}`);
      return {
        stdin: { bytes: input.length, sha256: sha256(input) },
        exit: { code: 7 },
        clientProcess: clientProcess(args, r),
        hops: hops(c, ws ? { transport: 'websocket', protocol: 'v5.channel.k8s.io' } : { transport: 'spdy/3.1', protocol: 'v4.channel.k8s.io' }, 'v4.channel.k8s.io'),
      };
    },
    3,
  );
}

async function execTty(): Promise<string> {
  const args = ['exec', '-it', 'web', '--', 'sh', '-c', 'stty size; read line; stty size; echo "got $line"; exit 3'];
  return fixture(
    'k133-exec-tty',
    'kubectl 1.33 exec -it on a 80x24 terminal resized to 132x43, a line typed, exit 3, through serve --chain',
    '1.33',
    async (c, kubeconfig) => {
      const r = await runOnPty(
        [kubectlBinary('1.33')!, '--kubeconfig', kubeconfig, ...args],
        { cols: 80, rows: 24, resizeAfter: '24 80', resizeTo: [132, 43], input: 'hello\r', timeout: 30 },
        { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' },
      );
      if (r.code !== 3 || !r.output.includes('43 132')) throw new Error(`tty: exit ${r.code}: ${r.output}`);
      return {
        tty: true,
        resizes: [{ width: 80, height: 24 }, { width: 132, height: 43 }],
        exit: { code: 3 },
        clientProcess: { args, exitCode: r.code, terminalOutput: r.output },
        hops: hops(c, { transport: 'websocket', protocol: 'v5.channel.k8s.io' }, 'v4.channel.k8s.io'),
      };
    },
    3,
  );
}

async function portForward(): Promise<string> {
  const echo = await echoServer();
  const local = await freePort();
  const payloads = [deterministicBytes(64 * 1024, 1), deterministicBytes(48 * 1024, 2)];
  try {
    return await fixture(
      'k133-portforward',
      `kubectl 1.33 port-forward pod/web ${local}:${echo.port} (WebSocket tunnel to the API server), two parallel connections echoed (64 KiB, 48 KiB) after an empty readiness probe connection (request 0), through serve --chain`,
      '1.33',
      async (c, kubeconfig) => {
        let child: ReturnType<typeof spawn> | null = null;
        const done = runKubectl(kubectlBinary('1.33')!, ['port-forward', 'pod/web', `${local}:${echo.port}`], {
          kubeconfig,
          timeoutMs: 60_000,
          onSpawn: (ch) => (child = ch),
        });
        await waitForListen(local);
        const echoed = await Promise.all(payloads.map((p) => roundTrip(local, p)));
        for (let i = 0; i < payloads.length; i++) if (!echoed[i]!.equals(payloads[i]!)) throw new Error(`port-forward: connection ${i} not echoed`);
        await new Promise((r) => setTimeout(r, 300));
        (child as ReturnType<typeof spawn> | null)?.kill('SIGINT');
        const r: KubectlResult = await done;
        return {
          forwarded: { localPort: local, podPort: echo.port },
          connections: payloads.map((p) => ({ bytes: p.length, sha256: sha256(p), echoed: true })),
          clientProcess: { args: ['port-forward', 'pod/web', `${local}:${echo.port}`], exitCode: r.code, stderr: r.stderr.toString('utf8') },
          hops: hops(c, { transport: 'websocket+spdy/3.1', protocol: 'SPDY/3.1+portforward.k8s.io' }, 'portforward.k8s.io'),
        };
      },
      2,
    );
  } finally {
    await echo.close();
  }
}

async function twoConcurrentExecs(): Promise<string> {
  const inputs = [deterministicBytes(64 * 1024, 0xa), deterministicBytes(64 * 1024, 0xb)];
  const args = ['exec', '-i', 'web', '--', 'cat'];
  return fixture(
    'k127-exec-cat-concurrent',
    'two kubectl 1.27 exec -i web -- cat at the same time, same pod, same command, different 64 KiB inputs, through serve --chain',
    '1.27',
    async (c, kubeconfig) => {
      const rs = await Promise.all(inputs.map((input) => runKubectl(kubectlBinary('1.27')!, args, { kubeconfig, stdin: input, timeoutMs: 60_000 })));
      rs.forEach((r, i) => {
        if (r.code !== 0 || !r.stdout.equals(inputs[i]!)) throw new Error(`concurrent exec ${i}: exit ${r.code}`);
      });
      return {
        execs: inputs.map((input, i) => ({ stdin: { bytes: input.length, sha256: sha256(input) }, exit: { code: 0 }, clientProcess: clientProcess(args, rs[i]!) })),
        hops: hops(c, { transport: 'spdy/3.1', protocol: 'v4.channel.k8s.io' }, 'v4.channel.k8s.io'),
      };
    },
    6,
  );
}

function waitForListen(port: number): Promise<void> {
  return new Promise((resolveWait, reject) => {
    const started = Date.now();
    const tryOnce = () => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.destroy();
        resolveWait();
      });
      s.on('error', () => {
        if (Date.now() - started > 20_000) reject(new Error('port-forward did not listen'));
        else setTimeout(tryOnce, 100);
      });
    };
    tryOnce();
  });
}

/** The same capture as two files: hop 1 alone, hops 2 and 3 alone with the clock one second late. */
function split(file: string, ports: { apiserver: number; kubelet: number; runtime: number }): void {
  const base = file.replace(/\.pcap$/, '');
  execFileSync('tcpdump', ['-r', file, '-w', `${base}.hop1.pcap`, `tcp port ${ports.apiserver}`], { stdio: 'ignore' });
  const inner = `${base}.hops23.unshifted.pcap`;
  execFileSync('tcpdump', ['-r', file, '-w', inner, `tcp port ${ports.kubelet} or tcp port ${ports.runtime}`], { stdio: 'ignore' });
  execFileSync('editcap', ['-t', '1', inner, `${base}.hops23.shifted1s.pcap`], { stdio: 'ignore' });
  execFileSync('rm', ['-f', inner]);
}

async function main(): Promise<void> {
  const why = unavailable();
  if (why) {
    process.stdout.write(`chain fixtures not made: ${why}\n`);
    return;
  }
  mkdirSync(OUT, { recursive: true });
  const k127 = await execCatExit7('1.27');
  await execCatExit7('1.33');
  await execTty();
  await portForward();
  await twoConcurrentExecs();
  const truth = JSON.parse(execFileSync('cat', [k127.replace(/\.pcap$/, '.truth.json')], { encoding: 'utf8' })) as {
    ports: { apiserver: number; kubelet: number; runtime: number };
  };
  split(k127, truth.ports);
  process.stdout.write(`split ${k127} into .hop1.pcap and .hops23.shifted1s.pcap (editcap -t 1)\n`);
}

await main();
