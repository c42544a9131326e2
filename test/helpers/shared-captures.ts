/**
 * Real captures made by others, in `shared/` beside the clone (CI) or beside
 * the checkout's parent (a worktree one level further down). Never copied
 * into the project.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** The shared folder `name` (e.g. `real-runtime`), or null when it is not there. */
export function sharedDir(name: string): string | null {
  for (const up of [['..'], ['..', '..']]) {
    const d = resolve(ROOT, ...up, 'shared', name);
    if (existsSync(d)) return d;
  }
  return null;
}

/** Files of a shared folder whose names end with `suffix`, sorted; [] without the folder. */
export function sharedFiles(name: string, suffix: string): string[] {
  const d = sharedDir(name);
  return d ? readdirSync(d).filter((f) => f.endsWith(suffix)).sort().map((f) => join(d, f)) : [];
}
