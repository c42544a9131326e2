/** What a clicked mark stands for: the event in words, and a data event's bytes as hex and as escaped text. */
import { escapeBytes } from '../../common/printable.js';
import type { ReportData, ReportSession } from '../model.js';
import { byId, clock, el, formatBytes, formatDuration, fromBase64, hex, hexDump } from './format.js';
import type { Pick } from './lanes.js';
import { MARK_STYLE } from './marks.js';

const DIRECTION = ['client → server', 'server → client'];

export function showDetail(session: ReportSession, pick: Pick, limits: ReportData['limits']): void {
  const box = byId('detail');
  const m = pick.marks[0]!;
  const parts: Node[] = [];
  const when = `at +${formatDuration(m.t)} (${clock(session.summary.startTime + m.t)} UTC)`;
  const dir = m.d >= 0 ? `, ${DIRECTION[m.d]}` : '';
  parts.push(el('p', {}, el('strong', {}, `${pick.lane.label}: ${MARK_STYLE[m.k].label}`), ` ${when}${dir}`));
  if (m.k !== 'data') {
    parts.push(el('p', { class: 'event-text' }, m.x ?? ''));
    if (pick.marks.length > 1) parts.push(el('p', { class: 'hint' }, `…and ${pick.marks.length - 1} more like it close by; zoom in to tell them apart.`));
  } else {
    const events = pick.marks.reduce((n, x) => n + (x.c ?? 1), 0);
    const bytes = pick.marks.reduce((n, x) => n + (x.n ?? 0), 0);
    if (events > 1) {
      const last = pick.marks[pick.marks.length - 1]!;
      parts.push(
        el('p', { class: 'hint' }, `This mark stands for ${events} data events, ${formatBytes(bytes)}, from +${formatDuration(m.t)} to +${formatDuration(last.t1 ?? last.t)}. ` +
          (pick.marks.length > 1 ? 'Zoom in to tell them apart. ' : 'The report merged them to stay small. ') + 'Below: the first event.'),
      );
    }
    const shown = m.b ? fromBase64(m.b) : new Uint8Array(0);
    const first = m.c && m.c > 1 ? null : m.n ?? 0;
    parts.push(el('p', {}, first === null ? `The first event starts at stream offset ${m.o ?? 0}.` : `${first} bytes at stream offset ${m.o ?? 0}.`));
    if (shown.length === 0) {
      parts.push(el('p', { class: 'note' }, `The bytes of this event were left out of the report (it holds at most ${formatBytes(limits.bytesInAll)} of stream bytes); kubewire decode --extract writes them all.`));
    } else {
      if (first !== null && shown.length < first) {
        parts.push(el('p', { class: 'note' }, `The first ${shown.length} of ${first} bytes are shown (the report keeps at most ${formatBytes(limits.bytesPerEvent)} per event); kubewire decode --extract writes them all.`));
      }
      parts.push(el('h4', {}, 'text'), el('pre', { class: 'text' }, escapeBytes(shown)));
      parts.push(el('h4', {}, 'hex'), el('pre', { class: 'hex', 'data-offset': String(m.o ?? 0), 'data-hex': hex(shown) }, hexDump(shown, m.o ?? 0)));
    }
  }
  box.replaceChildren(...parts);
}
