/**
 * `kubewire tap --tls-keylog FILE`: the secrets of the tap's own TLS
 * connections, both sides, in NSS key log format. A tcpdump of the
 * upstream hop taken while tapping then decrypts, with that file, in
 * `kubewire decode` (to the same session the tap decoded live) and in
 * tshark.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture, stopCapture, which } from '../capture/live-helpers.js';
import { kubectlMissing } from '../helpers/kubectl.js';
import { opensslMissing } from '../helpers/pki.js';
import { CLI, run, startUpstream, wrapperWay, type Upstream } from './signed-in-harness.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let upstream: Upstream;
beforeAll(async () => {
  if (!opensslMissing()) upstream = await startUpstream();
});
afterAll(async () => {
  await upstream?.close();
});

const root = process.getuid?.() === 0;
const missing =
  kubectlMissing('1.27') ?? kubectlMissing('1.33') ?? opensslMissing() ?? (which('tcpdump') ? null : 'tcpdump not found') ?? (root ? null : 'capturing on lo needs root');
if (missing) console.warn(`skipping tap --tls-keylog with tcpdump: ${missing}`);

(missing ? describe.skip : describe)('tap --tls-keylog', () => {
  for (const version of ['1.27', '1.33']) {
    it(`kubectl ${version}: the upstream hop's tcpdump decrypts with the tap's key log, in decode and in tshark`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kubewire-tap-keylog-'));
      const keys = join(dir, 'keys.log');
      const pcap = join(dir, 'upstream.pcap');
      const port = new URL(upstream.serve.url).port;
      const input = randomBytes(300_000);
      let r;
      // On a busy machine the kernel may drop packets (tcpdump says so): take the capture again.
      for (let attempt = 1; ; attempt++) {
        rmSync(keys, { force: true });
        const dump = await startCapture('tcpdump', ['-i', 'lo', '-U', '--immediate-mode', '-B', '32768', '-Z', 'root', '-w', pcap, `tcp port ${port}`], /listening on/);
        let log = '';
        try {
          r = await run(wrapperWay(version, upstream.kubeconfigs.cert), ['exec', '-i', 'web', '--', 'sh', '-c', 'cat; exit 6'], {
            stdin: input,
            tapOptions: ['--tls-keylog', keys, '--summary', '--json', '--out', join(dir, 'live.json')],
          });
        } finally {
          log = await stopCapture(dump);
        }
        const dropped = Number(/(\d+) packets? dropped by kernel/.exec(log)?.[1] ?? 0);
        if (dropped === 0 || attempt === 3) break;
      }
      expect(r.code).toBe(6);
      expect(statSync(keys).mode & 0o777).toBe(0o600);
      const labels = new Set(readFileSync(keys, 'utf8').trim().split('\n').map((l) => l.split(' ')[0]));
      expect(labels).toContain('CLIENT_TRAFFIC_SECRET_0');

      const decoded = JSON.parse(
        execFileSync(process.execPath, [CLI, 'decode', pcap, '--tls-keylog', keys, '--summary', '--json'], { encoding: 'utf8' }),
      );
      const exec = decoded.sessions.filter((s: { kind: string }) => s.kind === 'exec');
      expect(exec).toHaveLength(1);
      expect(exec[0].exit.code).toBe(6);
      const stdin = exec[0].streams.find((s: { role: string }) => s.role === 'stdin');
      expect(stdin.clientToServer).toEqual({ bytes: input.length, sha256: sha(input) });
      const stdout = exec[0].streams.find((s: { role: string }) => s.role === 'stdout');
      expect(stdout.serverToClient).toEqual({ bytes: input.length, sha256: sha(input) });
      // The same session the tap decoded live on its client side.
      const live = JSON.parse(readFileSync(join(dir, 'live.json'), 'utf8'));
      const liveExec = live.sessions.find((s: { kind: string }) => s.kind === 'exec');
      expect(liveExec.streams.map((s: { role: string; clientToServer: unknown; serverToClient: unknown }) => [s.role, s.clientToServer, s.serverToClient])).toEqual(
        exec[0].streams.map((s: { role: string; clientToServer: unknown; serverToClient: unknown }) => [s.role, s.clientToServer, s.serverToClient]),
      );

      // The same keys injected into the capture (a pcapng Decryption Secrets Block) decrypt it without --tls-keylog.
      if (which('editcap')) {
        const injected = join(dir, 'upstream-with-keys.pcapng');
        execFileSync('editcap', ['--inject-secrets', `tls,${keys}`, pcap, injected]);
        const fromBlock = JSON.parse(execFileSync(process.execPath, [CLI, 'decode', injected, '--summary', '--json'], { encoding: 'utf8' }));
        // the same sessions; each names the file it was decoded from
        const withoutFiles = (sessions: Array<{ files: string[] }>) => sessions.map(({ files: _files, ...rest }) => rest);
        expect(withoutFiles(fromBlock.sessions)).toEqual(withoutFiles(decoded.sessions));
        expect(fromBlock.sessions[0].files).toEqual([injected]);
      }

      if (which('tshark')) {
        // `-d`: the upstream's port is a random one, which tshark may give to another protocol's dissector by its port table.
        const paths = execFileSync('tshark', ['-r', pcap, '-d', `tcp.port==${port},tls`, '-o', `tls.keylog_file:${keys}`, '-Y', 'http.request', '-T', 'fields', '-e', 'http.request.uri'], {
          encoding: 'utf8',
        });
        expect(paths).toMatch(/\/api\/v1\/namespaces\/default\/pods\/web\/exec\?/);
      }
    });
  }
});
