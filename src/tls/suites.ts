/**
 * Cipher suites: the ones we decrypt, and names for the ones we only name.
 * A suite we decrypt is an AEAD (AES-GCM or ChaCha20-Poly1305); with a key
 * log the key exchange does not matter (the log gives the secrets), so TLS
 * 1.2's RSA, DHE and ECDHE suites are all the same to us. TLS 1.2's AES-CBC
 * suites (MAC then encrypt) are opened too; 3DES, RC4, CCM and the
 * encrypt_then_mac extension are not.
 */
export type AeadName = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305' | 'aes-128-cbc' | 'aes-256-cbc';
export type HashName = 'sha256' | 'sha384';
export type MacName = 'sha1' | 'sha256' | 'sha384';

export interface AeadSuite {
  id: number;
  name: string;
  aead: AeadName;
  hash: HashName;
  keyLength: number;
  /** TLS 1.2: bytes of the IV from the key block (4: GCM salt, RFC 5288; 12: ChaCha20, RFC 7905). */
  fixedIvLength: number;
  tls13: boolean;
  /** TLS 1.2 CBC suites (MAC then encrypt, RFC 5246 §6.2.3.2): the record MAC. */
  mac?: MacName;
  macLength: number;
}

function cbc(id: number, name: string, bits: 128 | 256, mac: MacName): AeadSuite {
  const macLength = mac === 'sha1' ? 20 : mac === 'sha256' ? 32 : 48;
  return { id, name, aead: bits === 128 ? 'aes-128-cbc' : 'aes-256-cbc', hash: mac === 'sha384' ? 'sha384' : 'sha256', keyLength: bits / 8, fixedIvLength: 16, tls13: false, mac, macLength };
}

function suite(id: number, name: string, aead: AeadName, hash: HashName, tls13: boolean): AeadSuite {
  const keyLength = aead === 'aes-128-gcm' ? 16 : 32;
  return { id, name, aead, hash, keyLength, fixedIvLength: tls13 || aead === 'chacha20-poly1305' ? 12 : 4, tls13, macLength: 0 };
}

const AEAD_SUITES: AeadSuite[] = [
  suite(0x1301, 'TLS_AES_128_GCM_SHA256', 'aes-128-gcm', 'sha256', true),
  suite(0x1302, 'TLS_AES_256_GCM_SHA384', 'aes-256-gcm', 'sha384', true),
  suite(0x1303, 'TLS_CHACHA20_POLY1305_SHA256', 'chacha20-poly1305', 'sha256', true),
  suite(0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'aes-128-gcm', 'sha256', false),
  suite(0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'aes-256-gcm', 'sha384', false),
  suite(0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'aes-128-gcm', 'sha256', false),
  suite(0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'aes-256-gcm', 'sha384', false),
  suite(0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'chacha20-poly1305', 'sha256', false),
  suite(0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'chacha20-poly1305', 'sha256', false),
  suite(0xccaa, 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'chacha20-poly1305', 'sha256', false),
  suite(0x009e, 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', 'aes-128-gcm', 'sha256', false),
  suite(0x009f, 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', 'aes-256-gcm', 'sha384', false),
  suite(0x009c, 'TLS_RSA_WITH_AES_128_GCM_SHA256', 'aes-128-gcm', 'sha256', false),
  suite(0x009d, 'TLS_RSA_WITH_AES_256_GCM_SHA384', 'aes-256-gcm', 'sha384', false),
  cbc(0x002f, 'TLS_RSA_WITH_AES_128_CBC_SHA', 128, 'sha1'),
  cbc(0x0035, 'TLS_RSA_WITH_AES_256_CBC_SHA', 256, 'sha1'),
  cbc(0x003c, 'TLS_RSA_WITH_AES_128_CBC_SHA256', 128, 'sha256'),
  cbc(0x003d, 'TLS_RSA_WITH_AES_256_CBC_SHA256', 256, 'sha256'),
  cbc(0x0033, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA', 128, 'sha1'),
  cbc(0x0039, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA', 256, 'sha1'),
  cbc(0x0067, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256', 128, 'sha256'),
  cbc(0x006b, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256', 256, 'sha256'),
  cbc(0xc009, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 128, 'sha1'),
  cbc(0xc00a, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 256, 'sha1'),
  cbc(0xc013, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 128, 'sha1'),
  cbc(0xc014, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 256, 'sha1'),
  cbc(0xc023, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 128, 'sha256'),
  cbc(0xc024, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384', 256, 'sha384'),
  cbc(0xc027, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 128, 'sha256'),
  cbc(0xc028, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384', 256, 'sha384'),
];

/** Names of common suites we do not decrypt, for the "not supported" diagnostic. */
const OTHER_NAMES: Record<number, string> = {
  0x000a: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
  0x0005: 'TLS_RSA_WITH_RC4_128_SHA',
  0xc012: 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA',
  0x1304: 'TLS_AES_128_CCM_SHA256',
  0x1305: 'TLS_AES_128_CCM_8_SHA256',
  0xc09c: 'TLS_RSA_WITH_AES_128_CCM',
  0xc0ac: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM',
};

const BY_ID = new Map(AEAD_SUITES.map((s) => [s.id, s]));

/** The suite we can decrypt, or undefined. */
export function aeadSuite(id: number): AeadSuite | undefined {
  return BY_ID.get(id);
}

/** IANA name of a suite, or its number in hex. */
export function suiteName(id: number): string {
  return BY_ID.get(id)?.name ?? OTHER_NAMES[id] ?? `0x${id.toString(16).padStart(4, '0')}`;
}

export function versionName(v: number): string {
  switch (v) {
    case 0x0304:
      return 'TLS 1.3';
    case 0x0303:
      return 'TLS 1.2';
    case 0x0302:
      return 'TLS 1.1';
    case 0x0301:
      return 'TLS 1.0';
    case 0x0300:
      return 'SSL 3.0';
    default:
      return `0x${v.toString(16).padStart(4, '0')}`;
  }
}
