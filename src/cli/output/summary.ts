/**
 * `--summary`: one block per session (cli-table3 for the streams), then the
 * plain requests and the diagnostics. `--summary --json`: the summary contract.
 */
import type { ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { DecodeSummary, DiagnosticEvent, SessionSummary, TimelineEvent } from '../../timeline/index.js';
import { teardownText } from '../../timeline/teardown.js';
import type { EventFilter } from './filter.js';
import { createSummaryJsonOutput } from './summary-json.js';
import { APPLICATION_TEXT, HOP_TEXT, arrow, clock, formatBytes, formatDuration, nodeProxyText, printableDeep } from './style.js';
import type { Output } from './types.js';
import { tlsHints, tlsStatus, tlsText } from './tls-text.js';
import { renderPaths } from './paths-text.js';
import type { ClockOffset, PathSummary } from '../../paths/types.js';

/** Diagnostics listed in the text summary; the rest are counted. */
const MAX_DIAGNOSTICS_LISTED = 20;

export function createSummaryOutput(
  out: NodeJS.WritableStream,
  chalk: ChalkInstance,
  filter: EventFilter,
  json: boolean,
  tlsKeysGiven?: () => boolean,
): Output {
  if (json) return createSummaryJsonOutput(out, filter);
  const diagnostics: DiagnosticEvent[] = [];
  let diagnosticCount = 0;
  return {
    event(ev: TimelineEvent) {
      if (ev.kind !== 'diagnostic' || !filter.keep(ev)) return;
      diagnosticCount++;
      if (diagnostics.length < MAX_DIAGNOSTICS_LISTED) diagnostics.push(ev);
    },
    async finish(summary: DecodeSummary) {
      const s = filter.summary(summary);
      const text = renderSummary(s, chalk, diagnostics, diagnosticCount, filter.active, tlsKeysGiven?.());
      await new Promise<void>((resolve) => out.write(text, () => resolve()));
    },
  };
}

export function renderSummary(
  summary: DecodeSummary,
  chalk: ChalkInstance,
  diagnosticEvents: DiagnosticEvent[] = [],
  diagnosticCount = diagnosticEvents.length,
  filtered = false,
  /** Whether TLS secrets were given; unknown: as some connection was decrypted. */
  tlsKeysGiven?: boolean,
): string {
  const s = printableDeep(summary);
  const diagnostics = printableDeep(diagnosticEvents);
  const lines: string[] = [];
  if (s.sessions.length === 0) lines.push(chalk.yellow(filtered ? 'No session matches the filters.' : 'No exec, attach or port-forward session found.'));
  // Several captures decoded together: each session says which it came from.
  const files = new Set([...s.sessions, ...s.requests].flatMap((x) => x.files ?? []));
  for (const sess of s.sessions) lines.push(withFiles(renderSession(sess, chalk), sess, files.size > 1, chalk), '');
  // paths: added by `decode` when it links sessions across hops
  const withPaths = s as DecodeSummary & { paths?: PathSummary[]; clockOffsets?: ClockOffset[] };
  if (withPaths.paths) lines.push(...renderPaths(withPaths.paths, withPaths.clockOffsets ?? [], chalk));
  // Successful upgrades are the sessions above.
  // in time order, as the timeline shows them (the summary lists them by connection)
  const requests = filtered ? [] : s.requests.filter((r) => r.status !== 101).sort((a, b) => a.time - b.time);
  if (requests.length) {
    lines.push(chalk.bold(`Other requests (${requests.length})`));
    for (const r of requests) {
      const status = r.status === null ? 'no response' : String(r.status);
      lines.push(
        `  ${chalk.dim(clock(r.time))} #${r.connection} ${r.method} ${r.path}${r.query ? '?' + r.query : ''} → ${status}${
          r.upgrade ? ` (upgrade ${r.upgrade} refused${r.retriedBy !== null ? `, retried as session ${r.retriedBy}` : ''})` : ''
        }`,
      );
    }
    lines.push('');
  }
  const tls = filtered ? [] : (s.tlsConnections ?? []);
  if (tls.length) {
    lines.push(chalk.bold(`TLS connections (${tls.length})`));
    for (const t of tls) {
      const via = t.tunnel ? ` (a proxy's tunnel to ${t.tunnel})` : '';
      lines.push(`  #${t.connection} ${t.client} → ${t.server}${via} ${tlsText(t)}: ${t.decrypted ? chalk.green(tlsStatus(t)) : chalk.yellow(tlsStatus(t))}`);
    }
    lines.push('');
  }
  lines.push(
    chalk.dim(
      `${s.sessions.length} session${s.sessions.length === 1 ? '' : 's'}, ${s.connections} connection${s.connections === 1 ? '' : 's'}, ${
        s.diagnostics
      } diagnostic${s.diagnostics === 1 ? '' : 's'}`,
    ),
  );
  const dropped = s.dropped;
  if (dropped && (dropped.sessions || dropped.requests)) {
    lines.push(
      chalk.yellow(`${dropped.sessions} session${dropped.sessions === 1 ? '' : 's'} and ${dropped.requests} request${dropped.requests === 1 ? '' : 's'} of closed connections were not kept (memory bound); the timeline and --ndjson show every event`),
    );
  }
  if (diagnosticCount) {
    lines.push(chalk.bold.red(`Diagnostics (${diagnosticCount})`));
    for (const d of diagnostics) {
      lines.push(`  ${chalk.dim(clock(d.time))} #${d.connection}${d.session ? ` s${d.session}` : ''} ${arrow(d.direction)} ${chalk.red(d.error.code)} ${d.error.message}`);
    }
    if (diagnosticCount > diagnostics.length) lines.push(`  … and ${diagnosticCount - diagnostics.length} more (see the timeline)`);
  }
  for (const hint of tlsHints(tls, tlsKeysGiven)) lines.push(chalk.yellow(hint));
  return lines.join('\n') + '\n';
}

/** The session's capture files, under its first line. */
function withFiles(block: string, sess: SessionSummary, show: boolean, chalk: ChalkInstance): string {
  if (!show || sess.files.length === 0) return block;
  const nl = block.indexOf('\n');
  const line = `  ${chalk.dim(sess.files.length > 1 ? 'files' : 'file')} ${sess.files.join(', ')}`;
  return nl < 0 ? `${block}\n${line}` : `${block.slice(0, nl)}\n${line}${block.slice(nl)}`;
}

function renderSession(sess: SessionSummary, chalk: ChalkInstance): string {
  const lines: string[] = [];
  if (sess.application === 'websocket' || sess.application === 'raw') return renderOtherSession(sess, chalk);
  lines.push(
    chalk.bold(`Session ${sess.session}: ${sess.kind}`) +
      ` ${sess.transport} ${sess.protocol ?? '(protocol unknown)'}  ${sess.client} → ${sess.server}  connection #${sess.connection}` +
      (sess.inferred ? chalk.yellow('  joined mid-session: kind and roles inferred') : ''),
  );
  if (sess.request) lines.push(`  ${sess.request.method} ${sess.request.path}${sess.request.query ? '?' + sess.request.query : ''}`);
  const target = sess.pod ? `${sess.namespace ?? '?'}/${sess.pod}${sess.container ? ` container ${sess.container}` : ''}` : null;
  const flags = (['stdin', 'stdout', 'stderr', 'tty'] as const).filter((f) => sess[f]);
  const facts: string[] = [];
  // the node proxy is authorized as nodes/proxy (get, for a WebSocket), not as pods/exec: worth a glance when auditing
  const proxied = sess.nodeProxy !== null ? ` ${nodeProxyText(sess.nodeProxy)} ${chalk.yellow(`(authorized as nodes/proxy, not pods/${sess.kind})`)}` : '';
  facts.push(`hop ${HOP_TEXT[sess.hop]}${proxied}`);
  if (target) facts.push(`pod ${target}`);
  if (sess.command.length) facts.push(`command ${sess.command.join(' ')}`);
  if (flags.length) facts.push(`flags ${flags.join(',')}`);
  if (sess.retryOf !== null) facts.push(`retries the refused upgrade on connection #${sess.retryOf}`);
  if (facts.length) lines.push(`  ${facts.join('  ')}`);

  const duration = sess.endTime !== null ? ` after ${formatDuration(sess.endTime - sess.startTime)}` : '';
  const exit = sess.exit
    ? (sess.exit.status === 'Success' ? chalk.green : chalk.red)(
        `exit ${sess.exit.status}${sess.exit.code !== null ? ` code ${sess.exit.code}` : ''}${sess.exit.reason ? ` (${sess.exit.reason})` : ''}`,
      ) + (sess.exit.message ? `: ${sess.exit.message}` : '')
    : sess.kind === 'portforward'
      ? 'no exit status (port-forward)'
      : chalk.yellow('no exit status');
  const ending = [
    exit,
    sess.lastOutputToExitUs !== null ? `${formatDuration(sess.lastOutputToExitUs)} after the last output` : '',
    `ended by ${sess.end ?? 'nothing yet'}${duration}`,
    sess.tcpClose ? `TCP ${sess.tcpClose}` : '',
    sess.stdinClosed ? 'stdin closed' : sess.stdin ? 'stdin never closed' : '',
  ].filter(Boolean);
  lines.push(`  ${ending.join('  ')}`);

  const table = streamTable(sess, chalk);
  if (sess.streams.length) lines.push(indent(table.toString()));
  const extra: string[] = [];
  if (sess.resizes.length) extra.push(`resizes ${sess.resizes.map((r) => `${r.width}x${r.height}`).join(', ')}`);
  if (sess.pings.clientToServer || sess.pings.serverToClient) extra.push(`pings c→s ${sess.pings.clientToServer} s→c ${sess.pings.serverToClient}`);
  for (const g of sess.goaway) extra.push(`GOAWAY ${arrow(g.direction)} status ${g.status} last good ${g.lastGoodStreamId}`);
  if (sess.websocketClose) extra.push(`WebSocket close ${arrow(sess.websocketClose.direction)} ${sess.websocketClose.code ?? '(no code)'} ${sess.websocketClose.reason}`.trim());
  if (sess.flowControlStalls) extra.push(`flow-control stalls ${sess.flowControlStalls}`);
  extra.push(...flowControlNotes(sess, chalk));
  if (sess.teardown) extra.push(`${teardownText(sess.teardown)} ${arrow(sess.teardown.direction)}: teardown`);
  if (sess.gaps) extra.push(chalk.red(`gaps ${sess.gaps}`));
  if (sess.diagnostics) extra.push(chalk.red(`diagnostics ${sess.diagnostics}`));
  if (extra.length) lines.push(`  ${extra.join('  ')}`);
  return lines.join('\n');
}

/** A WebSocket session of other software, or a raw upgrade: what it is, its messages or bytes, how it ended. */
function renderOtherSession(sess: SessionSummary, chalk: ChalkInstance): string {
  const lines: string[] = [];
  lines.push(
    chalk.bold(`Session ${sess.session}: ${APPLICATION_TEXT[sess.application].replace(/:$/, '')}`) +
      `  ${sess.transport} ${sess.protocol ?? '(no subprotocol)'}  ${sess.client} → ${sess.server}  connection #${sess.connection}`,
  );
  if (sess.request) lines.push(`  ${sess.request.method} ${sess.request.path}${sess.request.query ? '?' + sess.request.query : ''}`);
  if (sess.messages) {
    const m = (c: NonNullable<SessionSummary['messages']>['clientToServer']) =>
      `${c.text} text, ${c.binary} binary (${formatBytes(c.bytes)}${c.frames > c.text + c.binary ? ` in ${c.frames} frames` : ''})`;
    lines.push(`  messages c→s ${m(sess.messages.clientToServer)}  s→c ${m(sess.messages.serverToClient)}`);
  }
  if (sess.streams.length) lines.push(indent(streamTable(sess, chalk).toString()));
  const duration = sess.endTime !== null ? ` after ${formatDuration(sess.endTime - sess.startTime)}` : '';
  const extra = [`ended by ${sess.end ?? 'nothing yet'}${duration}`, sess.tcpClose ? `TCP ${sess.tcpClose}` : ''];
  if (sess.pings.clientToServer || sess.pings.serverToClient) extra.push(`pings and pongs c→s ${sess.pings.clientToServer} s→c ${sess.pings.serverToClient}`);
  if (sess.websocketClose) extra.push(`WebSocket close ${arrow(sess.websocketClose.direction)} ${sess.websocketClose.code ?? '(no code)'} ${sess.websocketClose.reason}`.trim());
  if (sess.gaps) extra.push(chalk.red(`gaps ${sess.gaps}`));
  if (sess.diagnostics) extra.push(chalk.red(`diagnostics ${sess.diagnostics}`));
  if (sess.notes) extra.push(chalk.yellow(`notes ${sess.notes}`) + chalk.dim(' (protocol rules this software broke, shown in the timeline; not diagnostics)'));
  lines.push(`  ${extra.filter(Boolean).join('  ')}`);
  return lines.join('\n');
}

function streamTable(sess: SessionSummary, chalk: ChalkInstance): InstanceType<typeof Table> {
  const table = new Table({
    head: ['stream', 'role', 'c→s bytes', 'c→s sha256', 's→c bytes', 's→c sha256', 'end'],
    style: { head: chalk.level > 0 ? ['bold'] : [], border: chalk.level > 0 ? ['grey'] : [] },
  });
  for (const st of sess.streams) {
    const role = `${st.role}${st.inferred ? '?' : ''}${st.port !== undefined ? ` :${st.port}` : ''}${st.requestId !== undefined ? ` req ${st.requestId}` : ''}`;
    const end = [
      st.halfClosed.clientToServer ? 'c→s FIN' : '',
      st.halfClosed.serverToClient ? 's→c FIN' : '',
      st.reset ? `RST ${st.reset.statusName} ${arrow(st.reset.direction)}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    table.push([
      String(st.id),
      role,
      bytesCell(st.clientToServer.bytes),
      st.clientToServer.bytes ? (st.clientToServer.sha256 ?? '').slice(0, 16) : '',
      bytesCell(st.serverToClient.bytes),
      st.serverToClient.bytes ? (st.serverToClient.sha256 ?? '').slice(0, 16) : '',
      end,
    ]);
  }
  return table;
}

/** Which side does no flow control (said once), and overruns only where they break the rule. */
function flowControlNotes(sess: SessionSummary, chalk: ChalkInstance): string[] {
  const fc = sess.flowControl;
  if (!fc) return sess.flowControlOverruns ? [`window overruns ${sess.flowControlOverruns}`] : [];
  const notes: string[] = [];
  const unused = (['client', 'server'] as const).filter((e) => fc[e] === 'no');
  if (unused.length) notes.push(`flow control not used by the ${unused.join(' or the ')}`);
  for (const d of ['clientToServer', 'serverToClient'] as const) {
    const v = fc[d].violations;
    if (v) notes.push(chalk.red(`flow control broken by the ${d === 'clientToServer' ? 'client' : 'server'}: ${v} window${v === 1 ? '' : 's'} overrun ${arrow(d)}`));
  }
  return notes;
}

function bytesCell(n: number): string {
  return n < 1024 ? String(n) : `${n} (${formatBytes(n)})`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => '  ' + l)
    .join('\n');
}
