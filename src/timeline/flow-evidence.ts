/**
 * Does an endpoint do SPDY flow control at all? Kubernetes' SPDY library
 * (Go spdystream: kubectl ≤ 1.29, the API server, kubelet, container
 * runtimes) honours no window and sends no WINDOW_UPDATE, so its DATA goes
 * past the 64 KiB window in every large exec: that is how it works, not a
 * broken rule. An overrun is a broken rule only from a sender that shows it
 * does flow control: it sent WINDOW_UPDATE or SETTINGS INITIAL_WINDOW_SIZE, or waited at a used-up
 * window for a WINDOW_UPDATE before.
 */
import type { Direction } from '../common/errors.js';
import type { FlowControlSummary } from './summary-types.js';

/** What the endpoint sending in one direction showed so far. */
export interface SenderEvidence {
  /** WINDOW_UPDATE frames it sent (for the other direction's data). */
  windowUpdates: number;
  /** It sent SETTINGS INITIAL_WINDOW_SIZE. */
  settings: boolean;
  /** It used up a window and waited until a WINDOW_UPDATE reopened it. */
  waited: boolean;
  /** It used up a window (exhausted or overran). */
  reachedWindow: boolean;
  overruns: number;
  /** Of those, by a sender that does flow control. */
  violations: number;
  stalls: number;
}

export function newEvidence(): SenderEvidence {
  return { windowUpdates: 0, settings: false, waited: false, reachedWindow: false, overruns: 0, violations: 0, stalls: 0 };
}

/** The endpoint showed it does flow control (so an overrun from it breaks the rule). */
export function doesFlowControl(e: SenderEvidence): boolean {
  return e.windowUpdates > 0 || e.settings || e.waited;
}

function endpointVerdict(e: SenderEvidence): 'yes' | 'no' | 'unknown' {
  if (doesFlowControl(e)) return 'yes';
  return e.overruns > 0 ? 'no' : 'unknown';
}

/** The summary's `flowControl`: per direction, and per endpoint once. */
export function flowControlSummary(ev: Record<Direction, SenderEvidence>): FlowControlSummary {
  const direction = (d: Direction, receiver: Direction) => {
    const s = ev[d];
    return {
      senderRespectsWindows: s.overruns > 0 ? ('no' as const) : s.reachedWindow ? ('yes' as const) : ('unknown' as const),
      receiverWindowUpdates: ev[receiver].windowUpdates,
      stalls: s.stalls,
      overruns: s.overruns,
      violations: s.violations,
    };
  };
  return {
    clientToServer: direction('clientToServer', 'serverToClient'),
    serverToClient: direction('serverToClient', 'clientToServer'),
    client: endpointVerdict(ev.clientToServer),
    server: endpointVerdict(ev.serverToClient),
  };
}
