/**
 * `--follow`: the transcript a terminal would have shown, stdin, stdout and
 * stderr interleaved in capture order, raw bytes. With colour, stdin is
 * green and stderr red; without, the bytes are exactly the streams' bytes.
 * A TTY session's stdin is not shown: the remote terminal echoes what it
 * wants shown, on stdout. Port-forward data is shown both ways.
 */
import type { ChalkInstance } from 'chalk';
import type { DecodeSummary, TimelineEvent } from '../../timeline/index.js';
import type { EventFilter } from './filter.js';
import type { Output } from './types.js';
import { BatchedWriter } from './writer.js';

const SHOWN_ROLES = new Set(['stdin', 'stdout', 'stderr', 'data']);

export function createFollowOutput(out: NodeJS.WritableStream, chalk: ChalkInstance, filter: EventFilter): Output {
  const w = new BatchedWriter(out);
  const ttySessions = new Set<number>();
  const color = chalk.level > 0;
  let sessions = 0;
  return {
    event(ev: TimelineEvent) {
      if (!filter.keep(ev)) return;
      if (ev.kind === 'session-start') {
        if (ev.tty) ttySessions.add(ev.session);
        // A marker between sessions when several share the transcript.
        if (sessions++ > 0) {
          w.write(banner(`session ${ev.session} ${ev.sessionKind}${ev.command.length ? ': ' + ev.command.join(' ') : ''}`, chalk));
        }
        return;
      }
      if (ev.kind !== 'stream-data' || !SHOWN_ROLES.has(ev.role)) return;
      if (ev.role === 'stdin' && ttySessions.has(ev.session)) return;
      // Copy: the event's view is only valid until the decoder runs again.
      const bytes = Buffer.from(ev.bytes);
      if (!color) w.write(bytes);
      else if (ev.role === 'stdin' || (ev.role === 'data' && ev.direction === 'clientToServer')) w.write(chalk.green(bytes.toString('utf8')));
      else if (ev.role === 'stderr') w.write(chalk.red(bytes.toString('utf8')));
      else w.write(bytes);
    },
    async finish(_summary: DecodeSummary) {
      await w.end();
    },
  };
}

function banner(text: string, chalk: ChalkInstance): string {
  return '\n' + chalk.dim(`--- ${text} ---`) + '\n';
}
