/**
 * `createOutput`: the renderers shared by `kubewire decode` and `kubewire tap`.
 */
import { createAsciicastOutput } from './asciicast.js';
import { createExtractOutput } from './extract.js';
import { createFilter } from './filter.js';
import { createFollowOutput } from './follow.js';
import { createHtmlOutput } from './html.js';
import { createJsonOutput, createNdjsonOutput } from './json.js';
import { createChalk } from './style.js';
import { createSummaryOutput } from './summary.js';
import { createTimelineOutput } from './timeline.js';
import { alongside, type Output, type OutputOptions } from './types.js';

export type { Output, OutputFilters, OutputFormat, OutputOptions } from './types.js';
export { colorWanted } from './color.js';
export { loadOutput } from './load.js';
export { formatTimelineEvent } from './timeline.js';
export { renderSummary } from './summary.js';
export type { ExtractedFile } from './extract.js';

export function createOutput(opts: OutputOptions): Output {
  const filter = createFilter(opts.filters);
  const chalk = createChalk(opts.color);
  const bytes = opts.bytes ?? false;
  let main: Output;
  if (opts.summaryJson && (opts.format === 'summary' || opts.format === 'json')) {
    main = createSummaryOutput(opts.stdout, chalk, filter, true);
  } else {
    switch (opts.format) {
      case 'timeline':
        main = createTimelineOutput(opts.stdout, chalk, filter, opts.hopMarks);
        break;
      case 'summary':
        main = createSummaryOutput(opts.stdout, chalk, filter, false, opts.tlsKeysGiven);
        break;
      case 'json':
        main = createJsonOutput(opts.stdout, filter, bytes);
        break;
      case 'ndjson':
        main = createNdjsonOutput(opts.stdout, filter, bytes);
        break;
      case 'follow':
        main = createFollowOutput(opts.stdout, chalk, filter, opts.hopMarks);
        break;
      default: {
        const never: never = opts.format;
        throw new Error(`unknown output format ${String(never)}`);
      }
    }
  }
  if (opts.extractDir) main = alongside(main, createExtractOutput(opts.extractDir, filter));
  if (opts.asciicast) main = alongside(main, createAsciicastOutput(opts.asciicast.dir, opts.asciicast, filter));
  if (opts.html) main = alongside(main, createHtmlOutput(opts.html, filter));
  return main;
}
