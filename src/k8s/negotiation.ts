/**
 * Sub-protocol negotiation as Kubernetes does it, for both transports.
 *
 * SPDY (apimachinery `httpstream.Handshake`): the client sends one
 * `X-Stream-Protocol-Version` line per protocol (commas also allowed); the
 * server picks the first client-offered protocol it supports and answers it
 * in the 101. No header: 400. No overlap: 403 with one
 * `X-Accepted-Stream-Protocol-Versions` line per supported protocol. A client
 * reading an absent or empty answer assumes V1.
 *
 * WebSocket (wsstream over x/net/websocket): `Sec-WebSocket-Protocol` split on
 * commas, first client-offered supported protocol wins; no offer gives the
 * protocol '' and an empty `Sec-WebSocket-Protocol:` line in the 101; no
 * overlap: 403. x/net reads only the first header line; `firstLineOnly`
 * reproduces that.
 */
import { parseProtocolOffer, selectProtocol } from '../websocket/handshake.js';
import { HEADER_ACCEPTED_PROTOCOL_VERSIONS, HEADER_PROTOCOL_VERSION, REMOTE_COMMAND_V1 } from './protocols.js';

export type NegotiationResult =
  | { ok: true; protocol: string; /** Header lines for the 101. */ headers: Array<[string, string]> }
  | { ok: false; status: 400 | 403; reason: string; headers: Array<[string, string]> };

/** Server side of the SPDY upgrade, from the request's `X-Stream-Protocol-Version` lines. */
export function negotiateSpdy(offerLines: readonly string[], supported: readonly string[]): NegotiationResult {
  const offered = parseProtocolOffer(offerLines);
  if (offered.length === 0) {
    return { ok: false, status: 400, reason: `unable to upgrade: ${HEADER_PROTOCOL_VERSION} is required`, headers: [] };
  }
  const chosen = selectProtocol(offered, supported);
  if (chosen === null) {
    return {
      ok: false,
      status: 403,
      reason: `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${supported.join(' ')}]`,
      headers: supported.map((p) => [HEADER_ACCEPTED_PROTOCOL_VERSIONS, p]),
    };
  }
  return { ok: true, protocol: chosen, headers: [[HEADER_PROTOCOL_VERSION, chosen]] };
}

/** Client side of the SPDY upgrade: the protocol the 101 chose (absent or empty = V1, as client-go assumes). */
export function spdyReplyProtocol(replyLines: readonly string[]): string {
  const chosen = parseProtocolOffer(replyLines);
  return chosen[0] ?? REMOTE_COMMAND_V1;
}

export interface WebSocketNegotiationOptions {
  /** Read only the first `Sec-WebSocket-Protocol` line, as x/net/websocket does. Default false. */
  firstLineOnly?: boolean;
  /** Accept a client that offers nothing (protocol ''). Default: when '' is in `supported`. */
  allowNone?: boolean;
}

/** Server side of a Kubernetes WebSocket upgrade, from the request's `Sec-WebSocket-Protocol` lines. */
export function negotiateWebSocket(
  offerLines: readonly string[],
  supported: readonly string[],
  opts: WebSocketNegotiationOptions = {},
): NegotiationResult {
  const lines = opts.firstLineOnly ? offerLines.slice(0, 1) : offerLines;
  const offered = parseProtocolOffer(lines);
  if (offered.length === 0) {
    if (opts.allowNone ?? supported.includes('')) {
      return { ok: true, protocol: '', headers: [['Sec-WebSocket-Protocol', '']] };
    }
    return { ok: false, status: 403, reason: 'no sub-protocol offered', headers: [] };
  }
  const chosen = selectProtocol(
    offered,
    supported.filter((p) => p !== ''),
  );
  if (chosen === null) {
    return { ok: false, status: 403, reason: `none of [${offered.join(', ')}] is supported`, headers: [] };
  }
  return { ok: true, protocol: chosen, headers: [['Sec-WebSocket-Protocol', chosen]] };
}
