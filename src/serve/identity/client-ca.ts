/**
 * The `--client-ca` bundle: one or more PEM certificates. Checked up front,
 * because Node's TLS layer skips what it cannot parse and a server that
 * trusts nothing would refuse every client with no hint why.
 */
import { X509Certificate } from 'node:crypto';
import { KubewireError } from '../../common/errors.js';
import { printable } from '../../common/printable.js';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The bundle as PEM text; throws `SERVE_CLIENT_CA_INVALID` naming `name` when it holds no usable certificate. */
export function loadClientCa(pem: string | Buffer, name: string): string {
  const text = Buffer.isBuffer(pem) ? pem.toString('utf8') : pem;
  const blocks = text.match(PEM_CERT) ?? [];
  const bad = (why: string) => new KubewireError('serve', 'SERVE_CLIENT_CA_INVALID', 'file', `${printable(name)}: ${why}`);
  if (blocks.length === 0) throw bad('no PEM certificate (-----BEGIN CERTIFICATE-----) found');
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (e) {
      throw bad(`certificate ${i + 1} cannot be parsed (${e instanceof Error ? e.message : String(e)})`);
    }
  });
  return blocks.join('\n') + '\n';
}
