/**
 * `--asciicast DIR`: asciicast v2 recordings, checked against the fixtures'
 * ground truth and played back by the real asciinema (Debian's, under
 * script(1), which gives it the terminal it wants).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliMissing, fixture, runCli } from './helpers.js';

const missing = cliMissing();
const ttys = ['k127-exec-tty', 'k133-exec-tty'].map(fixture).filter((f) => f !== undefined);
// The runtime hop: its URL does not say TTY; the resize stream does.
const runtimeTty = fixture('containerd-exec-tty-resize');
const exec = fixture('k127-exec');
const skip = missing ?? (ttys.length < 2 || !exec ? 'fixtures missing; run npm run fixtures' : null);
if (skip) console.warn(skip);

function tool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}
const noAsciinema = !tool('asciinema') ? 'asciinema not installed (apt-get install asciinema); playback not checked' : !tool('script') ? 'script(1) not installed' : null;
if (noAsciinema) console.warn(noAsciinema);

const tmp = mkdtempSync(join(tmpdir(), 'kubewire-cast-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type CastEvent = [number, 'o' | 'i' | 'r', string];
interface Cast {
  header: { version: number; width: number; height: number; timestamp: number; title: string };
  events: CastEvent[];
}

function readCast(file: string): Cast {
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  return { header: JSON.parse(lines[0]!), events: lines.slice(1).map((l) => JSON.parse(l) as CastEvent) };
}

/** `asciinema cat FILE`, run on a terminal; its raw output bytes. */
function asciinemaCat(file: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', `asciinema cat '${file}'`, '/dev/null'], {
      // asciinema reads its config under HOME: a fresh one, so the user's settings play no part.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm', LANG: 'C.UTF-8', HOME: tmp },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.on('error', reject);
    child.on('close', () => resolve(Buffer.concat(out)));
  });
}

let n = 0;
async function record(capture: string, ...flags: string[]): Promise<string> {
  const dir = join(tmp, String(n++));
  const r = await runCli(['decode', capture, '--summary', '--asciicast', dir, ...flags]);
  expect(r.code).toBe(0);
  return dir;
}

describe.skipIf(skip !== null)('--asciicast', () => {
  it.each([...ttys, ...(runtimeTty ? [runtimeTty] : [])].map((f) => [f!.name, f!] as const))('%s: one v2 recording, sized by the first resize, times from the capture', async (_n, f) => {
    const dir = await record(f.capture);
    expect(readdirSync(dir)).toEqual(['session1.cast']);
    const { header, events } = readCast(join(dir, 'session1.cast'));
    const truth = f.truth.sessions[0]!;
    expect(header.version).toBe(2);
    expect({ width: header.width, height: header.height }).toEqual(truth.resizes[0]);
    const summary = JSON.parse((await runCli(['decode', f.capture, '--summary', '--json'])).stdout.toString());
    const s = summary.sessions[0];
    expect(header.timestamp).toBe(Math.floor(s.startTime / 1e6));
    expect(header.title).toContain(s.pod ?? `session ${s.session}`);
    expect(header.title).toContain(s.command.join(' '));
    // The later resizes as `r` events, in order.
    expect(events.filter((e) => e[1] === 'r').map((e) => e[2])).toEqual(truth.resizes.slice(1).map((r) => `${r.width}x${r.height}`));
    // Times: seconds since the session start, never going back, within the session.
    const times = events.map((e) => e[0]);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[times.length - 1]!).toBeLessThanOrEqual((s.endTime - s.startTime) / 1e6);
    // No stdin without --asciicast-stdin (the terminal echoes what it shows).
    expect(events.some((e) => e[1] === 'i')).toBe(false);
    const out = Buffer.from(events.filter((e) => e[1] === 'o').map((e) => e[2]).join(''), 'utf8');
    const stdout = truth.streams.find((st) => st.role === 'stdout')!.serverToClient;
    expect(createHash('sha256').update(out).digest('hex')).toBe(stdout.sha256);
  });

  it.skipIf(noAsciinema !== null).each(ttys.map((f) => [f!.name, f!] as const))(
    '%s: asciinema cat plays back exactly the terminal output, as --follow shows it',
    async (_n, f) => {
      const dir = await record(f.capture);
      const [played, follow] = await Promise.all([asciinemaCat(join(dir, 'session1.cast')), runCli(['decode', f.capture, '--follow'])]);
      const stdout = f.truth.sessions[0]!.streams.find((st) => st.role === 'stdout')!.serverToClient;
      expect(played.length).toBe(stdout.bytes);
      expect(createHash('sha256').update(played).digest('hex')).toBe(stdout.sha256);
      expect(played.equals(follow.stdout)).toBe(true);
    },
  );

  it('a session without a TTY only with --asciicast-all; stdin only with --asciicast-stdin', async () => {
    const none = await record(exec!.capture);
    expect(existsSync(none) ? readdirSync(none) : []).toEqual([]);
    const dir = await record(exec!.capture, '--asciicast-all', '--asciicast-stdin');
    const { header, events } = readCast(join(dir, 'session1.cast'));
    expect({ width: header.width, height: header.height }).toEqual({ width: 80, height: 24 });
    const streams = exec!.truth.sessions[0]!.streams;
    const joined = (code: string) => Buffer.from(events.filter((e) => e[1] === code).map((e) => e[2]).join(''), 'utf8');
    const stdin = streams.find((s) => s.role === 'stdin')!.clientToServer;
    expect(createHash('sha256').update(joined('i')).digest('hex')).toBe(stdin.sha256);
    const outBytes = streams.filter((s) => s.role === 'stdout' || s.role === 'stderr').reduce((a, s) => a + s.serverToClient.bytes, 0);
    expect(joined('o').length).toBe(outBytes);
  });

  it('--session keeps only the chosen sessions', async () => {
    const dir = await record(ttys[0]!.capture, '--session', '2');
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });
});
