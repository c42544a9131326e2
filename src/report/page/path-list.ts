/**
 * The Paths section: per path a title, its hops stacked on one time axis
 * (PathView), controls to zoom and to follow a byte by its offset, and the
 * path's facts in words (clocks, set-up per hop, the exit status's travel,
 * where bytes stopped).
 */
import type { ReportData, ReportPath, ReportSession } from '../model.js';
import { byId, el, formatDuration } from './format.js';
import { clockText, flowText, HOP_NAME, PathView, stopText } from './paths.js';

export function renderPaths(data: ReportData, open: (session: number) => void): PathView[] {
  const section = byId('paths-section');
  section.hidden = data.paths.length === 0;
  if (data.paths.length === 0) return [];
  const sessions = new Map<number, ReportSession>(data.sessions.map((s) => [s.summary.session, s]));
  const views: PathView[] = [];
  byId('paths').replaceChildren(
    ...data.paths.map((p) => {
      const box = el('div', { class: 'path', 'data-path': String(p.path) });
      const plot = el('div', { class: 'path-plot' });
      const info = el('p', { class: 'follow-info hint' }, 'Click a data mark to follow its first byte down the path, or choose a stream and a byte offset above.');
      const view = new PathView(plot, p, sessions, open, (nodes) => info.replaceChildren(...nodes));
      views.push(view);
      box.append(el('h3', {}, title(p)), el('p', { class: 'facts' }, clockText(p, data.clockOffsets)), toolbar(view), plot, info, notes(p));
      return box;
    }),
  );
  for (const v of views) v.render();
  return views;
}

function title(p: ReportPath): string {
  const where = p.pod ? ` in ${p.namespace ? p.namespace + '/' : ''}${p.pod}${p.container ? ` (${p.container})` : ''}` : '';
  return `Path ${p.path}: ${p.kind}${p.tty ? ' with a TTY' : ''}${where}${p.command.length ? ` — ${p.command.join(' ')}` : ''} · ${p.hops.length} hops`;
}

function toolbar(view: PathView): HTMLElement {
  const button = (text: string, help: string, f: () => void) => {
    const b = el('button', { title: help }, text);
    b.addEventListener('click', f);
    return b;
  };
  const flows = view.flows();
  const pick = el('select', { class: 'follow-stream', 'aria-label': 'stream' }, ...flows.map((f, i) => el('option', { value: String(i) }, flowText(f))));
  const offset = el('input', { class: 'follow-offset', type: 'number', min: '0', value: '0', 'aria-label': 'byte offset' });
  const go = () => {
    const f = flows[Number(pick.value)];
    const n = Math.floor(Number(offset.value));
    if (f && Number.isFinite(n) && n >= 0) view.follow({ ...f, offset: n });
  };
  offset.addEventListener('change', go);
  view.onFollowed = (f) => {
    const i = flows.findIndex((x) => x.stream === f.stream && x.d === f.d);
    if (i >= 0) pick.value = String(i);
    offset.value = String(f.offset);
  };
  return el(
    'div',
    { class: 'toolbar' },
    button('+', 'Zoom in (or the mouse wheel over the hops)', () => view.zoom(2)),
    button('−', 'Zoom out', () => view.zoom(0.5)),
    button('whole path', 'Show the whole path', () => view.reset()),
    ...(flows.length
      ? [el('label', {}, 'follow byte ', pick), el('label', {}, 'at offset ', offset), button('follow', 'Show where this byte of the stream is at every hop', go)]
      : []),
    el('span', { class: 'hint' }, 'Wheel to zoom, drag to pan, click a hop’s name to open its session.'),
  );
}

function notes(p: ReportPath): HTMLElement {
  const items: string[] = [];
  p.hops.forEach((h, i) => {
    const name = `Hop ${i + 1}, ${HOP_NAME[h.hop] ?? h.hop}`;
    items.push(
      `${name}: ${h.client} → ${h.server}${h.session !== null ? `, session ${h.session}` : ''}` +
        `${h.setupUs !== null ? `; set-up (request to 101 Switching Protocols) ${formatDuration(h.setupUs)}` : ''}${h.end ? `; ended by ${h.end}` : ''}.`,
    );
  });
  if (p.exit) {
    items.push(
      p.exit.travelUs !== null && p.exit.from !== p.exit.to
        ? `Exit status ${p.exit.status}${p.exit.code !== null ? ` (${p.exit.code})` : ''} travelled from hop ${p.exit.from + 1} to hop ${p.exit.to + 1} in ${formatDuration(p.exit.travelUs)}.`
        : `Exit status ${p.exit.status}${p.exit.code !== null ? ` (${p.exit.code})` : ''}, seen at hop ${p.exit.from + 1}.`,
    );
  }
  for (const s of p.stopped) items.push(`Hop ${s.hop + 1}: ${stopText(s)}.`);
  if (p.stopped.length === 0) items.push('No bytes stopped on the way: every hop carried as many bytes as the one before it.');
  p.links.forEach((l) => items.push(`Why hops ${l.outer + 1} and ${l.inner + 1} are one ${p.kind}: ${l.why}.`));
  return el('ul', { class: 'path-notes' }, ...items.map((t) => el('li', {}, t)));
}
