/**
 * What the session model needs on top of the k8s layer: the protocol traits
 * that decide how the error stream reads, and the content tests behind
 * mid-session role inference (the k8s layer has no notion of guessing).
 */
import { ROLE_BY_CHANNEL } from '../k8s/channel.js';
import { remoteCommandProtocol } from '../k8s/protocols.js';
import type { StreamRole } from './events.js';

export const CHANNEL_ROLES: Readonly<Record<number, StreamRole>> = Object.fromEntries(ROLE_BY_CHANNEL.map((r, i) => [i, r]));

export interface ProtocolTraits {
  /** 1–5 for remote command protocols, 0 for port-forward or unknown. */
  version: number;
  base64: boolean;
  statusJson: boolean;
  portforward: boolean;
}

/** What a negotiated protocol name implies. `null`: none negotiated (V1 semantics). */
export function protocolTraits(name: string | null, kindHint: string): ProtocolTraits {
  const n = name ?? '';
  if (n.toLowerCase().endsWith('portforward.k8s.io')) return { version: 0, base64: false, statusJson: false, portforward: true };
  const p = remoteCommandProtocol(n);
  if (!p) return { version: 1, base64: false, statusJson: false, portforward: kindHint === 'portforward' };
  return { version: p.version, base64: p.base64, statusJson: p.statusFormat === 'json', portforward: kindHint === 'portforward' };
}

/** Does this look like the start of a resize message? (mid-session role inference) */
export function looksLikeResize(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 16)).toString('latin1');
  return /^\s*\{\s*"(width|height)"/i.test(head);
}

/** Does this look like a status document? (mid-session role inference) */
export function looksLikeStatus(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 64)).toString('latin1');
  return /^\{"(metadata|status|kind)"/.test(head) && head.includes('"');
}
