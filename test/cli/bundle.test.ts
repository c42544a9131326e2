/**
 * The bundled executable (dist/bin/kubewire.js, what `bin` installs) behaves
 * as the unbundled CLI: the same output, errors and exit codes on every
 * fixture and on the command lines that take other paths (yargs, help,
 * version, files it reads beside itself such as the report page).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLED_CLI, cliMissing, fixtures, runCli, type CliResult } from './helpers.js';

const missing = cliMissing() ?? (existsSync(BUNDLED_CLI) ? null : 'dist/bin/kubewire.js not built (npm run build)');
const work = mkdtempSync(join(tmpdir(), 'kubewire-bundle-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function both(args: string[], env?: Record<string, string>): Promise<[CliResult, CliResult]> {
  return Promise.all([runCli(args, { env }), runCli(args, { env, script: BUNDLED_CLI })]);
}

function same([plain, bundled]: [CliResult, CliResult]): void {
  expect(bundled.code).toBe(plain.code);
  expect(bundled.stderr).toBe(plain.stderr);
  expect(bundled.stdout.toString()).toBe(plain.stdout.toString());
}

describe.skipIf(missing !== null)('the bundled CLI', () => {
  for (const f of fixtures()) {
    it(`${f.name}: same summary document and timeline`, async () => {
      same(await both(['decode', f.capture, '--summary', '--json']));
      same(await both(['decode', f.capture]));
    });
  }

  it('same version, help, usage errors and unreadable input', async () => {
    same(await both(['--version']));
    same(await both(['--help']));
    same(await both(['decode', '--help']));
    same(await both(['decode', fixtures()[0]!.capture, '--session', 'x']));
    same(await both(['decode', join(work, 'missing.pcap')]));
    same(await both(['bogus']));
  });

  it('finds the report page beside itself (--html)', async () => {
    const f = fixtures()[0]!;
    const [a, b] = [join(work, 'a.html'), join(work, 'b.html')];
    const [plain, bundled] = await Promise.all([
      runCli(['decode', f.capture, '--summary', '--html', a]),
      runCli(['decode', f.capture, '--summary', '--html', b], { script: BUNDLED_CLI }),
    ]);
    expect(bundled.code).toBe(plain.code);
    expect(bundled.stderr).toBe(plain.stderr);
    expect(readFileSync(b, 'utf8')).toBe(readFileSync(a, 'utf8'));
  });
});
