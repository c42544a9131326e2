/**
 * `kubewire decode --tls-keylog` end to end, on the built CLI: the real
 * API server → kubelet hop (TLS 1.3, kubectl 1.33 exec) with its secrets in a
 * pcapng Decryption Secrets Block, or in a key log file; bad key logs; and a
 * live pipe whose key log grows while it runs.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { CLI, cliMissing, runCli } from '../cli/helpers.js';
import { readModel, render } from '../robustness/model.js';
import { sharedFile } from './helpers.js';

const missing = cliMissing();
if (missing) console.warn(missing);
const dsbCapture = sharedFile('real-apiserver', 'kubectl-1.33.exec-cat.kubelet-hop.tls-dsb.pcapng');
const keylog = sharedFile('real-apiserver', 'kubectl-1.33.exec-cat.kubelet-hop.keylog.txt');
const truthFile = sharedFile('real-apiserver', 'kubectl-1.33.exec-cat.keylog.truth.json');
const haveShared = dsbCapture !== null && keylog !== null && truthFile !== null;
if (!haveShared) console.warn('../shared/real-apiserver not present: skipping the real kubelet-hop TLS decode');

/** The capture without its Decryption Secrets Blocks (pcapng blocks of type 0x0a; a little-endian file). */
function withoutSecrets(file: string, dir: string): string {
  const b = readFileSync(file);
  const keep: Buffer[] = [];
  for (let i = 0; i + 12 <= b.length; ) {
    const len = b.readUInt32LE(i + 4);
    if (b.readUInt32LE(i) !== 0x0a) keep.push(b.subarray(i, i + len));
    i += len;
  }
  const out = join(dir, 'bare.pcapng');
  writeFileSync(out, Buffer.concat(keep));
  return out;
}

interface Summary {
  sessions: Array<{ kind: string; exit: { code: number | null } | null; streams: Array<{ role: string; clientToServer: { sha256: string }; serverToClient: { sha256: string } }> }>;
  diagnostics: number;
  tlsConnections: Array<Record<string, unknown>>;
}

function expectExecMatchesTruth(s: Summary): void {
  const truth = JSON.parse(readFileSync(truthFile!, 'utf8')) as { expected_remote: { stdin_sha256: string; stdout_sha256: string; exit_code: number } };
  expect(s.diagnostics).toBe(0);
  expect(s.sessions).toHaveLength(1);
  const sess = s.sessions[0]!;
  expect(sess.kind).toBe('exec');
  expect(sess.streams.find((x) => x.role === 'stdin')!.clientToServer.sha256).toBe(truth.expected_remote.stdin_sha256);
  expect(sess.streams.find((x) => x.role === 'stdout')!.serverToClient.sha256).toBe(truth.expected_remote.stdout_sha256);
  expect(sess.exit?.code).toBe(truth.expected_remote.exit_code);
  expect(s.tlsConnections).toHaveLength(1);
  expect(s.tlsConnections[0]).toMatchObject({ version: 'TLS 1.3', decrypted: true, reason: null, alpnOffered: ['http/1.1'], recordsFailed: 0 });
}

describe.skipIf(missing !== null || !haveShared)('decode --tls-keylog on the real kubelet hop', () => {
  it('secrets from the pcapng Decryption Secrets Block: the exec session of the truth, exit 0', async () => {
    const r = await runCli(['decode', dsbCapture!, '--summary', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expectExecMatchesTruth(JSON.parse(r.stdout.toString()) as Summary);
  });

  it('secrets from the key log file alone (secrets block removed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubewire-tls-'));
    const bare = withoutSecrets(dsbCapture!, dir);
    const without = await runCli(['decode', bare, '--summary', '--json']);
    expect(without.code).toBe(0);
    const w = JSON.parse(without.stdout.toString()) as Summary;
    expect(w.sessions).toHaveLength(0);
    expect(w.tlsConnections[0]).toMatchObject({ decrypted: false, reason: 'no-key', version: 'TLS 1.3' });
    const text = await runCli(['decode', bare, '--summary']);
    expect(text.stdout.toString().trimEnd().split('\n').pop()).toMatch(/--tls-keylog.*SSLKEYLOGFILE.*--tls-keylog.*kubewire tap/);
    const r = await runCli(['decode', bare, '--tls-keylog', keylog!, '--summary', '--json']);
    expect(r.code).toBe(0);
    expectExecMatchesTruth(JSON.parse(r.stdout.toString()) as Summary);
    // the timeline says it too, and no secret is printed anywhere
    const t = await runCli(['decode', bare, '--tls-keylog', keylog!]);
    const out = t.stdout.toString();
    expect(out).toMatch(/carries TLS 1\.3, ALPN http\/1\.1 → -, TLS_AES_256_GCM_SHA384: decrypted/);
    for (const line of readFileSync(keylog!, 'utf8').split('\n').filter(Boolean)) expect(out).not.toContain(line.split(' ')[2]!);
  });

  it('malformed key log lines are skipped and counted in one warning; keys of other connections are "no key"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubewire-tls-'));
    const bad = join(dir, 'bad.txt');
    const other = 'CLIENT_HANDSHAKE_TRAFFIC_SECRET ' + 'ab'.repeat(32) + ' ' + 'cd'.repeat(48);
    writeFileSync(bad, ['# comment', 'garbage', 'CLIENT_RANDOM zz 00', other, 'CLIENT_RANDOM ' + '11'.repeat(32) + ' 1234', ''].join('\n'));
    const bare = withoutSecrets(dsbCapture!, dir);
    const r = await runCli(['decode', bare, '--tls-keylog', bad, '--summary', '--json']);
    expect(r.stderr.trim().split('\n')).toEqual(['kubewire decode: warning: 3 malformed TLS key log lines skipped']);
    const s = JSON.parse(r.stdout.toString()) as Summary;
    expect(s.tlsConnections[0]).toMatchObject({ decrypted: false, reason: 'no-key' });
    // keys were given: the last line does not ask for them again
    const text = (await runCli(['decode', bare, '--tls-keylog', bad, '--summary'])).stdout.toString();
    expect(text.trimEnd().split('\n').pop()).toMatch(/^1 TLS connection has no secrets in the keys given/);
    // repeatable: the good file after the bad one still decrypts
    const both = await runCli(['decode', bare, '--tls-keylog', bad, '--tls-keylog', keylog!, '--summary', '--json']);
    expect(both.code).toBe(0);
    expectExecMatchesTruth(JSON.parse(both.stdout.toString()) as Summary);
    const gone = await runCli(['decode', dsbCapture!, '--tls-keylog', join(dir, 'absent.txt')]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/--tls-keylog: cannot read .*absent\.txt: ENOENT/);
  });

  it('decode - with a key log that is written while the capture streams in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubewire-tls-'));
    const bare = withoutSecrets(dsbCapture!, dir);
    const keys = join(dir, 'growing.txt');
    writeFileSync(keys, '');
    const child = spawn(process.execPath, [CLI, 'decode', '-', '--tls-keylog', keys, '--summary', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    const bytes = readFileSync(bare);
    // the first part of the capture (the handshake) arrives before the keys are logged
    child.stdin.write(bytes.subarray(0, 2000));
    await new Promise((r) => setTimeout(r, 300));
    appendFileSync(keys, readFileSync(keylog!));
    await new Promise((r) => setTimeout(r, 100));
    child.stdin.end(bytes.subarray(2000));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(0);
    expectExecMatchesTruth(JSON.parse(Buffer.concat(out).toString()) as Summary);
  });

  it('a capture joined after the ClientHello: "handshake not captured" even with the keys, no false alarm, and the hint says why keys do not help', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubewire-tls-'));
    const segments = readModel(dsbCapture!).segments;
    const hello = segments.findIndex((s) => s.payload.length > 0);
    expect(hello).toBeGreaterThan(0);
    const joined = join(dir, 'joined.pcapng');
    writeFileSync(joined, render(segments.slice(hello + 1), { format: 'pcapng' }));
    const r = await runCli(['decode', joined, '--tls-keylog', keylog!, '--summary', '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout.toString()) as Summary;
    expect(s.diagnostics).toBe(0);
    expect(s.sessions).toHaveLength(0);
    expect(s.tlsConnections).toHaveLength(1);
    expect(s.tlsConnections[0]).toMatchObject({ decrypted: false, reason: 'handshake-not-captured' });
    const text = (await runCli(['decode', joined, '--tls-keylog', keylog!, '--summary'])).stdout.toString();
    expect(text).toMatch(/not decrypted: handshake not captured/);
    const last = text.trimEnd().split('\n').pop()!;
    expect(last).toMatch(/handshake is not in the capture.*start the capture before the connection opens/);
    expect(text).not.toMatch(/give its keys with --tls-keylog/);
  });
});
