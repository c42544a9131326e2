/**
 * SETTINGS (type 4):
 *  +----------------------------------+
 *  |        Number of entries         |
 *  +----------------------------------+
 *  | ID flags (8) |  ID (24 bits)     |   repeated
 *  +----------------------------------+
 *  |          Value (32 bits)         |
 *  +----------------------------------+
 * Frame flag 0x01 CLEAR_SETTINGS; entry flags 0x01 PERSIST_VALUE, 0x02 PERSISTED.
 * Entries are kept in wire order, duplicates included: "use the first" is the
 * receiver's policy, not the framing's.
 */
import { SPDY_ERROR } from '../errors.js';
import { FLAG_SETTINGS_CLEAR_SETTINGS, FRAME_TYPE, type SettingsEntry, type SettingsFrame, type SpdyFrameInputOf } from '../types.js';
import type { FrameDecodeContext } from './context.js';
import { FRAME_HEADER_LENGTH, MAX_LENGTH, checkUint, readU32, writeControlHeader, writeU32 } from './frame-header.js';

export function decodeSettings(body: Uint8Array, flags: number, offset: number, ctx: FrameDecodeContext): SettingsFrame | null {
  const count = body.length >= 4 ? readU32(body, 0) : -1;
  // Compare without multiplying first: a huge count must not be trusted for allocation.
  if (count < 0 || (body.length - 4) % 8 !== 0 || (body.length - 4) / 8 !== count) {
    ctx.report(
      SPDY_ERROR.INVALID_FRAME_LENGTH,
      'session',
      count < 0
        ? `SETTINGS of length ${body.length} (at least 4)`
        : `SETTINGS of length ${body.length} declares ${count} entries (needs length ${4 + 8 * count})`,
      offset,
    );
    return null;
  }
  const entries: SettingsEntry[] = new Array(count);
  for (let i = 0, p = 4; i < count; i++, p += 8) {
    entries[i] = { flags: body[p]!, id: (body[p + 1]! << 16) | (body[p + 2]! << 8) | body[p + 3]!, value: readU32(body, p + 4) };
  }
  return { kind: 'settings', offset, flags, clearSettings: (flags & FLAG_SETTINGS_CLEAR_SETTINGS) !== 0, entries };
}

export function encodeSettings(frame: SpdyFrameInputOf<'settings'>): Uint8Array {
  const n = frame.entries.length;
  const length = checkUint('SETTINGS length', 4 + 8 * n, MAX_LENGTH);
  const out = new Uint8Array(FRAME_HEADER_LENGTH + length);
  const flags = (frame.flags ?? 0) | (frame.clearSettings ? FLAG_SETTINGS_CLEAR_SETTINGS : 0);
  writeControlHeader(out, FRAME_TYPE.SETTINGS, flags, length);
  writeU32(out, 8, n);
  for (let i = 0, p = 12; i < n; i++, p += 8) {
    const e = frame.entries[i]!;
    writeU32(out, p, checkUint('SETTINGS id', e.id, 0xffffff));
    out[p] = checkUint('SETTINGS entry flags', e.flags, 0xff);
    writeU32(out, p + 4, checkUint('SETTINGS value', e.value, 0xffffffff));
  }
  return out;
}
