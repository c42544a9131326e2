/**
 * `--follow`: the transcript a terminal would have shown, stdin, stdout and
 * stderr interleaved in capture order, raw bytes. With colour, stdin is
 * green and stderr red; without, the bytes are exactly the streams' bytes.
 * A TTY session's stdin is not shown: the remote terminal echoes what it
 * wants shown, on stdout. Port-forward data is shown both ways.
 *
 * Several sessions in one transcript (the hops of one exec, execs run side
 * by side) overlap in time, so their bytes interleave: a line names the
 * session whenever the bytes shown come from another session than the last
 * ones. A transcript of one session has no such line: it stays exactly the
 * streams' bytes.
 */
import type { ChalkInstance } from 'chalk';
import type { DecodeSummary, TimelineEvent } from '../../timeline/index.js';
import type { EventFilter } from './filter.js';
import type { Output } from './types.js';
import { BatchedWriter } from './writer.js';

const SHOWN_ROLES = new Set(['stdin', 'stdout', 'stderr', 'data']);

export function createFollowOutput(out: NodeJS.WritableStream, chalk: ChalkInstance, filter: EventFilter, hopMarks?: Map<number, string>): Output {
  const w = new BatchedWriter(out);
  const ttySessions = new Set<number>();
  const color = chalk.level > 0;
  const green = wrapCodes(chalk.green);
  const red = wrapCodes(chalk.red);
  // What the line before a session's bytes says, from its start
  const labels = new Map<number, string>();
  // --path N: a line whenever the bytes shown come from another hop than the last ones
  let lastHop: string | undefined;
  // Otherwise whenever they come from another session; undefined: no bytes shown yet
  let lastSession: number | undefined;
  // The session of the first bytes, shown without a line before them, until a line names it
  let firstUnnamed: number | undefined;
  return {
    event(ev: TimelineEvent) {
      // The runtime's /exec/{token} URL says nothing of a TTY: client-go opens a resize stream only with one
      // (seen whatever --role keeps)
      if (ev.kind === 'stream-open' && ev.role === 'resize') ttySessions.add(ev.session);
      if (!filter.keep(ev)) return;
      if (ev.kind === 'session-start') {
        if (ev.tty) ttySessions.add(ev.session);
        labels.set(ev.session, `session ${ev.session} ${ev.sessionKind}${ev.command.length ? ': ' + ev.command.join(' ') : ''}`);
        return;
      }
      if (ev.kind !== 'stream-data' || !SHOWN_ROLES.has(ev.role)) return;
      if (ev.role === 'stdin' && ttySessions.has(ev.session)) return;
      if (hopMarks) {
        const hop = hopMarks.get(ev.session);
        if (hop !== undefined && hop !== lastHop) {
          w.write(banner(`${hop} (session ${ev.session})`, chalk));
          lastHop = hop;
        }
      } else if (ev.session !== lastSession) {
        // The first bytes get a line when another session has started already. Otherwise
        // they have none (a transcript of one session is its bytes alone), and the
        // line at the first change says whose they were.
        const label = labels.get(ev.session) ?? `session ${ev.session}`;
        if (lastSession === undefined) {
          if (labels.size > 1) w.write(banner(label, chalk));
          else firstUnnamed = ev.session;
        } else {
          w.write(banner(firstUnnamed !== undefined ? `${label} (the bytes above: session ${firstUnnamed})` : label, chalk));
          firstUnnamed = undefined;
        }
        lastSession = ev.session;
      }
      // Copy: the event's view is only valid until the decoder runs again.
      const bytes = Buffer.from(ev.bytes);
      const paint = ev.role === 'stdin' || (ev.role === 'data' && ev.direction === 'clientToServer') ? green : ev.role === 'stderr' ? red : null;
      // Colour codes around the raw bytes (not decoded text: a UTF-8 sequence may span two events).
      if (paint && color) w.write(paint[0]);
      w.write(bytes);
      if (paint && color) w.write(paint[1]);
    },
    async finish(_summary: DecodeSummary) {
      await w.end();
    },
  };
}

/** The escape sequences a chalk style puts before and after its text. */
function wrapCodes(style: (s: string) => string): [string, string] {
  const [open = '', close = ''] = style('\u0000').split('\u0000');
  return [open, close];
}

function banner(text: string, chalk: ChalkInstance): string {
  return '\n' + chalk.dim(`--- ${text} ---`) + '\n';
}
