/**
 * The report page: reads the JSON `kubewire decode --html` embedded, lists
 * the sessions, and shows the chosen one (lanes, the clicked mark's bytes,
 * terminal replay). Runs in the browser from a file: no network, no modules.
 */
import type { MarkKind, ReportData, ReportSession } from '../model.js';
import { showDetail } from './detail.js';
import { byId, clock, el, formatBytes, formatDuration } from './format.js';
import { LaneView } from './lanes.js';
import { MARK_STYLE } from './marks.js';
import { renderPaths } from './path-list.js';
import type { PathView } from './paths.js';
import { Player } from './replay.js';
import { exitText, renderSessions, whereText } from './sessions.js';

const data = JSON.parse(byId('kubewire-data').textContent ?? 'null') as ReportData;
let view: LaneView | null = null;
let pathViews: PathView[] = [];

function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

function header(): void {
  byId('input').textContent = `— ${data.input}`;
  document.title = `kubewire report — ${data.input}`;
  const diag = data.diagnostics.length + data.moreDiagnostics;
  byId('facts').textContent =
    `${plural(data.sessions.length, 'session')}, ${plural(data.connections, 'TCP connection')}, ${plural(data.requests, 'HTTP request')}` +
    (diag ? `, ${plural(diag, 'diagnostic')} (listed at the bottom)` : ', no diagnostics') + '.';
  byId('generator').textContent = `Made by ${data.generator}. Secrets (Authorization headers, tokens) are redacted unless it was run with --show-secrets.`;
}

function legend(): void {
  const kinds = Object.keys(MARK_STYLE) as MarkKind[];
  byId('legend').replaceChildren(
    el('span', {}, el('i', { style: 'background:var(--c2s)' }), 'data client → server (above the line)'),
    el('span', {}, el('i', { style: 'background:var(--s2c)' }), 'data server → client (below)'),
    ...kinds.filter((k) => k !== 'data').map((k) => el('span', {}, el('i', { style: `background:${MARK_STYLE[k].color}` }), MARK_STYLE[k].label)),
  );
}

function sessionFacts(s: ReportSession): string {
  const m = s.summary;
  const bits = [
    `${m.kind}${m.tty ? ' with a TTY' : ''}`,
    `${m.transport} ${m.protocol ?? ''}`.trim(),
    `hop ${m.hop}`,
    // the summary of a report made before the field came has none
    m.nodeProxy ? `through nodes/${m.nodeProxy}/proxy (authorized as nodes/proxy, not pods/${m.kind})` : '',
    `${m.client} → ${m.server}`,
    `started ${clock(m.startTime)} UTC`,
    `lasted ${formatDuration(s.durationUs)}`,
    m.exit ? `exit ${exitText(s)}` : '',
    m.end ? `ended by ${m.end}` : '',
    m.inferred ? 'joined mid-session: kind and roles are guesses' : '',
    m.diagnostics ? plural(m.diagnostics, 'diagnostic') : '',
  ];
  return bits.filter(Boolean).join(' · ');
}

function showSession(s: ReportSession, markSelected: (n: number) => void): void {
  markSelected(s.summary.session);
  history.replaceState(null, '', `#session=${s.summary.session}`);
  byId('session-section').hidden = false;
  const where = whereText(s);
  byId('session-title').textContent = `Session ${s.summary.session}: ${s.summary.kind}${where ? ` in ${where}` : ''}${s.summary.command.length ? ` — ${s.summary.command.join(' ')}` : ''}`;
  byId('session-facts').textContent = sessionFacts(s);
  const omitted = byId('omitted');
  const merged = s.lanes.some((l) => l.marks.some((m) => (m.c ?? 1) > 1));
  omitted.hidden = s.omittedBytes === 0 && !merged;
  omitted.textContent =
    (s.omittedBytes > 0
      ? `Bytes left out: ${formatBytes(s.omittedBytes)} (${s.omittedBytes} bytes) of this session's ${formatBytes(s.dataBytes)} of stream data are not in this report, to keep it small (at most ${formatBytes(data.limits.bytesPerEvent)} per event and ${formatBytes(data.limits.bytesInAll)} in all). `
      : '') +
    (merged ? `Its ${plural(s.dataEvents, 'data event')} are drawn as fewer marks, each standing for several events. ` : '') +
    'kubewire decode --extract DIR writes every byte.';
  byId('detail').replaceChildren(el('p', { class: 'hint' }, 'Click a mark above to see what happened there and, for data, its bytes.'));
  view = new LaneView(byId('lanes'), s, (p) => showDetail(s, p, data.limits));
  view.render();
  const replay = byId('replay-section');
  replay.hidden = !s.replay;
  // After the lanes are on screen: the terminal takes a moment to set up.
  const r = s.replay;
  if (r) setTimeout(() => new Player(r).mount(), 0);
}

function diagnostics(): void {
  const n = data.diagnostics.length + data.moreDiagnostics;
  byId('diagnostics-section').hidden = n === 0;
  byId('diagnostics').replaceChildren(
    ...data.diagnostics.map((d) =>
      el('li', {}, `${clock(d.time)} connection #${d.connection}${d.session !== null ? ` session ${d.session}` : ''}: `, el('code', {}, d.code), ` ${d.message}`),
    ),
    ...(data.moreDiagnostics ? [el('li', {}, `…and ${data.moreDiagnostics} more (kubewire decode FILE lists them all).`)] : []),
  );
}

function boot(): void {
  header();
  legend();
  diagnostics();
  byId('no-sessions').hidden = data.sessions.length > 0;
  const markSelected = renderSessions(data.sessions, (s) => showSession(s, markSelected));
  pathViews = renderPaths(data, (n) => {
    const s = data.sessions.find((x) => x.summary.session === n);
    if (!s) return;
    showSession(s, markSelected);
    byId('session-section').scrollIntoView();
  });
  byId('zoom-in').onclick = () => view?.zoom(2);
  byId('zoom-out').onclick = () => view?.zoom(0.5);
  byId('zoom-reset').onclick = () => view?.reset();
  window.addEventListener('resize', () => {
    view?.render();
    for (const v of pathViews) v.render();
  });
  const wanted = Number(/session=(\d+)/.exec(location.hash)?.[1]);
  const first = data.sessions.find((s) => s.summary.session === wanted) ?? data.sessions[0];
  if (first) showSession(first, markSelected);
  // For the report benchmark: ms from navigation start until the first session was drawn.
  document.body.dataset.drawnMs = performance.now().toFixed(0);
}

boot();
