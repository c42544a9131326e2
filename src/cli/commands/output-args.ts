/**
 * The output flags `decode` and `tap` share (they feed the same renderers).
 * No yargs defaults on the format flags: a default counts as given for
 * `conflicts`.
 */
export interface OutputCliArgs {
  summary?: boolean;
  json?: boolean;
  ndjson?: boolean;
  follow?: boolean;
  session?: number[];
  stream?: number[];
  role?: string[];
  extract?: string;
  'decode-as'?: string[];
  'show-secrets': boolean;
  bytes: boolean;
}
