/** Whether to colour: decided without loading chalk (the JSON forms never need it). */

/** Colour only on a terminal, never with NO_COLOR set to anything non-empty (no-color.org). */
export function colorWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}
