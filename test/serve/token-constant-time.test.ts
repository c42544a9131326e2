/**
 * The token table compares a presented token with every entry, wherever the
 * match is and whether there is one: the number of constant-time
 * comparisons never depends on the token.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

const compared = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return {
    ...real,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      compared.count++;
      return real.timingSafeEqual(a, b);
    },
  };
});

const { TokenTable } = await import('../../src/serve/identity/tokens.js');

describe('TokenTable lookup is constant-time in the number of comparisons', () => {
  afterEach(() => {
    compared.count = 0;
  });
  const records = Array.from({ length: 7 }, (_, i) => ({ token: `token-${i}`, user: `user-${i}`, uid: '', groups: [] }));
  const table = new TokenTable(records);

  for (const [label, token, user] of [
    ['match at the first entry', 'token-0', 'user-0'],
    ['match at the last entry', 'token-6', 'user-6'],
    ['no match', 'token-x', null],
    ['empty token', '', null],
  ] as const) {
    it(`${label}: compares all ${records.length} entries`, () => {
      expect(table.lookup(token)?.user ?? null).toBe(user);
      expect(compared.count).toBe(records.length);
    });
  }

  it('a repeated token resolves to its last entry, still after all comparisons', () => {
    const dup = new TokenTable([...records, { token: 'token-2', user: 'later', uid: '', groups: [] }]);
    expect(dup.lookup('token-2')?.user).toBe('later');
    expect(compared.count).toBe(records.length + 1);
  });
});
