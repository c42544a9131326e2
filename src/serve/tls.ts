/**
 * A self-signed certificate for `kubewire serve --tls` when none is given,
 * made with the `openssl` command (Node cannot create X.509 certificates
 * itself, and we add no dependency for it). The certificate names the
 * listening address and localhost, so clients can verify it with the
 * kubeconfig's `certificate-authority-data` instead of skipping verification.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

export function generateSelfSigned(host: string): TlsMaterial {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-tls-'));
  try {
    const names = new Set(['DNS:localhost', 'IP:127.0.0.1', 'IP:::1']);
    if (isIP(host)) names.add(`IP:${host}`);
    else if (host) names.add(`DNS:${host}`);
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
        '-days', '30', '-subj', '/CN=kubewire serve',
        '-addext', `subjectAltName=${[...names].join(',')}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
