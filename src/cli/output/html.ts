/**
 * `--html FILE`: one self-contained page (no network: the script, xterm.js
 * and the styles are inlined by the build into `dist/report/report.html`),
 * with the report document embedded as JSON. See html-collect.ts for what
 * the document holds and report/page/ for what the page does with it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { packageVersion } from '../version.js';
import type { DecodeSummary, TimelineEvent } from '../../timeline/index.js';
import type { EventFilter } from './filter.js';
import { ReportCollector } from './html-collect.js';
import type { Output } from './types.js';

/** Where the page's JSON goes in the template (inside a `<script type="application/json">`). */
export const DATA_PLACEHOLDER = '"__KUBEWIRE_REPORT_DATA__"';
/** Beside this module in dist/; from src/ (under tsx), the built one in dist/. */
// From dist/cli/output/, from src/cli/output/ (under tsx), and from the bundle in dist/bin/.
const TEMPLATES = [
  new URL('../../report/report.html', import.meta.url),
  new URL('../../../dist/report/report.html', import.meta.url),
  new URL('../report/report.html', import.meta.url),
];

function readTemplate(): string {
  const found = TEMPLATES.find((u) => existsSync(u));
  if (!found) throw new Error('the HTML report page is not built (dist/report/report.html): run npm run build');
  return readFileSync(found, 'utf8');
}

export interface HtmlOptions {
  file: string;
  /** What was decoded, as the page names it. */
  input: string;
}

export function createHtmlOutput(opts: HtmlOptions, filter: EventFilter): Output {
  const collector = new ReportCollector(filter);
  return {
    event(ev: TimelineEvent) {
      collector.event(ev);
    },
    async finish(summary: DecodeSummary) {
      const data = collector.finish(summary, `kubewire ${packageVersion()}`, opts.input);
      writeFileSync(opts.file, fillTemplate(readTemplate(), JSON.stringify(data)));
    },
  };
}

/** The template with the JSON in place; `<` escaped so no string in it can close the script element. */
export function fillTemplate(template: string, json: string): string {
  const at = template.indexOf(DATA_PLACEHOLDER);
  if (at < 0) throw new Error('report template has no data placeholder (rebuild: npm run build)');
  return template.slice(0, at) + json.replace(/</g, '\\u003c') + template.slice(at + DATA_PLACEHOLDER.length);
}
