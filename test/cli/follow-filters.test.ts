/** --follow transcripts, --session/--stream/--role filters, colour rules and progress. */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CLI, ROOT, cliMissing, fixture, runCli } from './helpers.js';

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

/** The chain fixtures: real kubectl through `serve --chain`, every hop of one exec in one capture. */
const CHAIN = join(ROOT, 'fixtures', 'chain');
const chainExit7 = join(CHAIN, 'k133-exec-cat-exit7.pcap');
const chainTty = join(CHAIN, 'k133-exec-tty.pcap');
const chainSkip = missing ?? (!existsSync(chainExit7) || !existsSync(chainTty) ? 'chain fixtures missing; run npm run fixtures' : null);

/** Split a transcript at the lines naming a session: [session, bytes] in order (bytes before any line: session null). */
function bySessionLine(out: Buffer): Array<[number | null, Buffer]> {
  const text = out.toString('latin1');
  const line = /\n--- session (\d+) [^\n]*? (?:\(the bytes above: session (\d+)\) )?---\n/g;
  const parts: Array<[number | null, Buffer]> = [];
  let at = 0;
  let session: number | null = null;
  for (let m = line.exec(text); m !== null; m = line.exec(text)) {
    if (m[2] !== undefined) {
      // only the first change names the bytes before it
      expect(parts).toHaveLength(0);
      session = Number(m[2]);
    }
    if (m.index > at) parts.push([session, out.subarray(at, m.index)]);
    session = Number(m[1]);
    at = m.index + m[0].length;
  }
  if (at < out.length) parts.push([session, out.subarray(at)]);
  return parts;
}

describe.skipIf(chainSkip !== null)('--follow on a capture of several sessions at once', () => {
  it('every run of bytes is under a line naming the session it came from', async () => {
    const [follow, nd] = await Promise.all([runCli(['decode', chainExit7, '--follow']), runCli(['decode', chainExit7, '--ndjson', '--bytes'])]);
    expect(follow.code).toBe(0);
    const runs: Array<[number, Buffer[]]> = [];
    for (const l of nd.stdout.toString().split('\n').filter(Boolean)) {
      const e = JSON.parse(l) as { kind: string; session?: number; role?: string; base64?: string };
      if (e.kind !== 'stream-data' || !['stdin', 'stdout', 'stderr'].includes(e.role!)) continue;
      const last = runs[runs.length - 1];
      if (last && last[0] === e.session) last[1].push(Buffer.from(e.base64!, 'base64'));
      else runs.push([e.session!, [Buffer.from(e.base64!, 'base64')]]);
    }
    // three hops, each carrying stdin and stdout, overlapping in time
    expect(new Set(runs.map((r) => r[0])).size).toBe(3);
    expect(runs.length).toBeGreaterThan(3);
    const parts = bySessionLine(follow.stdout);
    expect(parts.map((p) => p[0])).toEqual(runs.map((r) => r[0]));
    parts.forEach(([, bytes], k) => expect(bytes.equals(Buffer.concat(runs[k]![1]))).toBe(true));
  });

  it('the runtime hop of a TTY exec (no options in its URL) is a TTY session too: its stdin is not shown', async () => {
    const [follow, sum] = await Promise.all([runCli(['decode', chainTty, '--follow']), runCli(['decode', chainTty, '--summary', '--json'])]);
    expect(follow.code).toBe(0);
    const doc = JSON.parse(sum.stdout.toString()) as { sessions: Array<{ session: number; hop: string; tty: boolean; streams: Array<{ role: string; serverToClient: { bytes: number } }> }> };
    expect(doc.sessions).toHaveLength(3);
    const shown = new Map<number, number>();
    for (const [s, b] of bySessionLine(follow.stdout)) shown.set(s!, (shown.get(s!) ?? 0) + b.length);
    for (const s of doc.sessions) {
      expect(s.tty).toBe(true);
      // what the terminal showed: stdout alone, at every hop
      expect(shown.get(s.session)).toBe(s.streams.find((x) => x.role === 'stdout')!.serverToClient.bytes);
    }
  });
});
