/**
 * The I/O edge of `kubewire decode`: read the capture, run it through the
 * pipeline, hand events to the output renderers, pick the exit code.
 */
import { EXIT_USAGE } from './exit-codes.js';

export interface DecodeArgs {
  input: string;
  summary: boolean;
  json: boolean;
  ndjson: boolean;
  follow: boolean;
  session?: number[];
  stream?: number[];
  role?: string[];
  extract?: string;
  decodeAs?: string[];
  showSecrets: boolean;
  bytes: boolean;
  progress?: boolean;
}

export async function runDecode(_args: DecodeArgs): Promise<number> {
  // Wired to the capture pipeline and the session decoder as they land.
  process.stderr.write('kubewire decode: the decode pipeline is not built yet\n');
  return EXIT_USAGE;
}
