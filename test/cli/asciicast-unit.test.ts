/** The asciicast recorder on hand-made events: UTF-8 split across events, the default size, times. */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { asciicastTitle, createAsciicastOutput } from '../../src/cli/output/asciicast.js';
import { createFilter } from '../../src/cli/output/filter.js';
import type { DecodeSummary, TimelineEvent } from '../../src/timeline/index.js';

const T0 = 1_700_000_000_250_000;
const s = { connection: 1, session: 1 };
const start: TimelineEvent = { kind: 'session-start', ...s, time: T0, sessionKind: 'exec', transport: 'websocket', protocol: 'v5.channel.k8s.io', application: 'kubernetes', hop: 'client-apiserver', nodeProxy: null, namespace: 'ns', pod: 'p', container: 'c', command: ['sh', '-i'], stdin: true, stdout: true, stderr: false, tty: true, inferred: false, retryOf: null };
const out = (dt: number, bytes: number[]): TimelineEvent => ({ kind: 'stream-data', ...s, time: T0 + dt, direction: 'serverToClient', streamId: 1, role: 'stdout', bytes: new Uint8Array(bytes), offset: 0 });
const EMPTY: DecodeSummary = { sessions: [], requests: [], connections: 0, diagnostics: 0, dropped: { connections: 0, sessions: 0, requests: 0 } };

const tmp = mkdtempSync(join(tmpdir(), 'kubewire-cast-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('asciicast recorder', () => {
  it('keeps a UTF-8 character split across two events whole, and takes 80x24 without a resize', async () => {
    const dir = join(tmp, 'split');
    const o = createAsciicastOutput(dir, { all: false, stdin: false }, createFilter({}));
    // "é" is C3 A9: the two bytes arrive in two events; a stray byte goes back in time (capture clock step).
    for (const ev of [start, out(1_000, [0x61, 0xc3]), out(2_500_000, [0xa9, 0x0a]), out(2_000_000, [0x62])]) o.event(ev);
    await o.finish(EMPTY);
    expect(readdirSync(dir)).toEqual(['session1.cast']);
    const [header, ...events] = readFileSync(join(dir, 'session1.cast'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(header).toMatchObject({ version: 2, width: 80, height: 24, timestamp: 1_700_000_000, title: 'ns/p (c): sh -i' });
    expect(events).toEqual([
      [0.001, 'o', 'a'],
      [2.5, 'o', 'é\n'],
      [2.5, 'o', 'b'],
    ]);
  });

  it('names the session when the pod is not known', () => {
    expect(asciicastTitle({ session: 4, namespace: null, pod: null, container: null, command: [], sessionKind: 'attach' })).toBe('session 4: attach');
  });
});
