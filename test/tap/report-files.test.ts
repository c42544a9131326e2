/**
 * `kubewire tap --html FILE --asciicast DIR`: the report and the recordings
 * are written when the tap stops, from the same live events as its other
 * outputs (real kubectl 1.33 exec -t through the tap to `kubewire serve`).
 */
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTapCommand, type TapCliArgs } from '../../src/cli/commands/tap.js';
import { startServe, type ServeHandle } from '../../src/serve/index.js';
import { kubectlBinary, kubectlMissing, runKubectl, writeKubeconfig } from '../helpers/kubectl.js';

const missing = kubectlMissing('1.33');
if (missing) console.warn(`skipping tap --html/--asciicast: ${missing}`);
// The page template comes from the build.
const template = join(import.meta.dirname, '..', '..', 'dist', 'report', 'report.html');
const noTemplate = existsSync(template) ? null : 'dist/report/report.html not built (npm run build)';
if (!missing && noTemplate) console.warn(`skipping tap --html/--asciicast: ${noTemplate}`);

let serve: ServeHandle;
beforeAll(async () => {
  if (!missing) serve = await startServe();
});
afterAll(async () => {
  await serve?.close();
});

describe.skipIf(missing !== null || noTemplate !== null)('kubewire tap --html --asciicast', () => {
  it('writes a report with the session and a recording of its output when it stops', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubewire-tap-report-'));
    const signals = new EventEmitter();
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (d: Buffer) => (err += d.toString()));
    const stdout = new PassThrough();
    stdout.resume();
    const args = {
      listen: '127.0.0.1:0',
      upstream: serve.url,
      grace: 1,
      'max-decode-buffer': 64,
      summary: true,
      'show-secrets': false,
      bytes: false,
      html: join(dir, 'report.html'),
      asciicast: join(dir, 'casts'),
      'asciicast-all': true,
    } as TapCliArgs;
    const done = runTapCommand(args, { stdout, stderr, signals });
    let port: string | undefined;
    for (let i = 0; i < 400 && !port; i++) {
      port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err)?.[1];
      if (!port) await new Promise((r) => setTimeout(r, 25));
    }
    expect(port).toBeDefined();
    const kubeconfig = writeKubeconfig(`http://127.0.0.1:${port}`);
    const r = await runKubectl(kubectlBinary('1.33')!, ['exec', 'web', '--', 'sh', '-c', 'printf tapped-output'], { kubeconfig });
    expect(r.stdout.toString()).toBe('tapped-output');
    signals.emit('SIGINT');
    expect(await done).toBe(0);

    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    const json = /<script type="application\/json" id="kubewire-data">(.*?)<\/script>/s.exec(html)![1]!;
    const report = JSON.parse(json) as { input: string; sessions: Array<{ summary: { kind: string; command: string[] } }> };
    expect(report.input).toBe('kubewire tap');
    expect(report.sessions.map((s) => s.summary.kind)).toEqual(['exec']);
    expect(report.sessions[0]!.summary.command).toEqual(['sh', '-c', 'printf tapped-output']);
    const casts = readdirSync(join(dir, 'casts'));
    expect(casts).toHaveLength(1);
    const events = readFileSync(join(dir, 'casts', casts[0]!), 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as [number, string, string]);
    expect(events.filter((e) => e[1] === 'o').map((e) => e[2]).join('')).toBe('tapped-output');
  });
});
