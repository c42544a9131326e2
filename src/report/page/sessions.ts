/** The sessions list: one row per session, sortable by any column, filtered by text. */
import type { ReportSession } from '../model.js';
import { byId, el, formatBytes, formatDuration } from './format.js';

interface Column {
  title: string;
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
  { title: '#', value: (s) => s.summary.session, className: 'num' },
  { title: 'kind', value: (s) => s.summary.kind + (s.summary.tty ? ' (tty)' : '') },
  { title: 'hop', value: (s) => s.summary.hop },
  { title: 'pod', value: whereText },
  { title: 'command', value: (s) => s.summary.command.join(' '), className: 'cmd' },
  { title: 'transport', value: (s) => s.summary.transport },
  { title: 'protocol', value: (s) => s.summary.protocol ?? '' },
  { title: 'duration', value: (s) => s.durationUs, text: (s) => formatDuration(s.durationUs), className: 'num' },
  { title: 'client → server', value: (s) => total(s, 'clientToServer'), text: (s) => formatBytes(total(s, 'clientToServer')), className: 'num' },
  { title: 'server → client', value: (s) => total(s, 'serverToClient'), text: (s) => formatBytes(total(s, 'serverToClient')), className: 'num' },
  { title: 'exit', value: exitText },
  { title: 'diagnostics', value: (s) => s.summary.diagnostics, className: 'num' },
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
    const th = el('th', { 'data-col': String(i), title: 'Sort by this column' }, c.title);
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
