/** `--summary --json`: the summary contract document, and nothing to keep while decoding. */
import type { DecodeSummary, TimelineEvent } from '../../timeline/index.js';
import type { EventFilter } from './filter.js';
import type { Output } from './types.js';

export function createSummaryJsonOutput(out: NodeJS.WritableStream, filter: EventFilter): Output {
  return {
    event(_ev: TimelineEvent) {},
    async finish(summary: DecodeSummary) {
      const text = JSON.stringify(filter.summary(summary), null, 2) + '\n';
      await new Promise<void>((resolve) => out.write(text, () => resolve()));
    },
  };
}
