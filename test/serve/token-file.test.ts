/** `--token-file` parsing (kube-apiserver's --token-auth-file CSV) and the token table's lookup. */
import { describe, expect, it } from 'vitest';
import { KubewireError } from '../../src/common/errors.js';
import { TokenTable, bearerToken, parseTokenFile } from '../../src/serve/identity/index.js';

function parseError(text: string): KubewireError {
  try {
    parseTokenFile(text, 'tokens.csv');
  } catch (e) {
    expect(e).toBeInstanceOf(KubewireError);
    return e as KubewireError;
  }
  throw new Error('expected the file to be rejected');
}

describe('parseTokenFile', () => {
  it('reads token,user,uid and quoted groups; groups are optional', () => {
    const f = parseTokenFile('t1,alice,u1,"dev,ops"\nt2,bob,u2\nt3,carol,u3,solo\n', 'tokens.csv');
    expect(f.warnings).toEqual([]);
    expect(f.records).toEqual([
      { token: 't1', user: 'alice', uid: 'u1', groups: ['dev', 'ops'], line: 1 },
      { token: 't2', user: 'bob', uid: 'u2', groups: [], line: 2 },
      { token: 't3', user: 'carol', uid: 'u3', groups: ['solo'], line: 3 },
    ]);
  });

  it('skips blank lines, takes CRLF, a missing final newline, "" inside quotes and ignores columns after the fourth', () => {
    const f = parseTokenFile('\r\n\nt1,"al ""ice""",u1,"a,b",extra\r\n\n\nt2,bob,,', 'tokens.csv');
    expect(f.records).toEqual([
      { token: 't1', user: 'al "ice"', uid: 'u1', groups: ['a', 'b'], line: 3 },
      { token: 't2', user: 'bob', uid: '', groups: [''], line: 6 },
    ]);
  });

  it('counts lines inside a quoted field that spans lines', () => {
    const f = parseTokenFile('t1,"multi\nline",u1\nt2,bob,u2\n', 'tokens.csv');
    expect(f.records.map((r) => [r.user, r.line])).toEqual([
      ['multi\nline', 1],
      ['bob', 3],
    ]);
  });

  it('a record with fewer than 3 columns is an error naming the file and the line', () => {
    const e = parseError('t1,alice,u1\n\nt2,bob\n');
    expect(e.code).toBe('SERVE_TOKEN_FILE_INVALID');
    expect(e.message).toBe('tokens.csv line 3: need at least 3 columns (token, user name, uid), found 2');
  });

  it('quoting mistakes are errors naming the line', () => {
    expect(parseError('t1,alice,u1\nt2,b"ob,u2\n').message).toMatch(/^tokens\.csv line 2: a quote inside an unquoted field/);
    expect(parseError('t1,"alice"x,u1\n').message).toMatch(/^tokens\.csv line 1: unexpected text after the closing quote/);
    expect(parseError('t1,alice,u1\nt2,"bob,u2\n').message).toBe('tokens.csv line 2: quoted field not closed');
  });

  it('an empty token is skipped and a repeated token keeps its last record, both with a warning that shows no token', () => {
    const f = parseTokenFile(',nobody,u0\nsecret-1,alice,u1\nsecret-1,alice2,u2\n', 'tokens.csv');
    expect(f.records.map((r) => r.user)).toEqual(['alice2']);
    expect(f.warnings).toEqual([
      'tokens.csv line 1: empty token, record skipped',
      'tokens.csv line 3: same token as line 2; this record replaces it',
    ]);
    expect(f.warnings.join('\n')).not.toContain('secret-1');
  });

  it('an empty file has no records', () => {
    expect(parseTokenFile('', 'tokens.csv').records).toEqual([]);
    expect(parseTokenFile('\n\n', 'tokens.csv').records).toEqual([]);
  });
});

describe('TokenTable', () => {
  const table = new TokenTable([
    { token: 'alpha-token', user: 'alice', uid: 'u1', groups: ['dev'] },
    { token: 'beta-token', user: 'bob', uid: 'u2', groups: [] },
  ]);

  it('finds each user by its token', () => {
    expect(table.lookup('alpha-token')).toEqual({ user: 'alice', uid: 'u1', groups: ['dev'] });
    expect(table.lookup('beta-token')).toEqual({ user: 'bob', uid: 'u2', groups: [] });
  });

  it('a prefix, an extension, another case or an empty string matches nobody', () => {
    for (const t of ['alpha', 'alpha-token2', 'ALPHA-TOKEN', '', 'beta-token ']) expect(table.lookup(t)).toBeNull();
  });

  it('keeps no token, only digests', () => {
    expect(JSON.stringify(table)).not.toContain('alpha-token');
    expect(JSON.stringify(table)).not.toContain('beta-token');
  });
});

describe('bearerToken', () => {
  it('reads the token of a Bearer header, scheme in any case', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic YWxhZGRpbjpvcGVuc2VzYW1l')).toBeNull();
    expect(bearerToken('Bearer ')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});
