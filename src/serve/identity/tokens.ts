/**
 * Bearer tokens of `--token` and `--token-file`, looked up in constant time:
 * the presented token and every known token are SHA-256 hashed, and the
 * presented digest is compared with every entry's (no early exit), so the
 * timing says neither which entry matched, nor how long a token is, nor how
 * much of a prefix was right.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { TokenRecord } from './token-file.js';

/** Who a token names (kube-apiserver's user.Info, minus extra). */
export interface TokenUser {
  user: string;
  uid: string;
  groups: string[];
}

interface Entry {
  digest: Buffer;
  who: TokenUser;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export class TokenTable {
  private readonly entries: Entry[];

  constructor(records: ReadonlyArray<Pick<TokenRecord, 'token' | 'user' | 'uid' | 'groups'>>) {
    // Tokens themselves are not kept: only their digests.
    this.entries = records.map((r) => ({ digest: sha256(r.token), who: { user: r.user, uid: r.uid, groups: [...r.groups] } }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The user of `token`, or null. A later entry with the same token wins (as in the apiserver's map). */
  lookup(token: string): TokenUser | null {
    const given = sha256(token);
    let found: TokenUser | null = null;
    for (const e of this.entries) {
      const same = timingSafeEqual(given, e.digest);
      found = same ? e.who : found;
    }
    return found;
  }
}

/**
 * The token of an `Authorization: Bearer <token>` header, as the
 * apiserver's bearer-token authenticator reads it (scheme case-insensitive,
 * one space-free token), or null when the header carries no bearer token.
 */
export function bearerToken(authorization: string | undefined): string | null {
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return m ? m[1]! : null;
}

/** Whether `authorization` carries the bearer `token` (one-entry table: same constant-time check). */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const given = bearerToken(authorization);
  const found = new TokenTable([{ token, user: '', uid: '', groups: [] }]).lookup(given ?? '');
  return found !== null && given !== null;
}
