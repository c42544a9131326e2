/** Exit codes every kubewire command keeps (scripts rely on them). */
export const EXIT_OK = 0;
/** Decoded to the end, but something on the wire needed a diagnostic. */
export const EXIT_DIAGNOSTICS = 1;
/** Bad command line, or input that could not be read at all. */
export const EXIT_USAGE = 2;
