/**
 * `--json`: one JSON document `{ events, summary }` once input ends.
 * `--ndjson`: one event per line, written as decoded (live pipes).
 * Both use the timeline's stable event JSON form.
 */
import { timelineEventToJson, type DecodeSummary, type TimelineEvent } from '../../timeline/index.js';
import type { EventFilter } from './filter.js';
import type { Output } from './types.js';
import { BatchedWriter } from './writer.js';

export function createJsonOutput(out: NodeJS.WritableStream, filter: EventFilter, bytes: boolean): Output {
  const w = new BatchedWriter(out);
  let first = true;
  // The document is streamed (events as they come) so that memory does not
  // grow with the capture; it is valid JSON once `finish` has run.
  return {
    event(ev: TimelineEvent) {
      if (!filter.keep(ev)) return;
      w.write((first ? '{"events":[\n' : ',\n') + JSON.stringify(timelineEventToJson(ev, { bytes })));
      first = false;
    },
    async finish(summary: DecodeSummary) {
      w.write((first ? '{"events":[' : '\n') + '],\n"summary":' + JSON.stringify(filter.summary(summary), null, 2) + '}\n');
      await w.end();
    },
  };
}

export function createNdjsonOutput(out: NodeJS.WritableStream, filter: EventFilter, bytes: boolean): Output {
  const w = new BatchedWriter(out);
  return {
    event(ev: TimelineEvent) {
      if (!filter.keep(ev)) return;
      w.write(JSON.stringify(timelineEventToJson(ev, { bytes })) + '\n');
    },
    async finish() {
      await w.end();
    },
  };
}
