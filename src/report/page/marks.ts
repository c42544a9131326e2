/** How each kind of mark looks and what the legend calls it. */
import type { MarkKind } from '../model.js';

export const MARK_STYLE: Record<MarkKind, { color: string; label: string }> = {
  data: { color: '#1565c0', label: 'data' },
  open: { color: '#9e9e9e', label: 'stream opened' },
  'half-close': { color: '#6a1b9a', label: 'half-close (one side finished sending)' },
  reset: { color: '#d84315', label: 'stream reset' },
  resize: { color: '#00897b', label: 'terminal resize' },
  exit: { color: '#000000', label: 'exit status' },
  goaway: { color: '#c62828', label: 'GOAWAY' },
  ping: { color: '#f9a825', label: 'ping / pong' },
  stall: { color: '#ff9800', label: 'flow-control stall (window at zero)' },
  overrun: { color: '#ef6c00', label: 'sent past the window' },
  gap: { color: '#e53935', label: 'capture gap (bytes missing)' },
  diagnostic: { color: '#b71c1c', label: 'diagnostic' },
  note: { color: '#8d6e63', label: 'note (a rule other software broke; not a diagnostic)' },
  end: { color: '#424242', label: 'session end' },
};
