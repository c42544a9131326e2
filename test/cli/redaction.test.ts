/**
 * Secrets in a capture (the Authorization bearer token python3-kubernetes
 * sends, the Sec-WebSocket-Key of every WebSocket handshake) never appear in
 * any output form unless --show-secrets.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliMissing, fixture, runCli } from './helpers.js';

const missing = cliMissing();
const python = fixture('python-exec');
const ws = fixture('k133-exec-ws');
const skip = missing ?? (!python || !ws ? 'fixtures python-exec and k133-exec-ws are missing; run npm run fixtures' : null);
if (skip) console.warn(skip);

const FORMS: string[][] = [[], ['--summary'], ['--summary', '--json'], ['--json', '--bytes'], ['--ndjson', '--bytes'], ['--follow']];

/** Everything one run of the CLI wrote: stdout, stderr and extracted files. */
async function allOutput(capture: string, form: string[], extra: string[] = []): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-redact-'));
  const r = await runCli(['decode', capture, ...form, '--extract', dir, ...extra]);
  expect(r.code === 0 || r.code === 1, r.stderr).toBe(true);
  let text = r.stdout.toString('latin1') + r.stderr;
  for (const f of readdirSync(dir)) text += readFileSync(join(dir, f)).toString('latin1');
  rmSync(dir, { recursive: true, force: true });
  return text;
}

function secretsOf(): Array<{ what: string; capture: string; secret: string }> {
  const out = [];
  if (python?.truth.secret) out.push({ what: 'bearer token', capture: python.capture, secret: python.truth.secret });
  if (ws) {
    const m = /Sec-WebSocket-Key: ([A-Za-z0-9+/=]+)\r\n/i.exec(readFileSync(ws.capture).toString('latin1'));
    if (m) out.push({ what: 'Sec-WebSocket-Key', capture: ws.capture, secret: m[1]! });
  }
  return out;
}

describe.skipIf(skip !== null)('secrets are redacted in every output', () => {
  const secrets = skip ? [] : secretsOf();

  it('the fixtures do carry the secrets in clear', () => {
    expect(secrets.map((s) => s.what)).toEqual(['bearer token', 'Sec-WebSocket-Key']);
    for (const s of secrets) expect(readFileSync(s.capture).toString('latin1')).toContain(s.secret);
  });

  for (const form of FORMS) {
    it(`decode ${form.join(' ') || '(timeline)'} --extract: no secret`, async () => {
      for (const s of secrets) {
        const text = await allOutput(s.capture, form);
        expect(text.includes(s.secret), `${s.what} leaked`).toBe(false);
      }
    });
  }

  it('--show-secrets shows them in the JSON events', async () => {
    for (const s of secrets) {
      const r = await runCli(['decode', s.capture, '--json', '--show-secrets']);
      expect(r.stdout.toString(), s.what).toContain(s.secret);
    }
  });

  it('the redacted header is still there, marked', async () => {
    const r = await runCli(['decode', python!.capture, '--ndjson']);
    const request = r.stdout
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { kind: string; headers?: Array<[string, string]> })
      .find((e) => e.kind === 'http-request');
    const auth = request?.headers?.find(([n]) => n.toLowerCase() === 'authorization');
    expect(auth).toBeDefined();
    expect(auth![1]).not.toContain(python!.truth.secret!);
    expect(auth![1].length).toBeGreaterThan(0);
  });
});
