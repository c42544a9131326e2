/**
 * `loadOutput`: what `createOutput` builds, loading only the renderer the
 * format needs. The summary contract (`--summary --json`) needs neither chalk
 * nor cli-table3; each costs milliseconds of start-up that a whole-process
 * decode pays on every run.
 */
import type { ChalkInstance } from 'chalk';
import { createFilter } from './filter.js';
import { alongside, type Output, type OutputOptions } from './types.js';

export async function loadOutput(opts: OutputOptions): Promise<Output> {
  const filter = createFilter(opts.filters);
  const bytes = opts.bytes ?? false;
  const chalk = async (): Promise<ChalkInstance> => (await import('./style.js')).createChalk(opts.color);
  let main: Output;
  if (opts.summaryJson && (opts.format === 'summary' || opts.format === 'json')) {
    main = (await import('./summary-json.js')).createSummaryJsonOutput(opts.stdout, filter);
  } else {
    switch (opts.format) {
      case 'timeline':
        main = (await import('./timeline.js')).createTimelineOutput(opts.stdout, await chalk(), filter, opts.hopMarks);
        break;
      case 'summary':
        main = (await import('./summary.js')).createSummaryOutput(opts.stdout, await chalk(), filter, false, opts.tlsKeysGiven);
        break;
      case 'json':
        main = (await import('./json.js')).createJsonOutput(opts.stdout, filter, bytes);
        break;
      case 'ndjson':
        main = (await import('./json.js')).createNdjsonOutput(opts.stdout, filter, bytes);
        break;
      case 'follow':
        main = (await import('./follow.js')).createFollowOutput(opts.stdout, await chalk(), filter, opts.hopMarks);
        break;
      default: {
        const never: never = opts.format;
        throw new Error(`unknown output format ${String(never)}`);
      }
    }
  }
  // Files beside the main output, each loaded only when asked for.
  if (opts.extractDir) main = alongside(main, (await import('./extract.js')).createExtractOutput(opts.extractDir, filter));
  if (opts.asciicast) main = alongside(main, (await import('./asciicast.js')).createAsciicastOutput(opts.asciicast.dir, opts.asciicast, filter));
  if (opts.html) main = alongside(main, (await import('./html.js')).createHtmlOutput(opts.html, filter));
  return main;
}
