/**
 * yargs-parser reads a bare `-` argument as an empty string (or `true`), so
 * `kubewire decode -` would lose it. main.ts swaps it for this token before
 * parsing, and commands turn it back into `-`.
 */
export const STDIN_ARG = '\u0000stdin';

export function protectStdinArg(argv: string[]): string[] {
  const dd = argv.indexOf('--');
  return argv.map((a, i) => (a === '-' && (dd < 0 || i < dd) ? STDIN_ARG : a));
}

export function restoreStdinArg(value: string): string {
  return value === STDIN_ARG ? '-' : value;
}
