/** Small helpers of the report page: elements, numbers, bytes. */

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page element #${id} missing`);
  return e as T;
}

export { formatBytes, formatDuration } from '../../common/units.js';

/** `HH:MM:SS.uuuuuu` UTC, as the CLI's timeline prints times. */
export function clock(timeUs: number): string {
  const secs = Math.floor(timeUs / 1e6);
  const frac = String(Math.floor(timeUs) - secs * 1e6).padStart(6, '0');
  return `${new Date(secs * 1000).toISOString().slice(11, 19)}.${frac}`;
}

export function fromBase64(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Classic hex dump: offset, 16 bytes in hex, the same as ASCII. */
export function hexDump(bytes: Uint8Array, offset: number): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, i + 16);
    const hx = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${(offset + i).toString(16).padStart(8, '0')}  ${hx.padEnd(47)}  ${ascii}`);
  }
  return lines.join('\n');
}
