/**
 * RFC 6455 wire constants.
 *
 * ```
 * byte 0:  FIN(1) RSV1(1) RSV2(1) RSV3(1) OPCODE(4)
 * byte 1:  MASK(1) LEN7(7)
 * then:    16-bit BE length if LEN7 = 126, 64-bit BE length if LEN7 = 127
 * then:    4-byte masking key if MASK = 1
 * then:    payload
 * ```
 */

export const OPCODE = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

export type Opcode = number;

export const FIN_BIT = 0x80;
export const RSV1_BIT = 0x40;
export const RSV2_BIT = 0x20;
export const RSV3_BIT = 0x10;
export const OPCODE_MASK = 0x0f;
export const MASK_BIT = 0x80;
export const LENGTH7_MASK = 0x7f;
export const LENGTH16_MARKER = 126;
export const LENGTH64_MARKER = 127;

/** RFC 6455 §5.5: control frames carry at most 125 payload bytes. */
export const MAX_CONTROL_PAYLOAD = 125;

/** Largest payload length a JS number represents exactly (the 64-bit field allows more). */
export const MAX_SAFE_LENGTH = Number.MAX_SAFE_INTEGER;

/** RFC 6455 §1.3: appended to Sec-WebSocket-Key before hashing. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const CLOSE_CODE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  NO_STATUS_RECEIVED: 1005,
  ABNORMAL_CLOSURE: 1006,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  MANDATORY_EXTENSION: 1010,
  INTERNAL_ERROR: 1011,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  BAD_GATEWAY: 1014,
  TLS_HANDSHAKE: 1015,
} as const;

/** Names of opcodes as the `kind` of a decoded frame. */
export type FrameKind = 'continuation' | 'text' | 'binary' | 'close' | 'ping' | 'pong' | 'reserved';

const KIND_BY_OPCODE: readonly FrameKind[] = [
  'continuation',
  'text',
  'binary',
  'reserved',
  'reserved',
  'reserved',
  'reserved',
  'reserved',
  'close',
  'ping',
  'pong',
  'reserved',
  'reserved',
  'reserved',
  'reserved',
  'reserved',
];

export function frameKindOf(opcode: number): FrameKind {
  return KIND_BY_OPCODE[opcode & OPCODE_MASK]!;
}

export function opcodeOf(kind: Exclude<FrameKind, 'reserved'>): number {
  switch (kind) {
    case 'continuation':
      return OPCODE.CONTINUATION;
    case 'text':
      return OPCODE.TEXT;
    case 'binary':
      return OPCODE.BINARY;
    case 'close':
      return OPCODE.CLOSE;
    case 'ping':
      return OPCODE.PING;
    case 'pong':
      return OPCODE.PONG;
    default: {
      const never: never = kind;
      throw new Error(`unknown frame kind ${String(never)}`);
    }
  }
}

export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}
