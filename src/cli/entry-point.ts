/**
 * Whether a module is the script node was started with (also through a
 * symlink, as `npm install -g` leaves the executables): such a module runs
 * its command; imported, it only exports.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function isEntryPoint(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
