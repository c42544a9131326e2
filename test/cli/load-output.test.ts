/**
 * `loadOutput` (what `kubewire decode` uses, loading one renderer) writes
 * byte for byte what `createOutput` (every renderer loaded) writes, for every
 * output form, in colour and without, filtered and not, on real fixtures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createOutput, loadOutput, type OutputFormat, type OutputOptions } from '../../src/cli/output/index.js';
import { decodeCaptureBytes } from '../../src/tcp/index.js';
import { FIXTURES } from '../helpers/fixture-truths.js';
import { SessionDecoder, type DecodeSummary, type TimelineEvent } from '../../src/timeline/index.js';


function decodeFixture(name: string, frameEvents: boolean): { events: TimelineEvent[]; summary: DecodeSummary } {
  const decoder = new SessionDecoder({ frameEvents });
  const events: TimelineEvent[] = [];
  for (const ev of decodeCaptureBytes(readFileSync(join(FIXTURES, name)))) events.push(...decoder.push(ev));
  events.push(...decoder.finish());
  return { events, summary: decoder.summary() };
}

async function render(make: (o: OutputOptions) => Promise<unknown> | unknown, opts: Omit<OutputOptions, 'stdout'>, input: { events: TimelineEvent[]; summary: DecodeSummary }): Promise<string> {
  const chunks: Buffer[] = [];
  const stdout = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(Buffer.from(c));
      cb();
    },
  });
  const out = (await make({ ...opts, stdout })) as ReturnType<typeof createOutput>;
  for (const ev of input.events) out.event(ev);
  await out.finish(input.summary);
  return Buffer.concat(chunks).toString('latin1');
}

const FORMS: Array<{ format: OutputFormat; summaryJson?: boolean; bytes?: boolean }> = [
  { format: 'timeline' },
  { format: 'summary' },
  { format: 'summary', summaryJson: true },
  { format: 'json', summaryJson: true },
  { format: 'json' },
  { format: 'json', bytes: true },
  { format: 'ndjson' },
  { format: 'follow' },
];

describe('loadOutput', () => {
  for (const fixture of ['k127-exec-tty.pcap', 'k133-exec-ws.pcapng', 'k127-portforward.pcap']) {
    it(`writes what createOutput writes: ${fixture}`, async () => {
      const input = decodeFixture(fixture, true);
      expect(input.events.length).toBeGreaterThan(0);
      for (const form of FORMS) {
        for (const color of [false, true]) {
          for (const filters of [{}, { role: ['stdout'] }, { session: [1] }]) {
            const opts = { ...form, color, showSecrets: false, filters };
            const want = await render(createOutput, opts, input);
            const got = await render(loadOutput, opts, input);
            expect(got, JSON.stringify(opts)).toBe(want);
            // Unfiltered, every form prints something (a filter may rightly leave nothing).
            if (Object.keys(filters).length === 0) expect(want.length, JSON.stringify(opts)).toBeGreaterThan(0);
          }
        }
      }
    });
  }
});
