/**
 * Real kubectl against a server URL with a path prefix, as clusters behind a
 * proxy are reached (Rancher's `https://host/k8s/clusters/ID`): kubectl puts
 * the prefix in front of every API path. `kubectl proxy --api-prefix` plays
 * that proxy in front of `kubewire serve`; tcpdump captures kubectl's side and
 * `decode` must still see the exec, its pod and its command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeHandle } from '../../src/serve/index.js';
import { captureLo, chainCaptureUnavailable } from '../helpers/chain.js';
import { kubectlBinary, kubectlMissing, runKubectl, writeKubeconfig } from '../helpers/kubectl.js';
import { cliMissing, runCli } from './helpers.js';

const PREFIX = '/k8s/clusters/c-m-4x7q';
const skip = cliMissing() ?? chainCaptureUnavailable() ?? kubectlMissing('1.33');
if (skip) console.warn(`skipping kubectl through a path-prefixed server URL: ${skip}`);

let serve: ServeHandle;
let proxy: ChildProcess;
let proxyPort = 0;

beforeAll(async () => {
  if (skip) return;
  serve = await startServe({});
  // `--reject-paths` cleared: by default kubectl proxy refuses exec
  proxy = spawn(kubectlBinary('1.33')!, ['--kubeconfig', writeKubeconfig(serve.url), 'proxy', '--port=0', `--api-prefix=${PREFIX}/`, '--reject-paths=^$'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: mkdtempSync(join(tmpdir(), 'kubewire-proxy-home-')) },
  });
  proxyPort = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`kubectl proxy did not start: ${out}`)), 20_000);
    proxy.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Starting to serve on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
});
afterAll(async () => {
  proxy?.kill();
  await serve?.close();
});

interface Session {
  kind: string;
  hop: string;
  transport: string;
  namespace: string | null;
  pod: string | null;
  command: string[];
  exit: { code: number } | null;
  request: { path: string } | null;
  streams: Array<{ role: string; clientToServer: { bytes: number } }>;
}

const clients = [
  { version: '1.27', transport: 'spdy/3.1' },
  { version: '1.33', transport: 'websocket' },
];

describe.skipIf(skip !== null)('kubectl through a path-prefixed server URL (kubectl proxy --api-prefix)', () => {
  for (const c of clients) {
    it.skipIf(kubectlMissing(c.version) !== null)(`kubectl ${c.version}: decode sees the exec behind the prefix`, async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'kubewire-prefix-')), 'prefix.pcap');
      const cap = await captureLo(file, [proxyPort]);
      let r;
      try {
        r = await runKubectl(kubectlBinary(c.version)!, ['exec', '-i', 'web', '--', 'sh', '-c', 'cat; exit 5'], {
          kubeconfig: writeKubeconfig(`http://127.0.0.1:${proxyPort}${PREFIX}`),
          stdin: Buffer.from('behind a prefix\n'),
        });
      } finally {
        await cap.stop();
      }
      expect(r.stdout.toString()).toBe('behind a prefix\n');
      expect(r.code).toBe(5);
      const d = await runCli(['decode', file, '--summary', '--json'], { timeoutMs: 60_000 });
      expect(d.code).toBe(0);
      const sessions = (JSON.parse(d.stdout.toString('utf8')) as { sessions: Session[] }).sessions;
      expect(sessions).toHaveLength(1);
      const s = sessions[0]!;
      expect(s.request?.path.startsWith(`${PREFIX}/api/v1/namespaces/default/pods/web/exec`)).toBe(true);
      expect({ kind: s.kind, hop: s.hop, transport: s.transport, namespace: s.namespace, pod: s.pod, command: s.command, code: s.exit?.code }).toEqual({
        kind: 'exec',
        hop: 'client-apiserver',
        transport: c.transport,
        namespace: 'default',
        pod: 'web',
        command: ['sh', '-c', 'cat; exit 5'],
        code: 5,
      });
      expect(s.streams.find((x) => x.role === 'stdin')?.clientToServer.bytes).toBe('behind a prefix\n'.length);
    }, 60_000);
  }
});
