/**
 * The Kubernetes streaming sub-protocols and what each one means on the wire.
 * Sources: apimachinery `remotecommand/constants.go`, `portforward/constants.go`,
 * wsstream `conn.go`, client-go `tools/remotecommand` (see the spec notes).
 */

export const REMOTE_COMMAND_V1 = 'channel.k8s.io';
export const REMOTE_COMMAND_V2 = 'v2.channel.k8s.io';
export const REMOTE_COMMAND_V3 = 'v3.channel.k8s.io';
export const REMOTE_COMMAND_V4 = 'v4.channel.k8s.io';
export const REMOTE_COMMAND_V5 = 'v5.channel.k8s.io';
export const REMOTE_COMMAND_BASE64_V1 = 'base64.channel.k8s.io';
export const REMOTE_COMMAND_BASE64_V4 = 'v4.base64.channel.k8s.io';
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** KEP-4006 port-forward: SPDY/3.1 bytes inside WebSocket binary messages. */
export const TUNNEL_PROTOCOL_PREFIX = 'SPDY/3.1+';
export const PORT_FORWARD_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

/** SPDY upgrade: offered (request, one header line each) and chosen (101 response). */
export const HEADER_PROTOCOL_VERSION = 'X-Stream-Protocol-Version';
/** SPDY upgrade refusal (403): one line per protocol the server supports. */
export const HEADER_ACCEPTED_PROTOCOL_VERSIONS = 'X-Accepted-Stream-Protocol-Versions';

/** What client-go offers over SPDY for exec/attach, in order. */
export const SPDY_REMOTE_COMMAND_OFFER = [
  REMOTE_COMMAND_V5,
  REMOTE_COMMAND_V4,
  REMOTE_COMMAND_V3,
  REMOTE_COMMAND_V2,
  REMOTE_COMMAND_V1,
] as const;

/** What kubelet/CRI streaming servers accept over SPDY (no V5 there). */
export const SPDY_REMOTE_COMMAND_SERVER = [REMOTE_COMMAND_V4, REMOTE_COMMAND_V3, REMOTE_COMMAND_V2, REMOTE_COMMAND_V1] as const;

/** Remote command over WebSocket: the apiserver translator takes only V5; kubelets the rest. */
export const WEBSOCKET_REMOTE_COMMAND_PROTOCOLS = [
  REMOTE_COMMAND_V5,
  REMOTE_COMMAND_V4,
  REMOTE_COMMAND_BASE64_V4,
  REMOTE_COMMAND_V1,
  REMOTE_COMMAND_BASE64_V1,
  '',
] as const;

/** Native WebSocket port-forward (kubelet/CRI): '' means no sub-protocol offered. */
export const WEBSOCKET_PORT_FORWARD_PROTOCOLS = [REMOTE_COMMAND_V4, REMOTE_COMMAND_BASE64_V4, ''] as const;

export type Transport = 'spdy' | 'websocket';
export type ProtocolFamily = 'remotecommand' | 'portforward' | 'tunnel';

export interface RemoteCommandProtocol {
  family: 'remotecommand';
  name: string;
  /** 1–5. */
  version: number;
  /** WebSocket text messages: ASCII channel digit + base64 payload. */
  base64: boolean;
  /** Which transports carry it. */
  transports: readonly Transport[];
  /** The error channel/stream holds a JSON metav1.Status (V4+), else plain text on failure only. */
  statusFormat: 'json' | 'text';
  /** A SPDY resize stream exists (V3+). Every WebSocket protocol has channel 4 regardless. */
  resize: boolean;
  /** The `[255, channel]` close signal (V5 over WebSocket). */
  closeSignal: boolean;
}

export interface PortForwardProtocol {
  family: 'portforward';
  name: string;
  transports: readonly Transport[];
  base64: boolean;
}

export interface TunnelProtocol {
  family: 'tunnel';
  name: string;
  /** The SPDY sub-protocol inside, e.g. `portforward.k8s.io`. */
  inner: string;
}

export type ProtocolInfo = RemoteCommandProtocol | PortForwardProtocol | TunnelProtocol;

function rc(name: string, version: number, base64: boolean, transports: readonly Transport[]): RemoteCommandProtocol {
  return {
    family: 'remotecommand',
    name,
    version,
    base64,
    transports,
    statusFormat: version >= 4 ? 'json' : 'text',
    resize: version >= 3,
    closeSignal: version >= 5,
  };
}

const REMOTE_COMMAND: Record<string, RemoteCommandProtocol> = {
  [REMOTE_COMMAND_V1]: rc(REMOTE_COMMAND_V1, 1, false, ['spdy', 'websocket']),
  [REMOTE_COMMAND_V2]: rc(REMOTE_COMMAND_V2, 2, false, ['spdy']),
  [REMOTE_COMMAND_V3]: rc(REMOTE_COMMAND_V3, 3, false, ['spdy']),
  [REMOTE_COMMAND_V4]: rc(REMOTE_COMMAND_V4, 4, false, ['spdy', 'websocket']),
  [REMOTE_COMMAND_V5]: rc(REMOTE_COMMAND_V5, 5, false, ['spdy', 'websocket']),
  [REMOTE_COMMAND_BASE64_V1]: rc(REMOTE_COMMAND_BASE64_V1, 1, true, ['websocket']),
  [REMOTE_COMMAND_BASE64_V4]: rc(REMOTE_COMMAND_BASE64_V4, 4, true, ['websocket']),
};

/**
 * Facts about a remote-command protocol name. `''` (a WebSocket client that
 * offered nothing) is V1 binary, as wsstream treats it; over SPDY an absent
 * answer also means V1 (client-go).
 */
export function remoteCommandProtocol(name: string | null | undefined): RemoteCommandProtocol | null {
  if (name === '' || name === null || name === undefined) return { ...REMOTE_COMMAND[REMOTE_COMMAND_V1]!, name: '' };
  return REMOTE_COMMAND[name] ?? null;
}

export function protocolInfo(name: string, family?: ProtocolFamily): ProtocolInfo | null {
  if (name.startsWith(TUNNEL_PROTOCOL_PREFIX)) {
    return { family: 'tunnel', name, inner: name.slice(TUNNEL_PROTOCOL_PREFIX.length) };
  }
  if (name === PORT_FORWARD_PROTOCOL) return { family: 'portforward', name, transports: ['spdy'], base64: false };
  if (family === 'portforward') {
    if (name === REMOTE_COMMAND_V4 || name === '') return { family: 'portforward', name, transports: ['websocket'], base64: false };
    if (name === REMOTE_COMMAND_BASE64_V4) return { family: 'portforward', name, transports: ['websocket'], base64: true };
    return null;
  }
  return remoteCommandProtocol(name);
}
