/** The sessions list: one row per session, sortable by any column, filtered by text. */
import type { ReportSession } from '../model.js';
import { byId, el, formatBytes, formatDuration } from './format.js';

interface Column {
  title: string;
  /** What the column means, for whoever has not read the README. */
  help: string;
  value: (s: ReportSession) => string | number;
  text?: (s: ReportSession) => string;
  className?: string;
}

const total = (s: ReportSession, d: 'clientToServer' | 'serverToClient') => s.summary.streams.reduce((n, st) => n + st[d].bytes, 0);

export function exitText(s: ReportSession): string {
  const e = s.summary.exit;
  if (!e) return s.summary.kind === 'portforward' ? '' : '—';
  return e.status === 'Success' ? 'Success (0)' : `Failure${e.code !== null ? ` (${e.code})` : ''}`;
}

export function whereText(s: ReportSession): string {
  const m = s.summary;
  return m.pod ? `${m.namespace ? m.namespace + '/' : ''}${m.pod}${m.container ? ` (${m.container})` : ''}` : '';
}

const COLUMNS: Column[] = [
  { title: '#', help: 'Session number, as kubewire decode prints it (--session N)', value: (s) => s.summary.session, className: 'num' },
  { title: 'kind', help: 'exec, attach or port-forward; (tty) when the client asked for a terminal (kubectl exec -t)', value: (s) => s.summary.kind + (s.summary.tty ? ' (tty)' : '') },
  { title: 'hop', help: 'Which connection of kubectl → API server → kubelet → container runtime this is, from the request path', value: (s) => s.summary.hop },
  { title: 'pod', help: 'namespace/pod (container) from the request', value: whereText },
  { title: 'command', help: 'The command the exec ran', value: (s) => s.summary.command.join(' '), className: 'cmd' },
  { title: 'transport', help: 'How the streams are carried: SPDY/3.1, WebSocket, or SPDY inside a WebSocket', value: (s) => s.summary.transport },
  { title: 'protocol', help: 'The Kubernetes streaming subprotocol both sides agreed on', value: (s) => s.summary.protocol ?? '' },
  { title: 'duration', help: 'From the upgrade to the last event', value: (s) => s.durationUs, text: (s) => formatDuration(s.durationUs), className: 'num' },
  { title: 'client → server', help: 'Stream bytes the client sent (stdin, resizes, port-forward data)', value: (s) => total(s, 'clientToServer'), text: (s) => formatBytes(total(s, 'clientToServer')), className: 'num' },
  { title: 'server → client', help: 'Stream bytes the server sent (stdout, stderr, the exit status, port-forward data)', value: (s) => total(s, 'serverToClient'), text: (s) => formatBytes(total(s, 'serverToClient')), className: 'num' },
  { title: 'exit', help: 'The exit status the server sent on the error stream', value: exitText },
  { title: 'diagnostics', help: 'Oddities found while decoding (gaps, protocol violations); listed at the bottom', value: (s) => s.summary.diagnostics, className: 'num' },
];

export function renderSessions(sessions: ReportSession[], onSelect: (s: ReportSession) => void): (n: number) => void {
  const table = byId<HTMLTableElement>('sessions');
  const head = table.tHead!;
  const body = table.tBodies[0]!;
  const filter = byId<HTMLInputElement>('filter');
  const count = byId('count');
  let sortBy = 0;
  let ascending = true;
  let selected: number | null = null;

  const headRow = el('tr');
  COLUMNS.forEach((c, i) => {
    const th = el('th', { 'data-col': String(i), title: `${c.help}. Click to sort.` }, c.title);
    th.addEventListener('click', () => {
      ascending = sortBy === i ? !ascending : true;
      sortBy = i;
      draw();
    });
    headRow.append(th);
  });
  head.append(headRow);

  const draw = () => {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    const rows = sessions.filter((s) => {
      const hay = COLUMNS.map((c) => String(c.value(s))).join(' ').toLowerCase();
      return words.every((w) => hay.includes(w));
    });
    const col = COLUMNS[sortBy]!;
    rows.sort((a, b) => {
      const x = col.value(a);
      const y = col.value(b);
      const r = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return ascending ? r : -r;
    });
    headRow.querySelectorAll('th').forEach((th, i) => {
      th.className = i === sortBy ? (ascending ? 'sorted-asc' : 'sorted-desc') : '';
    });
    body.replaceChildren(
      ...rows.map((s) => {
        const tr = el('tr', { 'data-session': String(s.summary.session) });
        if (s.summary.session === selected) tr.className = 'selected';
        for (const c of COLUMNS) {
          const td = el('td', c.className ? { class: c.className } : {}, c.text ? c.text(s) : String(c.value(s)));
          if ((c.title === 'exit' && s.summary.exit?.status === 'Failure') || (c.title === 'diagnostics' && s.summary.diagnostics > 0)) td.classList.add('bad');
          tr.append(td);
        }
        tr.addEventListener('click', () => onSelect(s));
        return tr;
      }),
    );
    count.textContent = `${rows.length} of ${sessions.length} shown`;
  };
  filter.addEventListener('input', draw);
  draw();
  return (n: number) => {
    selected = n;
    draw();
  };
}
