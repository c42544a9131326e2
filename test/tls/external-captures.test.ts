/**
 * Real TLS captures made by others (../shared/external-captures): our
 * decryption gives the plaintext tshark gives with the same key log.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { which } from '../capture/live-helpers.js';
import { decryptCapture, sharedFile, tsharkDecrypted } from './helpers.js';

const CASES = [
  { capture: 'Lekensteyn__wireshark-notes__http-chunked-ssl.pcapng', keylog: 'Lekensteyn__wireshark-notes__http-chunked-ssl.keylog-extracted-from-capture-comment.txt', version: 'TLS 1.2', suite: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' },
  { capture: 'syncsynchalt__illustrated-tls12__capture.pcap', keylog: 'syncsynchalt__illustrated-tls12__keylog.txt', version: 'TLS 1.2', suite: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA' },
  { capture: 'syncsynchalt__illustrated-tls13__capture.pcap', keylog: 'syncsynchalt__illustrated-tls13__keylog.txt', version: 'TLS 1.3', suite: 'TLS_AES_256_GCM_SHA384' },
];

const tshark = which('tshark');
if (!tshark) console.warn('tshark not found: skipping the comparison of TLS plaintext with tshark');

describe('external TLS captures', () => {
  for (const c of CASES) {
    const capture = sharedFile('external-captures', c.capture);
    const keylog = sharedFile('external-captures', c.keylog);
    if (!capture || !keylog) {
      it.skip(`${c.capture} (../shared/external-captures not present)`, () => {});
      continue;
    }
    it(`${c.capture}: decrypted, described, no diagnostics`, () => {
      const conns = [...decryptCapture(capture, readFileSync(keylog, 'utf8')).values()];
      expect(conns).toHaveLength(1);
      const d = conns[0]!;
      expect(d.description).toMatchObject({ version: c.version, cipherSuite: c.suite, decrypted: true, reason: null, recordsFailed: 0 });
      expect(d.diagnostics).toEqual([]);
      expect(d.clientToServer.length).toBeGreaterThan(0);
      expect(d.serverToClient.length).toBeGreaterThan(0);
    });
    it.skipIf(!tshark)(`${c.capture}: the same plaintext as tshark with the same key log`, () => {
      const ours = [...decryptCapture(capture, readFileSync(keylog, 'utf8')).values()];
      const theirs = tsharkDecrypted(capture, keylog);
      expect(theirs).toHaveLength(ours.length);
      ours.forEach((o, i) => {
        const t = theirs[i]!;
        const [fromClient, fromServer] = t.node0 === o.client ? [t.first, t.second] : [t.second, t.first];
        expect(o.clientToServer.toString('hex')).toBe(fromClient.toString('hex'));
        expect(o.serverToClient.toString('hex')).toBe(fromServer.toString('hex'));
      });
    });
    it(`${c.capture}: without the key, described and "no key"`, () => {
      const d = [...decryptCapture(capture).values()][0]!;
      expect(d.description).toMatchObject({ version: c.version, decrypted: false, reason: 'no-key' });
      expect(d.clientToServer.length + d.serverToClient.length).toBe(0);
    });
  }
});
