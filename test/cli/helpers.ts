/**
 * Running the built CLI (`node dist/cli/main.js`) as a user would, and reading
 * the fixtures with their ground truth.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
export const FIXTURES = join(ROOT, 'fixtures');

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  input?: Uint8Array | string;
  timeoutMs?: number;
}

/** Why the CLI cannot be run (not built), or null. */
export function cliMissing(): string | null {
  return existsSync(CLI) ? null : `${CLI} not built: run npm run build (npm test does)`;
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolveP, reject) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, ...opts.env })) if (v !== undefined) env[k] = v;
    // Tests read plain output unless they ask for colour.
    delete env.FORCE_COLOR;
    if (!opts.env || !('NO_COLOR' in opts.env)) delete env.NO_COLOR;
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveP({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

export interface TruthDirection {
  bytes: number;
  sha256: string;
}

export interface TruthStream {
  role: string;
  channel?: number;
  port?: number;
  requestId?: string;
  clientToServer: TruthDirection;
  serverToClient: TruthDirection;
  source?: string;
}

export interface TruthSession {
  kind: string;
  transport: string;
  protocol: string;
  tty: boolean;
  streams: TruthStream[];
  resizes: Array<{ width: number; height: number }>;
  exit: { status: string; code: number } | null;
}

export interface Truth {
  name: string;
  format: 'pcap' | 'pcapng';
  midSession: boolean;
  secret?: string;
  sessions: TruthSession[];
}

export interface Fixture {
  name: string;
  capture: string;
  truth: Truth;
}

export function fixtures(): Fixture[] {
  if (!existsSync(FIXTURES)) return [];
  const out: Fixture[] = [];
  for (const f of readdirSync(FIXTURES).sort()) {
    if (!f.endsWith('.truth.json')) continue;
    const truth = JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) as Truth;
    const capture = join(FIXTURES, `${truth.name}.${truth.format}`);
    if (existsSync(capture)) out.push({ name: truth.name, capture, truth });
  }
  return out;
}

export function fixture(name: string): Fixture | undefined {
  return fixtures().find((f) => f.name === name);
}
