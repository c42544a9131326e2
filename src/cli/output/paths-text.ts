/**
 * The text summary's paths: per path its hops in order (transport,
 * protocol, set-up time, bytes), each link's evidence and the delay it adds,
 * how the exit status travelled, where bytes stopped; then the capture
 * files' clock offsets.
 */
import type { ChalkInstance } from 'chalk';
import type { ClockOffset, PathSummary } from '../../paths/types.js';
import { HOP_TEXT, formatBytes, formatDuration } from './style.js';

export function renderPaths(paths: PathSummary[], offsets: ClockOffset[], chalk: ChalkInstance): string[] {
  const lines: string[] = [];
  if (paths.length === 0 && offsets.length === 0) return lines;
  lines.push(chalk.bold(`Paths (${paths.length})`));
  const files = new Set(paths.flatMap((p) => p.hops.map((h) => h.file)));
  for (const p of paths) {
    const target = p.pod ? ` ${p.namespace ?? '?'}/${p.pod}${p.container ? ` container ${p.container}` : ''}` : '';
    lines.push(`  ${chalk.bold(`Path ${p.path}: ${p.kind}`)}${target}${p.command.length ? `: ${p.command.join(' ')}` : ''}${p.tty ? ' (tty)' : ''}`);
    p.hops.forEach((h, k) => {
      const bytes = h.streams
        .filter((s) => s.bytes > 0)
        .map((s) => `${s.stream}${s.stream.startsWith('data') ? (s.direction === 'clientToServer' ? ' c→s' : ' s→c') : ''} ${formatBytes(s.bytes)}`)
        .join(', ');
      lines.push(
        `    ${k + 1} ${HOP_TEXT[h.hop].padEnd(20)} session ${h.session} #${h.connection}${files.size > 1 ? ` in ${h.file}` : ''}  ${h.transport} ${h.protocol ?? '(protocol unknown)'}` +
          `${h.setupUs !== null ? `  set-up ${formatDuration(h.setupUs)}` : ''}${bytes ? `  ${bytes}` : ''}`,
      );
    });
    for (const l of p.links) {
      const sure = l.confidence === 'high' ? chalk.green(l.confidence) : l.confidence === 'medium' ? chalk.yellow(l.confidence) : chalk.red(l.confidence);
      const flags = [l.partial ? chalk.yellow('partial') : '', l.ambiguous ? chalk.red('ambiguous') : ''].filter(Boolean).join(', ');
      lines.push(`    link ${l.outer + 1}→${l.inner + 1} ${sure} (${l.evidence.join(', ')})${flags ? ` ${flags}` : ''}: ${l.why}`);
      const delays = l.delays.map(
        (d) => `${d.stream}${d.stream.startsWith('data') ? (d.direction === 'clientToServer' ? ' c→s' : ' s→c') : ''} +${formatDuration(d.p50Us)} p50, ${formatDuration(d.p99Us)} p99, ${formatDuration(d.maxUs)} max`,
      );
      if (delays.length) lines.push(`      delay added: ${delays.join('; ')}`);
    }
    if (p.exit) {
      const travel = p.exit.travelUs !== null && p.exit.from !== p.exit.to ? ` reached hop ${p.exit.to + 1} from hop ${p.exit.from + 1} in ${formatDuration(p.exit.travelUs)}` : ` at hop ${p.exit.from + 1}`;
      lines.push(`    exit ${p.exit.status}${p.exit.code !== null ? ` code ${p.exit.code}` : ''}${travel}`);
    }
    for (const s of p.stopped) {
      const what = `${s.stream}${s.stream.startsWith('data') ? (s.direction === 'clientToServer' ? ' c→s' : ' s→c') : ''}`;
      lines.push(
        chalk.yellow(
          s.why === 'short'
            ? s.captureGaps > 0
              ? // the bytes may have passed: the capture lost some there
                `    ${what} short at hop ${s.hop + 1}: ${s.bytes} of ${s.previousBytes} B (its capture lost bytes there: ${s.captureGaps} gap${s.captureGaps === 1 ? '' : 's'})`
              : `    ${what} stopped at hop ${s.hop + 1}: ${s.bytes} of ${s.previousBytes} B${s.captureEnded ? ' (its capture ended there)' : ''}`
            : `    ${what}: flow-control window at zero at hop ${s.hop + 1}${s.stalledUs !== null ? ` for ${formatDuration(s.stalledUs)}` : ', never reopened'}`,
        ),
      );
    }
  }
  for (const o of offsets) {
    if (o.file === o.reference) continue;
    lines.push(
      o.offsetUs === null
        ? `  clock of ${o.file}: not tied to ${o.reference} by any linked session`
        : `  clock of ${o.file}: ${o.offsetUs >= 0 ? '+' : '-'}${(Math.abs(o.offsetUs) / 1e6).toFixed(6)} s ± ${formatDuration(o.uncertaintyUs ?? 0)} against ${o.reference} (from ${o.links} linked session${o.links === 1 ? '' : 's'})`,
    );
  }
  lines.push('');
  return lines;
}
