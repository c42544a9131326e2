/**
 * A throwaway certificate for the tap's TLS listener when the user gives
 * none: EC P-256, self-signed, valid for loopback names and the addresses
 * given. kubectl trusts it through `certificate-authority-data` in the
 * kubeconfig snippet the tap prints, so nothing needs `insecure`.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';
import * as der from './der.js';

export interface SelfSigned {
  /** PEM certificate (also the CA to trust). */
  cert: string;
  /** PEM PKCS#8 private key. */
  key: string;
}

export interface SelfSignedOptions {
  /** DNS names and IP addresses to put in subjectAltName, besides localhost, 127.0.0.1 and ::1. */
  names?: string[];
  commonName?: string;
  /** Validity in days from now. Default 30. */
  days?: number;
  now?: Date;
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** keyUsage bits digitalSignature (0) and keyCertSign (5): 1000 0100, two trailing bits unused. */
const KEY_USAGE_BITS = Uint8Array.of(0x84);
const KEY_USAGE_UNUSED = 2;

export function generateSelfSigned(opts: SelfSignedOptions = {}): SelfSigned {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const now = opts.now ?? new Date();
  // An hour of slack for clocks that disagree a little.
  const notBefore = new Date(now.getTime() - 3600_000);
  const notAfter = new Date(now.getTime() + (opts.days ?? 30) * 86400_000);
  const name = der.sequence(der.set(der.sequence(der.oid(OID.commonName), der.utf8String(opts.commonName ?? 'kubewire tap'))));
  const algorithm = der.sequence(der.oid(OID.ecdsaWithSha256));
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;

  const tbs = der.sequence(
    der.explicit(0, der.smallInteger(2)), // v3
    der.unsignedInteger(serial),
    algorithm,
    name,
    der.sequence(der.time(notBefore), der.time(notAfter)),
    name,
    spki,
    der.explicit(
      3,
      der.sequence(
        extension(OID.basicConstraints, true, der.sequence(der.boolean(true))),
        extension(OID.keyUsage, true, der.bitString(KEY_USAGE_BITS, KEY_USAGE_UNUSED)),
        extension(OID.extKeyUsage, false, der.sequence(der.oid(OID.serverAuth))),
        extension(OID.subjectAltName, false, subjectAltNames(opts.names ?? [])),
      ),
    ),
  );
  const signature = new Uint8Array(sign('sha256', tbs, privateKey));
  const cert = der.sequence(tbs, algorithm, der.bitString(signature));
  return {
    cert: pem('CERTIFICATE', cert),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? der.sequence(der.oid(id), der.boolean(true), der.octetString(value))
    : der.sequence(der.oid(id), der.octetString(value));
}

function subjectAltNames(extra: string[]): Uint8Array {
  const names = new Set(['localhost', '127.0.0.1', '::1', ...extra]);
  const general: Uint8Array[] = [];
  for (const n of names) {
    if (!n) continue;
    const ip = ipBytes(n);
    // GeneralName: dNSName [2] IA5String, iPAddress [7] OCTET STRING.
    if (ip) general.push(der.implicitPrimitive(7, ip));
    else general.push(der.implicitPrimitive(2, new TextEncoder().encode(n)));
  }
  return der.sequence(...general);
}

function ipBytes(text: string): Uint8Array | null {
  const v = isIP(text);
  if (v === 4) return Uint8Array.from(text.split('.').map(Number));
  if (v !== 6) return null;
  // Expand '::' and any trailing dotted IPv4 into eight 16-bit groups.
  let t = text;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (dotted) {
    const b = dotted[1]!.split('.').map(Number);
    t = t.slice(0, -dotted[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = t.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v16 = parseInt(g, 16);
    out[2 * i] = v16 >> 8;
    out[2 * i + 1] = v16 & 0xff;
  });
  return out;
}

function pem(label: string, bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
