/**
 * kube-apiserver's `--token-auth-file` format, read the way the apiserver
 * reads it (Go's encoding/csv with any number of fields per record):
 *
 *     token,user,uid,"group1,group2"
 *
 * - at least three columns; the fourth, when present, is the groups, split
 *   on commas (quote it, since it contains commas); further columns are
 *   ignored;
 * - RFC 4180 quoting: `"…"` may hold commas, newlines and `""` for a quote;
 *   a quote inside an unquoted field is an error (Go's "bare quote");
 * - empty lines are skipped;
 * - a record with an empty token is skipped with a warning, and a token
 *   that appears twice keeps its last record, also with a warning (as the
 *   apiserver does).
 *
 * Sans-IO: text in, records out; the caller reads the file.
 */
import { KubewireError } from '../../common/errors.js';
import { printable } from '../../common/printable.js';

export interface TokenRecord {
  token: string;
  user: string;
  uid: string;
  groups: string[];
  /** 1-based line where the record starts. */
  line: number;
}

export interface TokenFile {
  records: TokenRecord[];
  /** One line each, never containing a token. */
  warnings: string[];
}

/**
 * Parse a token file. `name` (the file's path) prefixes every message.
 * Throws `KubewireError` `SERVE_TOKEN_FILE_INVALID` naming the line.
 */
export function parseTokenFile(text: string, name: string): TokenFile {
  const warnings: string[] = [];
  const where = (line: number) => `${printable(name)} line ${line}`;
  const byToken = new Map<string, TokenRecord>();
  for (const { fields, line } of csvRecords(text, name)) {
    if (fields.length < 3) {
      throw invalid(`${where(line)}: need at least 3 columns (token, user name, uid), found ${fields.length}`);
    }
    const [token, user, uid, groups] = fields as [string, string, string, string | undefined];
    if (token === '') {
      warnings.push(`${where(line)}: empty token, record skipped`);
      continue;
    }
    const earlier = byToken.get(token);
    if (earlier) {
      warnings.push(`${where(line)}: same token as line ${earlier.line}; this record replaces it`);
      byToken.delete(token);
    }
    byToken.set(token, { token, user, uid, groups: groups === undefined ? [] : groups.split(','), line });
  }
  const records = [...byToken.values()];
  return { records, warnings };
}

function invalid(message: string): KubewireError {
  return new KubewireError('serve', 'SERVE_TOKEN_FILE_INVALID', 'file', message);
}

/** RFC 4180 records with the line each starts on; empty lines skipped. */
function* csvRecords(text: string, name: string): Generator<{ fields: string[]; line: number }> {
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    // An empty line (LF or CRLF) is no record.
    if (text[i] === '\n') {
      i++;
      line++;
      continue;
    }
    if (text[i] === '\r' && text[i + 1] === '\n') {
      i += 2;
      line++;
      continue;
    }
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw invalid(`${printable(name)} line ${start}: quoted field not closed`);
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        const next = text[i];
        const endsLine = next === '\n' || (next === '\r' && text[i + 1] === '\n');
        if (next !== undefined && next !== ',' && !endsLine) {
          throw invalid(`${printable(name)} line ${line}: unexpected text after the closing quote of a quoted field`);
        }
      } else {
        while (i < n && text[i] !== ',' && text[i] !== '\n' && !(text[i] === '\r' && text[i + 1] === '\n')) {
          if (text[i] === '"') throw invalid(`${printable(name)} line ${line}: a quote inside an unquoted field (quote the whole field)`);
          field += text[i];
          i++;
        }
      }
      fields.push(field);
      if (text[i] === ',') {
        i++;
        continue;
      }
      // End of line or of input ends the record.
      if (text[i] === '\r') i++;
      if (text[i] === '\n') {
        i++;
        line++;
      }
      break;
    }
    yield { fields, line: start };
  }
}
