/**
 * Traffic keys from logged secrets.
 *
 * TLS 1.3 (RFC 8446 §7.1, §7.3): key = HKDF-Expand-Label(secret, "key", "", key length),
 * iv = HKDF-Expand-Label(secret, "iv", "", 12); KeyUpdate (§7.2): the next
 * secret is HKDF-Expand-Label(secret, "traffic upd", "", hash length).
 * HkdfLabel = uint16 length ‖ opaque label<7..255> ("tls13 " + label) ‖ opaque context<0..255>.
 *
 * TLS 1.2 (RFC 5246 §5, §6.3): key_block = PRF(master_secret, "key expansion",
 * server_random ‖ client_random), with P_hash over the suite's hash, cut into
 * client/server MAC keys (none for AEAD), client/server keys, client/server IVs.
 */
import { createHmac } from 'node:crypto';
import type { AeadSuite, HashName } from './suites.js';

const HASH_LENGTH: Record<HashName, number> = { sha256: 32, sha384: 48 };

export function hashLength(h: HashName): number {
  return HASH_LENGTH[h];
}

export function hkdfExpandLabel(hash: HashName, secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
  const full = Buffer.from('tls13 ' + label, 'latin1');
  const info = Buffer.alloc(2 + 1 + full.length + 1 + context.length);
  info.writeUInt16BE(length, 0);
  info[2] = full.length;
  full.copy(info, 3);
  info[3 + full.length] = context.length;
  info.set(context, 4 + full.length);
  return expand(hash, secret, info, length);
}

/** HKDF-Expand (RFC 5869 §2.3) alone: node's hkdfSync always extracts first, so expand by hand. */
function expand(hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let prev: Uint8Array = new Uint8Array(0);
  let done = 0;
  for (let i = 1; done < length; i++) {
    const h = createHmac(hash, prk);
    h.update(prev);
    h.update(info);
    h.update(Uint8Array.of(i));
    prev = h.digest();
    out.set(prev.subarray(0, Math.min(prev.length, length - done)), done);
    done += prev.length;
  }
  return out;
}

export interface TrafficKeys {
  key: Uint8Array;
  iv: Uint8Array;
  /** TLS 1.2 CBC suites only. */
  macKey?: Uint8Array;
}

export function tls13Keys(suite: AeadSuite, secret: Uint8Array): TrafficKeys {
  const none = new Uint8Array(0);
  return { key: hkdfExpandLabel(suite.hash, secret, 'key', none, suite.keyLength), iv: hkdfExpandLabel(suite.hash, secret, 'iv', none, 12) };
}

export function tls13NextSecret(suite: AeadSuite, secret: Uint8Array): Uint8Array {
  return hkdfExpandLabel(suite.hash, secret, 'traffic upd', new Uint8Array(0), HASH_LENGTH[suite.hash]);
}

/** TLS 1.2 PRF: P_hash(secret, label ‖ seed). */
export function prf12(hash: HashName, secret: Uint8Array, label: string, seed: Uint8Array, length: number): Uint8Array {
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const out = new Uint8Array(length);
  let a: Uint8Array = labelSeed;
  let done = 0;
  while (done < length) {
    a = createHmac(hash, secret).update(a).digest();
    const p = createHmac(hash, secret).update(a).update(labelSeed).digest();
    out.set(p.subarray(0, Math.min(p.length, length - done)), done);
    done += p.length;
  }
  return out;
}

export function tls12Keys(suite: AeadSuite, master: Uint8Array, clientRandom: Uint8Array, serverRandom: Uint8Array): { client: TrafficKeys; server: TrafficKeys } {
  const m = suite.macLength;
  const k = suite.keyLength;
  const iv = suite.fixedIvLength;
  const block = prf12(suite.hash, master, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * m + 2 * k + 2 * iv);
  const kAt = 2 * m;
  const ivAt = kAt + 2 * k;
  return {
    client: { key: block.slice(kAt, kAt + k), iv: block.slice(ivAt, ivAt + iv), macKey: block.slice(0, m) },
    server: { key: block.slice(kAt + k, kAt + 2 * k), iv: block.slice(ivAt + iv, ivAt + 2 * iv), macKey: block.slice(m, 2 * m) },
  };
}

