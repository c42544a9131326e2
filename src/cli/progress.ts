/**
 * Progress on stderr while a long capture is read: bytes, percent when the
 * size is known, rate. Redrawn at most 5 times a second on one line.
 */
import { formatBytes } from './output/style.js';

export interface Progress {
  update(chunkBytes: number): void;
  done(): void;
}

const REDRAW_MS = 200;
/** Short runs show no progress at all. */
const FIRST_DRAW_MS = 300;

export function createProgress(stderr: NodeJS.WritableStream, total: number | null, immediate = false): Progress {
  const start = Date.now();
  let bytes = 0;
  let last = immediate ? 0 : start + FIRST_DRAW_MS - REDRAW_MS;
  let drawn = false;
  const draw = () => {
    const secs = Math.max((Date.now() - start) / 1000, 0.001);
    const pct = total ? ` ${((bytes / total) * 100).toFixed(0).padStart(3)}%` : '';
    stderr.write(`\r\x1b[Kdecoding${pct} ${formatBytes(bytes)}${total ? ` of ${formatBytes(total)}` : ''} (${formatBytes(bytes / secs)}/s)`);
    drawn = true;
  };
  return {
    update(n) {
      bytes += n;
      const now = Date.now();
      if (now - last >= REDRAW_MS) {
        last = now;
        draw();
      }
    },
    done() {
      if (drawn) stderr.write('\r\x1b[K');
    },
  };
}
