/** --follow transcripts, --session/--stream/--role filters, colour rules and progress. */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI, cliMissing, fixture, runCli } from './helpers.js';

const missing = cliMissing();
const exec = fixture('k127-exec');
const ttys = ['k127-exec-tty', 'k133-exec-tty'].map(fixture).filter((f) => f !== undefined);
const skip = missing ?? (!exec || ttys.length < 2 ? 'fixtures missing; run npm run fixtures' : null);
if (skip) console.warn(skip);

const SGR = /\x1b\[[0-9;]*m/;

/** Run the CLI with stdout and stderr on a terminal (script(1) gives it a pty). */
function onTerminal(args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const cmd = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const e: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm', ...env };
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { env: e, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

describe.skipIf(skip !== null)('--follow', () => {
  it.each(ttys.map((f) => [f!.name, f!] as const))('%s: a TTY session shows exactly what the terminal showed', async (_n, f) => {
    const r = await runCli(['decode', f.capture, '--follow']);
    expect(r.code).toBe(0);
    const stdout = f.truth.sessions[0]!.streams.find((s) => s.role === 'stdout')!.serverToClient;
    expect(r.stdout.length).toBe(stdout.bytes);
    expect(createHash('sha256').update(r.stdout).digest('hex')).toBe(stdout.sha256);
  });

  it('without a TTY, stdin, stdout and stderr interleave in capture order', async () => {
    const [follow, nd] = await Promise.all([
      runCli(['decode', exec!.capture, '--follow']),
      runCli(['decode', exec!.capture, '--ndjson', '--bytes']),
    ]);
    const expected = Buffer.concat(
      nd.stdout
        .toString()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { kind: string; role?: string; base64?: string })
        .filter((e) => e.kind === 'stream-data' && ['stdin', 'stdout', 'stderr'].includes(e.role!))
        .map((e) => Buffer.from(e.base64!, 'base64')),
    );
    const streams = exec!.truth.sessions[0]!.streams;
    const total = streams
      .filter((s) => ['stdin', 'stdout', 'stderr'].includes(s.role))
      .reduce((n, s) => n + s.clientToServer.bytes + s.serverToClient.bytes, 0);
    expect(expected.length).toBe(total);
    expect(follow.stdout.equals(expected)).toBe(true);
  });
});

describe.skipIf(skip !== null)('filters', () => {
  it('--session keeps only that session', async () => {
    const none = await runCli(['decode', exec!.capture, '--summary', '--json', '--session', '2']);
    expect((JSON.parse(none.stdout.toString()) as { sessions: unknown[] }).sessions).toEqual([]);
    const text = await runCli(['decode', exec!.capture, '--summary', '--session', '2']);
    expect(text.stdout.toString()).toContain('No session matches the filters.');
    const one = await runCli(['decode', exec!.capture, '--ndjson', '--session', '1']);
    const events = one.stdout.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { session?: number; connection: number });
    expect(events.length).toBeGreaterThan(5);
    // Connection 1 carries only discovery requests: nothing of it is shown.
    expect(events.every((e) => e.connection === 2)).toBe(true);
  });

  it('--role keeps those streams in the summary and the events', async () => {
    const r = await runCli(['decode', exec!.capture, '--summary', '--json', '--role', 'stdout', '--role', 'stderr']);
    const doc = JSON.parse(r.stdout.toString()) as { sessions: Array<{ streams: Array<{ role: string }>; exit: unknown }> };
    expect(doc.sessions[0]!.streams.map((s) => s.role).sort()).toEqual(['stderr', 'stdout']);
    expect(doc.sessions[0]!.exit).not.toBeNull();
    const nd = await runCli(['decode', exec!.capture, '--ndjson', '--role', 'stdin']);
    const roles = new Set(
      nd.stdout
        .toString()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { kind: string; role?: string })
        .filter((e) => e.kind === 'stream-data' || e.kind === 'stream-open')
        .map((e) => e.role),
    );
    expect([...roles]).toEqual(['stdin']);
  });

  it('--stream keeps one stream id in the timeline', async () => {
    const r = await runCli(['decode', exec!.capture, '--stream', '3']);
    const ids = [...r.stdout.toString().matchAll(/\[(\d+)[ \]]/g)].map((m) => Number(m[1]));
    expect(ids.length).toBeGreaterThan(2);
    expect(new Set(ids)).toEqual(new Set([3]));
  });
});

describe.skipIf(skip !== null || !existsSync('/usr/bin/script'))('colour and progress', () => {
  it('no colour when stdout is not a terminal', async () => {
    const r = await runCli(['decode', exec!.capture, '--summary']);
    expect(r.stdout.toString()).not.toMatch(SGR);
    expect(r.stderr).toBe('');
  });

  it('colour on a terminal, none with NO_COLOR', async () => {
    expect(await onTerminal(['decode', exec!.capture, '--summary'])).toMatch(SGR);
    const plain = await onTerminal(['decode', exec!.capture, '--summary'], { NO_COLOR: '1' });
    expect(plain).toContain('Session 1: exec');
    expect(plain).not.toMatch(SGR);
  });

  it('decode - on a terminal asks for a pipe instead of waiting', async () => {
    const out = await onTerminal(['decode', '-', '--summary']);
    expect(out).toContain('standard input is a terminal');
  });

  it('--progress reports on stderr only', async () => {
    const r = await runCli(['decode', exec!.capture, '--summary', '--json', '--progress']);
    expect(r.stderr).toContain('decoding');
    expect(() => JSON.parse(r.stdout.toString())).not.toThrow();
  });
});

describe.skipIf(skip !== null)('--decode-as on a capture joined mid-session', () => {
  for (const [name, as] of [
    ['k127-exec-midsession', '1=v4.channel.k8s.io'],
    ['k133-exec-ws-midsession', 'v5.channel.k8s.io'],
  ] as const) {
    it(`${name} --decode-as ${as}: the forced protocol, every byte`, async () => {
      const f = fixture(name);
      if (!f) return void console.warn(`fixture ${name} missing; run npm run fixtures`);
      const [plain, forced] = await Promise.all([
        runCli(['decode', f.capture, '--summary', '--json']),
        runCli(['decode', f.capture, '--summary', '--json', '--decode-as', as]),
      ]);
      type Doc = { sessions: Array<{ protocol: string | null; streams: Array<{ role: string; clientToServer: { sha256: string }; serverToClient: { sha256: string } }> }> };
      const p = JSON.parse(plain.stdout.toString()) as Doc;
      const d = JSON.parse(forced.stdout.toString()) as Doc;
      expect(p.sessions[0]!.protocol).toBeNull();
      expect(d.sessions[0]!.protocol).toBe(f.truth.sessions[0]!.protocol);
      for (const ts of f.truth.sessions[0]!.streams) {
        const ours = d.sessions[0]!.streams.find((s) => s.role === ts.role);
        expect(ours, ts.role).toBeDefined();
        expect(ours!.clientToServer.sha256).toBe(ts.clientToServer.sha256);
        expect(ours!.serverToClient.sha256).toBe(ts.serverToClient.sha256);
      }
    });
  }
});

describe.skipIf(skip !== null)('a refused WebSocket upgrade and its SPDY retry', () => {
  it('read as one story: the refusal in requests, the session says it retries it', async () => {
    const f = fixture('k133-exec-ws-refused');
    if (!f) return void console.warn('fixture k133-exec-ws-refused missing; run npm run fixtures');
    const r = await runCli(['decode', f.capture, '--summary', '--json']);
    expect(r.code).toBe(0);
    type Doc = {
      sessions: Array<{ session: number; transport: string; retryOf: number | null }>;
      requests: Array<{ connection: number; status: number | null; upgrade: string | null; retriedBy: number | null }>;
    };
    const doc = JSON.parse(r.stdout.toString()) as Doc;
    expect(doc.sessions.map((s) => s.transport)).toEqual(['spdy/3.1']);
    const refused = doc.requests.filter((q) => q.upgrade !== null && q.status !== 101);
    expect(refused.map((q) => [q.status, q.upgrade?.toLowerCase(), q.retriedBy])).toEqual([[400, 'websocket', 1]]);
    expect(doc.sessions[0]!.retryOf).toBe(refused[0]!.connection);
    const text = await runCli(['decode', f.capture, '--summary']);
    expect(text.stdout.toString()).toMatch(/upgrade websocket refused, retried as session 1/);
  });
});
