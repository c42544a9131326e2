/**
 * `kubewire decode` reads a file into a few recycled buffers. That is only
 * safe if no layer above the reader keeps a view of a read buffer past the
 * call that delivered it. Read in small chunks, buffers are overwritten many
 * times per capture: every output form, with payloads (`--bytes`), the
 * transcript and `--extract`, must be byte for byte what one read of the
 * whole file gives, on every fixture (TLS ones decrypted with their key logs).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runDecode, type DecodeArgs } from '../../src/cli/decode-run.js';
import { FIXTURES, fixtureTruths } from '../helpers/fixture-truths.js';

const work = mkdtempSync(join(tmpdir(), 'kubewire-recycled-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function sink(): { stream: Writable; text: () => string } {
  const parts: Buffer[] = [];
  return {
    stream: new Writable({
      write(c: Buffer, _e, cb) {
        parts.push(Buffer.from(c));
        cb();
      },
    }),
    text: () => Buffer.concat(parts).toString('latin1'),
  };
}

async function decode(args: Partial<DecodeArgs> & { input: string }, readChunkBytes: number): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const full: DecodeArgs = { summary: false, json: false, ndjson: false, follow: false, showSecrets: false, bytes: false, progress: false, ...args };
  const code = await runDecode(full, { stdout: out.stream, stderr: err.stream, env: {}, readChunkBytes, digestWorker: null });
  return { code, out: out.text(), err: err.text() };
}

const captures = [
  ...fixtureTruths().map((t) => ({ name: t.truth.name, capture: t.capture, keylog: undefined as string | undefined })),
  ...readdirSync(join(FIXTURES, 'tls'))
    .filter((f) => f.endsWith('.pcapng'))
    .map((f) => ({ name: `tls/${f}`, capture: join(FIXTURES, 'tls', f), keylog: join(FIXTURES, 'tls', f.replace(/\.pcapng$/, '.keylog.txt')) })),
];

const FORMS: Array<[string, Partial<DecodeArgs>]> = [
  ['--summary --json', { summary: true, json: true }],
  ['--json --bytes', { json: true, bytes: true }],
  ['--ndjson --bytes', { ndjson: true, bytes: true }],
  ['--follow', { follow: true }],
  ['timeline', {}],
];

describe('decode with recycled read buffers', () => {
  for (const c of captures) {
    it(`${c.name}: small recycled reads give what one read gives`, async () => {
      const whole = statSync(c.capture).size + 1;
      const tls = c.keylog ? { tlsKeylog: [c.keylog] } : {};
      for (const [form, args] of FORMS) {
        const one = await decode({ input: c.capture, ...tls, ...args }, whole);
        for (const chunk of [997, 4096]) {
          const small = await decode({ input: c.capture, ...tls, ...args }, chunk);
          expect({ form, chunk, code: small.code, err: small.err }).toEqual({ form, chunk, code: one.code, err: one.err });
          expect(small.out.length, `${form}, ${chunk}-byte reads`).toBe(one.out.length);
          expect(small.out === one.out, `${form}, ${chunk}-byte reads`).toBe(true);
        }
      }
      const dirs = [whole, 1000].map((chunk) => join(work, `${c.name.replace(/\W/g, '_')}-${chunk}`));
      for (const [i, chunk] of [whole, 1000].entries()) await decode({ input: c.capture, ...tls, summary: true, extract: dirs[i] }, chunk);
      const files = readdirSync(dirs[0]!).sort();
      expect(readdirSync(dirs[1]!).sort()).toEqual(files);
      for (const f of files) expect(readFileSync(join(dirs[1]!, f)).equals(readFileSync(join(dirs[0]!, f))), f).toBe(true);
    });
  }
});
