/**
 * A throw-away PKI for tests that need real mutual TLS, made with the
 * `openssl` command in a temporary directory (Node cannot issue X.509
 * certificates itself):
 *
 * ```ts
 * const pki = makePki();                        // CA + server cert for 127.0.0.1/localhost
 * const alice = pki.client('alice', ['dev', 'ops']);   // CN=alice, O=dev, O=ops, signed by the CA
 * const rogue = pki.rogueClient('mallory');     // signed by another CA the server does not trust
 * const kc = writeCertKubeconfig(url, pki.ca.cert, alice);   // kind-style, inline base64
 * const tk = writeTokenKubeconfig(url, pki.ca.cert, 'tok');
 * pki.cleanup();
 * ```
 *
 * Every file is PEM; paths point into `pki.dir`. Keys are ECDSA P-256 (fast
 * to make, accepted by Go's and Node's TLS). Certificates are valid from one
 * hour ago (clock skew between processes) for two days.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its private key, as PEM text and as files. */
export interface KeyPair {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

export interface Pki {
  /** The temporary directory holding every file. */
  dir: string;
  /** The CA the server trusts (its `--client-ca`, and what clients verify the server with). */
  ca: KeyPair;
  /** Server certificate for 127.0.0.1, ::1 and localhost, signed by `ca`. */
  server: KeyPair;
  /** A client certificate signed by `ca`: Subject CN = `user`, one O per group. */
  client(user: string, groups?: string[]): KeyPair;
  /** A client certificate signed by a second CA that nothing trusts. */
  rogueClient(user: string, groups?: string[]): KeyPair;
  /** Remove the directory. */
  cleanup(): void;
}

/** `openssl` is on this machine, or the reason tests skip. */
export function opensslMissing(): string | null {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'openssl command not found';
  }
}

export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-pki-'));
  let serial = 0;
  const file = (name: string) => join(dir, name);

  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const newKey = (name: string) => {
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file(`${name}.key`)]);
    return file(`${name}.key`);
  };
  const pair = (name: string): KeyPair => ({
    cert: readFileSync(file(`${name}.crt`), 'utf8'),
    key: readFileSync(file(`${name}.key`), 'utf8'),
    certFile: file(`${name}.crt`),
    keyFile: file(`${name}.key`),
  });

  const makeCa = (name: string, cn: string): KeyPair => {
    const key = newKey(name);
    openssl([
      'req', '-x509', '-new', '-key', key, '-out', file(`${name}.crt`), '-days', '2', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return pair(name);
  };

  /** Issue a leaf signed by `ca` with the given subject and extensions. */
  const issue = (ca: KeyPair, name: string, subject: string, extensions: string[]): KeyPair => {
    const key = newKey(name);
    openssl(['req', '-new', '-key', key, '-out', file(`${name}.csr`), '-subj', subject]);
    writeFileSync(file(`${name}.ext`), `${extensions.join('\n')}\n`);
    serial += 1;
    openssl([
      'x509', '-req', '-in', file(`${name}.csr`), '-CA', ca.certFile, '-CAkey', ca.keyFile,
      '-set_serial', String(serial), '-days', '2', '-out', file(`${name}.crt`), '-extfile', file(`${name}.ext`),
    ]);
    return pair(name);
  };

  const clientSubject = (user: string, groups: string[]) =>
    // `/` and `\` are the subject syntax's own separators and escape.
    [...groups.map((g) => `/O=${escapeRdn(g)}`), `/CN=${escapeRdn(user)}`].join('');
  const CLIENT_EXT = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth'];

  const ca = makeCa('ca', 'kubewire test CA');
  const rogueCa = makeCa('rogue-ca', 'kubewire rogue CA');
  const server = issue(ca, 'server', '/CN=kubewire test server', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
  ]);
  let clients = 0;
  return {
    dir,
    ca,
    server,
    client: (user, groups = []) => issue(ca, `client-${++clients}`, clientSubject(user, groups), CLIENT_EXT),
    rogueClient: (user, groups = []) => issue(rogueCa, `rogue-${++clients}`, clientSubject(user, groups), CLIENT_EXT),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function escapeRdn(value: string): string {
  return value.replace(/[\\/]/g, (c) => `\\${c}`);
}

const b64 = (pem: string) => Buffer.from(pem).toString('base64');

/**
 * Write a kubeconfig like kind's: the server's CA and the client's
 * certificate and key inline as base64 (`*-data`). Returns its path.
 */
export function writeCertKubeconfig(server: string, caPem: string, client: Pick<KeyPair, 'cert' | 'key'>): string {
  return writeConfig(server, caPem, [
    `    client-certificate-data: ${b64(client.cert)}`,
    `    client-key-data: ${b64(client.key)}`,
  ]);
}

/** Write a kubeconfig whose user sends a bearer token. Returns its path. */
export function writeTokenKubeconfig(server: string, caPem: string, token: string): string {
  return writeConfig(server, caPem, [`    token: ${token}`]);
}

/** Write a kubeconfig whose user entry is `user` (YAML lines indented under `user:`). Returns its path. */
export function writeConfig(server: string, caPem: string, user: string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'kubewire-kc-')), 'config');
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: test',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(caPem)}`,
    'users:',
    '- name: test-user',
    '  user:',
    ...(user.length ? user : ['    {}']),
    'contexts:',
    '- name: test',
    '  context:',
    '    cluster: test',
    '    user: test-user',
    '    namespace: default',
    'current-context: test',
    '',
  ].join('\n');
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}
