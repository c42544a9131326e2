/**
 * The human timeline: one line per event, tcpdump-like. Time (UTC), then
 * connection/session, direction, stream and role, then what happened.
 */
import type { ChalkInstance } from 'chalk';
import type { DecodeSummary, TimelineEvent } from '../../timeline/index.js';
import { teardownText } from '../../timeline/teardown.js';
import type { EventFilter } from './filter.js';
import { APPLICATION_TEXT, HOP_TEXT, arrow, assertNever, clock, formatBytes, formatDuration, nodeProxyText, preview, printableDeep } from './style.js';
import type { Output } from './types.js';
import { tlsStatus, tlsText } from './tls-text.js';
import { BatchedWriter } from './writer.js';

export function createTimelineOutput(out: NodeJS.WritableStream, chalk: ChalkInstance, filter: EventFilter, hopMarks?: Map<number, string>): Output {
  const w = new BatchedWriter(out);
  let diagnostics = 0;
  return {
    event(ev) {
      if (!filter.keep(ev)) return;
      // said once (`not-used`); each overrun of a sender without flow control is no news
      if (ev.kind === 'flow-control' && ev.state === 'overrun' && !ev.violation) return;
      if (ev.kind === 'diagnostic') diagnostics++;
      w.write(hopMarks ? markHop(formatTimelineEvent(ev, chalk), ev, hopMarks, chalk) : formatTimelineEvent(ev, chalk) + '\n');
    },
    async finish(summary: DecodeSummary) {
      const s = filter.summary(summary);
      w.write(
        chalk.dim(
          `-- ${s.sessions.length} session${s.sessions.length === 1 ? '' : 's'}, ${summary.connections} connection${
            summary.connections === 1 ? '' : 's'
          }, ${diagnostics} diagnostic${diagnostics === 1 ? '' : 's'} shown (${summary.diagnostics} in all)\n`,
        ),
      );
      await w.end();
    },
  };
}

/** `--path N`: the line with the hop of its session after the time (events before the upgrade belong to no session yet). */
function markHop(line: string, ev: TimelineEvent, marks: Map<number, string>, chalk: ChalkInstance): string {
  const session = 'session' in ev ? ev.session : null;
  const mark = session !== null && session !== undefined ? marks.get(session) : undefined;
  const label = chalk.yellow(`[${mark ?? 'connection'}]`.padEnd(26));
  const cut = line.indexOf(' ');
  return `${line.slice(0, cut)} ${label}${line.slice(cut)}\n`;
}

function where(ev: TimelineEvent, chalk: ChalkInstance): string {
  const conn = `#${ev.connection}`;
  const sess = 'session' in ev && ev.session !== null && ev.session !== undefined ? ` s${ev.session}` : '';
  const dir = 'direction' in ev ? arrow(ev.direction) : '   ';
  return `${chalk.dim(clock(ev.time))} ${chalk.cyan((conn + sess).padEnd(8))} ${dir}`;
}

function stream(streamId: number | null, role: string | null, chalk: ChalkInstance): string {
  if (streamId === null) return '';
  return chalk.magenta(`[${streamId}${role ? ' ' + role : ''}]`) + ' ';
}

export function formatTimelineEvent(event: TimelineEvent, chalk: ChalkInstance): string {
  const ev = printableDeep(event);
  const head = where(ev, chalk);
  switch (ev.kind) {
    case 'connection-open':
      return `${head} ${chalk.bold('connection')} ${ev.client.address}:${ev.client.port} → ${ev.server.address}:${ev.server.port}${
        ev.startedLate ? chalk.yellow(' (started before the capture)') : ''
      }`;
    case 'connection-swap':
      return `${head} ${chalk.yellow('client is')} ${ev.client.address}:${ev.client.port} (${ev.why})`;
    case 'connection-classified':
      return `${head} carries ${chalk.bold(ev.protocol)}${ev.forced ? ' (forced by --decode-as)' : ev.inferred ? chalk.yellow(' (inferred from content)') : ''}`;
    case 'http-request':
      return `${head} ${ev.streamId !== undefined ? stream(ev.streamId, null, chalk) : ''}${chalk.bold(`${ev.method} ${ev.target}`)} ${ev.version}${ev.upgrade ? ` upgrade: ${ev.upgrade}` : ''}${
        ev.offeredProtocols.length ? ` offers ${ev.offeredProtocols.join(', ')}` : ''
      }${ev.bodyLength ? ` body ${ev.bodyLength} B` : ''}${headerNote(ev.headers)}`;
    case 'http-response': {
      // HTTP/2 has no reason phrase
      const st = ev.reason ? `${ev.status} ${ev.reason}` : String(ev.status);
      const coloured = ev.status >= 400 ? chalk.red(st) : ev.status === 101 ? chalk.green(st) : st;
      return `${head} ${ev.streamId !== undefined ? stream(ev.streamId, null, chalk) : ''}${chalk.bold(coloured)}${ev.chosenProtocol ? ` protocol ${ev.chosenProtocol}` : ''}${
        ev.bodyLength ? ` body ${ev.bodyLength} B` : ''
      }`;
    }
    case 'upgrade':
      return `${head} ${chalk.green('upgraded')} to ${ev.transport}${ev.protocol ? ` (${ev.protocol})` : ''}`;
    case 'upgrade-refused':
      return `${head} ${chalk.red(`upgrade to ${ev.upgrade} refused`)} (${ev.status} on ${ev.path})${ev.message ? `: ${ev.message}` : ''}`;
    case 'session-start': {
      const flags = (['stdin', 'stdout', 'stderr', 'tty'] as const).filter((f) => ev[f]).join(',');
      const target = ev.pod ? ` ${ev.namespace ?? '?'}/${ev.pod}${ev.container ? `/${ev.container}` : ''}` : '';
      const cmd = ev.command.length ? ` -- ${ev.command.join(' ')}` : '';
      if (ev.application === 'websocket' || ev.application === 'raw') {
        return `${head} ${chalk.bold.green(`session ${ev.session}`)} ${APPLICATION_TEXT[ev.application]} ${ev.transport} ${ev.protocol ?? '(no subprotocol)'}`;
      }
      return `${head} ${chalk.bold.green(`session ${ev.session} ${ev.sessionKind}`)} (${HOP_TEXT[ev.hop]}${ev.nodeProxy !== null ? ` ${nodeProxyText(ev.nodeProxy)}` : ''})${target}${cmd} [${flags}] ${ev.transport} ${
        ev.protocol ?? 'protocol unknown'
      }${ev.inferred ? chalk.yellow(' (joined mid-session: inferred)') : ''}${ev.retryOf !== null ? ` retry of connection ${ev.retryOf}` : ''}`;
    }
    case 'frame': {
      const fl = [ev.fin ? 'FIN' : '', ev.flags && !ev.fin ? `flags=0x${ev.flags.toString(16)}` : ''].filter(Boolean).join(' ');
      return `${head} ${stream(ev.streamId, ev.role, chalk)}${ev.layer === 'spdy' ? '' : 'ws '}${chalk.bold(ev.type.toUpperCase())} len=${ev.length}${
        fl ? ' ' + fl : ''
      }${detailNote(ev.detail)}`;
    }
    case 'stream-open':
      return `${head} ${stream(ev.streamId, ev.role, chalk)}open${ev.inferred ? chalk.yellow(' (role inferred)') : ''}${
        ev.port !== null ? ` port ${ev.port}` : ''
      }${ev.requestId !== null ? ` request ${ev.requestId}` : ''}`;
    case 'stream-data':
      return `${head} ${stream(ev.streamId, ev.role, chalk)}${ev.bytes.length} B @${ev.offset} ${chalk.dim(preview(ev.bytes))}`;
    case 'half-close':
      return `${head} ${stream(ev.streamId, ev.role, chalk)}${ev.role === 'stdin' ? chalk.bold('stdin closed') : 'half-closed'}`;
    case 'stream-close':
      return `${head} ${stream(ev.streamId, ev.role, chalk)}closed`;
    case 'stream-reset':
      return `${head} ${stream(ev.streamId, ev.role, chalk)}${chalk.yellow(`RST_STREAM ${ev.statusName}`)}`;
    case 'resize':
      return `${head} ${stream(ev.streamId, 'resize', chalk)}terminal ${ev.width}x${ev.height}`;
    case 'exit': {
      const text = `exit ${ev.status}${ev.code !== null ? ` code ${ev.code}` : ''}${ev.reason ? ` (${ev.reason})` : ''}${
        ev.message ? `: ${ev.message}` : ''
      }`;
      return `${head} ${chalk.bold(ev.status === 'Success' ? chalk.green(text) : chalk.red(text))}${
        ev.sinceLastOutputUs !== null ? chalk.dim(` ${formatDuration(ev.sinceLastOutputUs)} after the last output`) : ''
      }`;
    }
    case 'goaway':
      return `${head} ${chalk.yellow(`GOAWAY ${ev.statusName}`)} last good stream ${ev.lastGoodStreamId}`;
    case 'ping':
      return `${head} ${ev.reply ? 'pong' : 'ping'}${ev.id !== null ? ` id ${ev.id}` : ''}`;
    case 'websocket-message':
      return `${head} ${chalk.bold(`ws ${ev.type} message`)} ${ev.length} B${ev.frames > 1 ? ` in ${ev.frames} frames` : ''}${
        ev.text !== null ? ' ' + chalk.dim(`"${ev.text}"${Buffer.byteLength((event as typeof ev).text ?? '') < ev.length ? '…' : ''}`) : ''
      }${ev.head ? ' ' + chalk.dim(ev.head + (ev.head.length / 2 < ev.length ? '…' : '')) : ''}`;
    case 'websocket-close':
      return `${head} ${chalk.bold('ws close')} ${ev.code ?? '(no code)'}${ev.reason ? ` "${ev.reason}"` : ''}`;
    case 'window-update':
      return `${head} ${ev.streamId === 0 ? 'session' : `[${ev.streamId}]`} window +${ev.delta} → ${ev.window}`;
    case 'flow-control': {
      const sender = ev.direction === 'clientToServer' ? 'client' : 'server';
      const receiver = ev.direction === 'clientToServer' ? 'server' : 'client';
      const where = ev.streamId === 0 ? 'session' : `stream ${ev.streamId}`;
      if (ev.state === 'not-used') {
        return `${head} flow control not used by the ${sender} ${chalk.dim('(no WINDOW_UPDATE or SETTINGS, and its DATA goes past the windows, as Kubernetes\' spdystream does)')}`;
      }
      if (ev.state === 'overrun') {
        return ev.violation
          ? `${head} ${chalk.red(`flow control broken by the ${sender}`)}: DATA past the ${receiver}'s ${where} window (${ev.window}), though the ${sender} does flow control`
          : `${head} ${chalk.dim(`DATA past the ${where} window (${ev.window}); the ${sender} does no flow control`)}`;
      }
      return `${head} ${chalk.yellow(`flow control ${ev.state}`)} on ${where} window ${ev.window}${ev.stalledUs !== null ? ` after ${formatDuration(ev.stalledUs)}` : ''}`;
    }
    case 'gap':
      return `${head} ${chalk.red(`GAP ${formatBytes(ev.size)} missing`)} at offset ${ev.offset}`;
    case 'teardown':
      return `${head} ${teardownText(ev)}: teardown, how the session ended (not a diagnostic)`;
    case 'session-end':
      return `${head} ${chalk.bold(`session ${ev.session} ended`)} (${ev.reason})`;
    case 'connection-close':
      return `${head} connection closed (${ev.reason})${ev.files ? chalk.dim(`  ${ev.files.length === 1 ? 'file' : 'files'} ${ev.files.join(', ')}`) : ''}`;
    case 'diagnostic':
      return `${head} ${stream(ev.streamId, null, chalk)}${chalk.red(ev.error.code)} ${ev.error.message}`;
    case 'note':
      return `${head} ${chalk.yellow('note')} ${ev.error.code} ${ev.error.message} ${chalk.dim('(other software, not Kubernetes: not a diagnostic)')}`;
    case 'tls':
      return `${head} carries ${chalk.bold(tlsText(ev))}: ${ev.decrypted ? chalk.green(tlsStatus(ev)) : chalk.yellow(tlsStatus(ev))}`;
    default:
      return assertNever(ev);
  }
}

function headerNote(headers: Array<[string, string]>): string {
  const ua = headers.find(([n]) => n.toLowerCase() === 'user-agent');
  return ua ? ` (${ua[1]})` : '';
}

function detailNote(detail: Record<string, unknown> | undefined): string {
  if (!detail) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(detail)) {
    if (v === undefined || v === null) continue;
    if (k === 'headers' && Array.isArray(v)) {
      parts.push(v.map((h) => (Array.isArray(h) ? `${h[0]}=${h[1]}` : String(h))).join(' '));
    } else if (typeof v === 'object') {
      parts.push(`${k}=${JSON.stringify(v)}`);
    } else {
      parts.push(`${k}=${String(v)}`);
    }
  }
  return parts.length ? ' ' + parts.join(' ') : '';
}
