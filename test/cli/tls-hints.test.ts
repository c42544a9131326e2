/**
 * The closing line of a text summary with TLS that was not decrypted says
 * what would help. Through a real API server, `tap --tls-keylog` decrypts the
 * tap's hop but not the API server's hop to the kubelet: the summary must not
 * then ask for `--tls-keylog` again as if no keys had been given.
 */
import { describe, expect, it } from 'vitest';
import { renderSummary } from '../../src/cli/output/index.js';
import { createChalk } from '../../src/cli/output/style.js';
import { TLS_HANDSHAKE_HINT, TLS_KEYS_HINT, tlsHints } from '../../src/cli/output/tls-text.js';
import type { DecodeSummary } from '../../src/timeline/index.js';
import type { TlsConnectionSummary } from '../../src/timeline/summary-types.js';

function tlsConnection(connection: number, server: string, decrypted: boolean, reason: TlsConnectionSummary['reason']): TlsConnectionSummary {
  return {
    connection,
    client: `127.0.0.1:${40000 + connection}`,
    server,
    tunnel: null,
    version: 'TLS 1.3',
    serverName: null,
    alpnOffered: ['http/1.1'],
    alpn: decrypted ? 'http/1.1' : null,
    cipherSuite: 'TLS_AES_128_GCM_SHA256',
    decrypted,
    reason: decrypted ? null : reason,
    resumed: false,
    extendedMasterSecret: false,
    helloRetryRequest: false,
    recordsDecrypted: decrypted ? 4 : 0,
    recordsFailed: 0,
  };
}

function summaryWith(tls: TlsConnectionSummary[]): DecodeSummary {
  return {
    sessions: [],
    requests: [],
    connections: tls.length,
    diagnostics: 0,
    dropped: { connections: 0, sessions: 0, requests: 0 },
    tlsConnections: tls,
  };
}

const API = '127.0.0.1:6443';
const KUBELET = '127.0.0.1:10250';

describe('TLS hints at the end of a summary', () => {
  it('no connection decrypted and no key: ask for a key log', () => {
    expect(tlsHints([tlsConnection(1, API, false, 'no-key')])).toEqual([TLS_KEYS_HINT]);
  });

  it("the tap's hop decrypted, the kubelet hop without keys: names the kubelet hop and does not ask for --tls-keylog again", () => {
    const tls = [
      tlsConnection(1, API, true, null),
      tlsConnection(2, KUBELET, false, 'no-key'),
      tlsConnection(3, API, true, null),
      tlsConnection(4, KUBELET, false, 'no-key'),
    ];
    const hints = tlsHints(tls);
    expect(hints).toHaveLength(1);
    expect(hints[0]).not.toBe(TLS_KEYS_HINT);
    expect(hints[0]).toMatch(/^2 TLS connections have no secrets in the keys given \(to 127\.0\.0\.1:10250\): /);
    expect(hints[0]).toMatch(/not the API server's to a kubelet/);
    const last = renderSummary(summaryWith(tls), createChalk(false)).trimEnd().split('\n').pop();
    expect(last).toBe(hints[0]);
  });

  it('names at most three servers, one line each kind of hint', () => {
    const tls = [
      tlsConnection(1, API, true, null),
      ...[1, 2, 3, 4].map((i) => tlsConnection(10 + i, `10.0.0.${i}:10250`, false, 'no-key')),
      tlsConnection(20, API, false, 'handshake-not-captured'),
    ];
    const hints = tlsHints(tls);
    expect(hints).toEqual([expect.stringMatching(/^4 TLS connections have .*\(to 10\.0\.0\.1:10250, 10\.0\.0\.2:10250, 10\.0\.0\.3:10250, …\)/), TLS_HANDSHAKE_HINT]);
  });

  it('keys given that cover no connection: says so instead of asking for --tls-keylog', () => {
    const tls = [tlsConnection(1, KUBELET, false, 'no-key')];
    expect(tlsHints(tls, true)).toEqual([expect.stringMatching(/^1 TLS connection has no secrets in the keys given \(to 127\.0\.0\.1:10250\)/)]);
    expect(tlsHints(tls, false)).toEqual([TLS_KEYS_HINT]);
    const last = renderSummary(summaryWith(tls), createChalk(false), [], 0, false, true).trimEnd().split('\n').pop();
    expect(last).toMatch(/^1 TLS connection has no secrets in the keys given/);
  });

  it('one connection: singular', () => {
    expect(tlsHints([tlsConnection(1, API, true, null), tlsConnection(2, KUBELET, false, 'no-key')])[0]).toMatch(/^1 TLS connection has no secrets/);
  });
});
