import { readFileSync } from 'node:fs';

/** The package version, read from package.json beside `dist/` (or `src/` under tsx); two levels up from dist/cli/ and from the bundle in dist/bin/. */
export function packageVersion(): string {
  try {
    const url = new URL('../../package.json', import.meta.url);
    const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
