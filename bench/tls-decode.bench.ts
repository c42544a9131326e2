/**
 * End-to-end decrypt and decode of a ~100 MB TLS capture of real kubectl exec
 * traffic: `kubewire decode FILE --tls-keylog KEYS --summary --json` against
 * `tshark -r FILE -o tls.keylog_file:KEYS -T fields -e spdy.streamid`, both as
 * whole processes, with peak memory, and how many of the session's stream
 * bytes each gets right.
 *
 * kubectl writes no key log, so the capture is made here with a TLS front
 * (node:tls, logging its secrets) between kubectl 1.27 and `kubewire serve`:
 * kubectl exec -i -- cat with 48 MiB of deterministic stdin, echoed back,
 * tcpdump on the kubectl ↔ front hop. Skipped (with the reason printed) where
 * kubectl, tcpdump, tshark or root are missing.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { captureUnavailable, findTool, withCapture } from '../scripts/fixtures/capture.js';
import { deterministicBytes } from '../scripts/fixtures/truth.js';
import { startServe } from '../src/serve/index.js';
import { kubeconfigYaml } from '../src/serve/kubeconfig.js';
import { generateSelfSigned } from '../src/serve/tls.js';
import { kubectlBinary, runKubectl } from '../test/helpers/kubectl.js';
import { result, type Bench, type BenchResult } from './harness.js';
import { bestOfAlternating, rightPrefix, tsharkStreams } from './decode.bench.js';

// The bundled executable, as `bin` installs it (and as the decode bench runs it).
const CLI = resolve(import.meta.dirname, '..', 'dist', 'bin', 'kubewire.js');
const STDIN_BYTES = 48 * 1024 * 1024;
const RUNS = 5;

/** A TLS front for a plain HTTP server that logs its TLS secrets (NSS key log) to `keylog`. */
async function tlsFront(target: number, keylog: string): Promise<tls.Server> {
  const material = generateSelfSigned('127.0.0.1');
  // HTTP/1.1 only: the front passes bytes through to an HTTP/1.1 server
  const server = tls.createServer({ cert: material.cert, key: material.key, ALPNProtocols: ['http/1.1'] }, (client) => {
    const up = net.connect(target, '127.0.0.1');
    client.pipe(up);
    up.pipe(client);
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  server.on('keylog', (line: Buffer) => appendFileSync(keylog, line));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  (server as tls.Server & { caPem?: Buffer }).caPem = material.cert;
  return server;
}

const bench: Bench = {
  group: 'tls-decode',
  async run(): Promise<BenchResult[]> {
    const kubectl = kubectlBinary('1.27');
    const tshark = findTool('tshark');
    const why =
      captureUnavailable('pcap') ??
      (kubectl ? null : 'kubectl.1.27 not found') ??
      (tshark ? null : 'tshark not installed') ??
      (statSync(CLI, { throwIfNoEntry: false }) ? null : 'dist/bin/kubewire.js not built (npm run build)');
    if (why) {
      console.warn(`tls-decode bench skipped: ${why}`);
      return [];
    }
    const work = mkdtempSync(join(tmpdir(), 'kubewire-tls-bench-'));
    try {
      const file = join(work, 'exec-cat-tls.pcap');
      const keys = join(work, 'keys.txt');
      writeFileSync(keys, '');
      const data = deterministicBytes(STDIN_BYTES, 0x5eed);
      const serve = await startServe();
      const front = await tlsFront(serve.port, keys);
      const port = (front.address() as net.AddressInfo).port;
      const kubeconfig = join(work, 'config');
      writeFileSync(kubeconfig, kubeconfigYaml({ server: `https://127.0.0.1:${port}`, token: 'kubewire-unchecked', caPem: (front as tls.Server & { caPem: Buffer }).caPem }));
      try {
        const res = await withCapture({ port, file, format: 'pcap', bufferKiB: 128 * 1024 }, () =>
          runKubectl(kubectl!, ['exec', '-i', 'p', '--', 'cat'], { kubeconfig, stdin: data, timeoutMs: 300_000 }),
        );
        if (!res.stdout.equals(data)) throw new Error(`kubectl did not get its stdin back (${res.stdout.length} bytes)`);
      } finally {
        front.close();
        await serve.close();
      }
      const size = statSync(file).size;
      const mb = size / 1e6;
      const wantSha = createHash('sha256').update(data).digest('hex');
      const sessionBytes = 2 * data.length;
      const tsharkArgs = ['-r', file, '-o', `tls.keylog_file:${keys}`, '-T', 'fields', '-e', 'spdy.streamid'];

      const [ours, peer] = await bestOfAlternating(
        { cmd: process.execPath, args: [CLI, 'decode', file, '--tls-keylog', keys, '--summary', '--json'], keepStdout: true },
        { cmd: tshark!, args: tsharkArgs, keepStdout: false },
        RUNS,
      );
      const doc = JSON.parse(ours.stdout) as {
        sessions: Array<{ streams: Array<{ role: string; clientToServer: { bytes: number; sha256: string }; serverToClient: { bytes: number; sha256: string } }> }>;
        diagnostics: number;
        tlsConnections: Array<{ decrypted: boolean }>;
      };
      const streams = doc.sessions[0]?.streams ?? [];
      const stdin = streams.find((s) => s.role === 'stdin')?.clientToServer;
      const stdout = streams.find((s) => s.role === 'stdout')?.serverToClient;
      const oursRight = (stdin?.sha256 === wantSha ? stdin.bytes : 0) + (stdout?.sha256 === wantSha ? stdout.bytes : 0);

      const ts = await tsharkStreams(tshark!, file, ['-o', `tls.keylog_file:${keys}`]);
      const tsStdin = ts.get(3) ?? Buffer.alloc(0);
      const tsStdout = ts.get(5) ?? Buffer.alloc(0);
      const peerRight = rightPrefix(tsStdin, data) + rightPrefix(tsStdout, data);
      const peerGiven = tsStdin.length + tsStdout.length;
      const decrypted = doc.tlsConnections.filter((t) => t.decrypted).length;

      return [
        result(`decrypt + decode ${mb.toFixed(0)} MB TLS kubectl exec capture (whole process)`, 'MB/s', mb / ours.seconds, mb / peer.seconds, {
          peerName: 'tshark -o tls.keylog_file -T fields -e spdy.streamid',
          target: '>= 3x, every byte right',
          notes:
            `ours ${ours.seconds.toFixed(2)} s (cpu ${ours.cpuSeconds.toFixed(2)} s) peak ${ours.maxRssMiB.toFixed(0)} MiB, right ${oursRight}/${sessionBytes} B, ` +
            `${decrypted}/${doc.tlsConnections.length} TLS connections decrypted, ${doc.diagnostics} diagnostics; ` +
            `tshark ${peer.seconds.toFixed(2)} s (cpu ${peer.cpuSeconds.toFixed(2)} s) peak ${peer.maxRssMiB.toFixed(0)} MiB, right ${peerRight}/${sessionBytes} B (gave ${peerGiven} B); ` +
            `cpu ratio ${(peer.cpuSeconds / ours.cpuSeconds).toFixed(2)}x; best of ${RUNS} each, alternating`,
        }),
      ];
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
};

export default bench;
