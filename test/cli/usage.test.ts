/** Command line handling of the built CLI: help, version, usage errors and unreadable input exit 2. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, cliMissing, fixtures, runCli } from './helpers.js';

const missing = cliMissing();
if (missing) console.warn(missing);

describe.skipIf(missing !== null)('kubewire command line', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kubewire-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--help lists the commands and exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    const text = r.stdout.toString();
    expect(text).toContain('kubewire decode <capture..>');
    expect(text).toMatch(/Exit codes: 0 decoded cleanly, 1 decoded with diagnostics, 2 usage error/);
  });

  it('decode --help shows every option with examples', async () => {
    const r = await runCli(['decode', '--help']);
    expect(r.code).toBe(0);
    const text = r.stdout.toString();
    for (const opt of ['--summary', '--json', '--ndjson', '--follow', '--session', '--stream', '--role', '--extract', '--decode-as', '--show-secrets']) {
      expect(text, opt).toContain(opt);
    }
    expect(text).toContain('Examples:');
    expect(text).toMatch(/tcpdump -i lo -U -w - port 6443 \| kubewire decode\s+- --ndjson/);
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const args of [['--version'], ['-V'], ['decode', '--version']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout.toString(), args.join(' ')).toBe(`${pkg.version}\n`);
    }
  });

  it.each([
    [[], /Name a command/],
    [['decode'], /Not enough non-option arguments/],
    [['frobnicate'], /Unknown argument/],
    [['decode', 'x.pcap', '--ndjson', '--json'], /mutually exclusive/],
    [['decode', 'x.pcap', '--follow', '--summary'], /mutually exclusive/],
    [['decode', 'x.pcap', '--role', 'stdfoo'], /Invalid values/],
    [['decode', 'x.pcap', '--no-such-flag'], /Unknown argument/],
  ])('usage error %j exits 2', async (args, message) => {
    const r = await runCli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.stdout.length).toBe(0);
  });

  it('a missing file exits 2 and names it', async () => {
    const r = await runCli(['decode', join(dir, 'nope.pcap')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nope.pcap');
    expect(r.stderr).toContain('ENOENT');
  });

  it('a file that is not a capture exits 2', async () => {
    const f = join(dir, 'not-a-capture.pcap');
    writeFileSync(f, 'this is plainly not a capture file, just text\n'.repeat(10));
    const r = await runCli(['decode', f, '--summary']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a readable pcap or pcapng capture/);
  });

  it('an empty standard input exits 2', async () => {
    const r = await runCli(['decode', '-', '--summary'], { input: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('standard input is not a readable pcap or pcapng capture');
    expect(r.stdout.length).toBe(0);
  });

  it('a capture on standard input decodes like the file', async () => {
    const f = fixtures()[0];
    if (!f) return void console.warn('no fixtures; run npm run fixtures');
    const [viaStdin, viaFile] = await Promise.all([
      runCli(['decode', '-', '--summary', '--json'], { input: readFileSync(f.capture) }),
      runCli(['decode', f.capture, '--summary', '--json']),
    ]);
    expect(viaStdin.code).toBe(viaFile.code);
    // the same document, but for the input each session names
    expect(viaStdin.stdout.toString()).toBe(viaFile.stdout.toString().replaceAll(JSON.stringify(f.capture), '"-"'));
    expect(viaStdin.stdout.toString()).toContain('"files": [\n        "-"\n      ]');
  });

  it('a capture cut inside a packet decodes what is there and exits 1', async () => {
    const f = fixtures().find((x) => x.name === 'k127-exec');
    if (!f) return void console.warn('fixture k127-exec missing; run npm run fixtures');
    const bytes = readFileSync(f.capture);
    const r = await runCli(['decode', '-', '--summary'], { input: bytes.subarray(0, bytes.length - 7) });
    expect(r.code).toBe(1);
    expect(r.stdout.toString()).toMatch(/Diagnostics \(\d+\)/);
  });

  it('a reader that stops early (| head -1) ends the decode quietly with 0', async () => {
    const f = fixtures().find((x) => x.name === 'k127-transfer-2mib') ?? fixtures()[0];
    if (!f) return void console.warn('no fixtures; run npm run fixtures');
    const { spawnSync } = await import('node:child_process');
    const script = `"$0" "$1" decode "$2" --ndjson 2>"$3" | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"`;
    const errFile = join(dir, 'epipe.err');
    const r = spawnSync('bash', ['-c', script, process.execPath, CLI, f.capture, errFile], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('0');
    expect(readFileSync(errFile, 'utf8')).toBe('');
  });

  it('--decode-as with two protocols for every connection is a usage error', async () => {
    const f = fixtures()[0];
    if (!f) return void console.warn('no fixtures; run npm run fixtures');
    const r = await runCli(['decode', f.capture, '--decode-as', 'spdy', '--decode-as', 'websocket']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--decode-as/);
  });
});
