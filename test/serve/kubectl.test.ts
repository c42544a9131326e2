/**
 * Real kubectl against `kubewire serve`: exec over SPDY (1.27, and 1.33 with
 * KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false) and WebSocket v5 (1.30, 1.33), TTY
 * with resize, port-forward over SPDY (1.27, 1.30, 1.33 by env) and the
 * WebSocket tunnel (1.33).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeHandle } from '../../src/serve/index.js';
import { kubectlBinary, kubectlMissing, runKubectl } from '../helpers/kubectl.js';
import { echoServer, freePort, roundTrip, runOnPty, waitForOutput } from './helpers.js';

const clients: Array<{ version: string; env: Record<string, string>; label: string }> = [
  { version: '1.27', env: {}, label: 'kubectl 1.27 (SPDY)' },
  { version: '1.30', env: {}, label: 'kubectl 1.30 (WebSocket v5)' },
  { version: '1.33', env: {}, label: 'kubectl 1.33 (WebSocket v5)' },
  { version: '1.33', env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }, label: 'kubectl 1.33 (SPDY by env)' },
];

let serve: ServeHandle;
let kubeconfig: string;

function writeConfig(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'kubewire-serve-')), 'config');
  writeFileSync(p, text);
  return p;
}

beforeAll(async () => {
  serve = await startServe({});
  kubeconfig = writeConfig(serve.kubeconfig);
});
afterAll(async () => {
  await serve?.close();
});

for (const c of clients) {
  const missing = kubectlMissing(c.version);
  if (missing) console.warn(`skipping ${c.label}: ${missing}`);
  const maybe = missing ? describe.skip : describe;

  maybe(`${c.label} exec against kubewire serve`, () => {
    const bin = () => kubectlBinary(c.version)!;

    it('stdin in, stdout and stderr out, byte-exact; exit code 0', async () => {
      const input = randomBytes(300_000);
      const r = await runKubectl(
        bin(),
        ['exec', '-i', 'web', '--', 'sh', '-c', 'cat; printf "to-stderr\\001\\377" >&2'],
        { kubeconfig, stdin: input, env: c.env },
      );
      expect(r.code).toBe(0);
      expect(r.stdout.equals(input)).toBe(true);
      expect(r.stderr.equals(Buffer.from('to-stderr\x01\xff', 'latin1'))).toBe(true);
    });

    it('a non-zero exit code reaches kubectl', async () => {
      const r = await runKubectl(bin(), ['exec', 'web', '--', 'sh', '-c', 'echo bye; exit 7'], { kubeconfig, env: c.env });
      expect(r.code).toBe(7);
      expect(r.stdout.toString()).toBe('bye\n');
      expect(r.stderr.toString()).toContain('command terminated with exit code 7');
    });

    it('TTY: a real terminal with the client size, and resize', async () => {
      // The resize travels on its own stream, so the remote shell waits (up
      // to 10 s) until it sees the new size rather than racing it on a busy machine.
      const RESIZE_PROBE =
        'stty size; echo READY; read x; i=0; while [ "$(stty size)" = "30 100" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; stty size; tty >/dev/null && echo IS-TTY';
      const r = await runOnPty(
        [bin(), '--kubeconfig', kubeconfig, '--cache-dir', mkdtempSync(join(tmpdir(), 'kubewire-kcache-')), 'exec', '-it', 'web', '--', 'sh', '-c', RESIZE_PROBE],
        { cols: 100, rows: 30, resizeAfter: 'READY', resizeTo: [120, 40], input: 'go\r', timeout: 20 },
        { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), ...c.env },
      );
      expect(r.code).toBe(0);
      expect(r.output).toContain('30 100');
      expect(r.output).toContain('40 120');
      expect(r.output).toContain('IS-TTY');
    });
  });
}

const forwarders: Array<{ version: string; env: Record<string, string>; label: string }> = [
  { version: '1.27', env: {}, label: 'kubectl 1.27 (SPDY portforward.k8s.io)' },
  { version: '1.30', env: {}, label: 'kubectl 1.30 (SPDY portforward.k8s.io)' },
  { version: '1.33', env: {}, label: 'kubectl 1.33 (tunnelled SPDY/3.1+portforward.k8s.io)' },
  { version: '1.33', env: { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }, label: 'kubectl 1.33 (SPDY by env)' },
];

for (const c of forwarders) {
  const missing = kubectlMissing(c.version);
  if (missing) console.warn(`skipping ${c.label}: ${missing}`);
  const maybe = missing ? describe.skip : describe;
  maybe(`${c.label} port-forward against kubewire serve`, () => {
    it('echo over two local connections, byte-exact', async () => {
      const target = await echoServer();
      const local = await freePort();
      let child: ChildProcess | null = null;
      const run = runKubectl(kubectlBinary(c.version)!, ['port-forward', 'pod/web', `${local}:${target.port}`], {
        kubeconfig,
        env: c.env,
        timeoutMs: 40_000,
        onSpawn: (ch) => (child = ch),
      });
      try {
        await waitForOutput(child!, 'Forwarding from');
        const a = randomBytes(200_000);
        const b = randomBytes(70_000);
        const [ra, rb] = await Promise.all([roundTrip(local, a), roundTrip(local, b)]);
        expect(ra.equals(a)).toBe(true);
        expect(rb.equals(b)).toBe(true);
        expect(target.connections()).toBe(2);
      } finally {
        child!.kill('SIGTERM');
        await run;
        await target.close();
      }
    });
  });
}
