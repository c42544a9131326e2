/**
 * Running the built CLI (`node dist/cli/main.js`) as a user would, and reading
 * the fixtures with their ground truth.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fixtureTruths, type FixtureTruth } from '../helpers/fixture-truths.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
/** The bundled executable (`bin` in package.json). */
export const BUNDLED_CLI = join(ROOT, 'dist', 'bin', 'kubewire.js');

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  input?: Uint8Array | string;
  timeoutMs?: number;
  /** The script to run (default the unbundled CLI). */
  script?: string;
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
    const child = spawn(process.execPath, [opts.script ?? CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
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

export type { StreamTruth } from '../helpers/fixture-truths.js';

export interface Fixture {
  name: string;
  capture: string;
  truth: FixtureTruth;
}

export function fixtures(): Fixture[] {
  return fixtureTruths().map(({ capture, truth }) => ({ name: truth.name, capture, truth }));
}

export function fixture(name: string): Fixture | undefined {
  return fixtures().find((f) => f.name === name);
}
