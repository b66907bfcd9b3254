/**
 * A dotenv file parser for `kv-envelope run --env-file`, with the grammar of the `dotenv` package
 * (the de facto standard) and one difference that matters here: a line it cannot read is an
 * error naming the file and line, where `dotenv.parse` skips it silently — a skipped line holding
 * a Key Vault reference would start the program without that variable. Node's own
 * `util.parseEnv` is not used: its grammar changed between Node 20 minors (the engine floor is
 * 20.19) and it reports nothing either.
 *
 * Grammar, per logical line:
 * - blank lines and lines whose first non-blank character is `#` are skipped;
 * - `[export ]NAME=VALUE`, NAME of letters, digits, `_`, `.` and `-` (not starting with a digit),
 *   blanks allowed around `=`; a later NAME replaces an earlier one;
 * - `"double"` quotes: may span lines; `\n`, `\r`, `\t`, `\"` and `\\` are escapes, any other
 *   backslash is kept;
 * - `'single'` and `` `backtick` `` quotes: literal, may span lines;
 * - unquoted: up to the end of the line or a `#` that follows a blank (so `p#ss` keeps its `#`),
 *   trimmed;
 * - after a closing quote only blanks and a `# comment` may follow;
 * - no `${VAR}` expansion (the text is kept as written).
 *
 * Messages never quote a value or an unreadable line: a line that is not NAME=VALUE may be a
 * secret pasted in the wrong place.
 */
import { UsageError } from './errors.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

/**
 * The variables of a dotenv text, in file order (a repeated name keeps its last value).
 * @throws {UsageError} naming `file`, the line, and the variable when known (never a value).
 * @example `parseDotenv('export DB="@Microsoft.KeyVault(VaultName=v;SecretName=db)"\n', '.env')`
 */
export function parseDotenv(text: string, file: string): Map<string, string> {
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const vars = new Map<string, string>();
  let i = 0;
  let line = 1;
  const fail = (at: number, why: string): never => {
    throw new UsageError(`${file}:${at}: ${why}`);
  };
  while (i < src.length) {
    const end = src.indexOf('\n', i) === -1 ? src.length : src.indexOf('\n', i);
    const raw = src.slice(i, end);
    const start = line;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i = end + 1;
      line++;
      continue;
    }
    const eq = raw.indexOf('=');
    if (eq === -1) fail(start, 'expected NAME=VALUE (the line is not shown: it may hold a secret)');
    const name = raw.slice(0, eq).trim().replace(/^export\s+/, '');
    if (!NAME.test(name)) fail(start, 'invalid variable name: letters, digits, _ . - only, not starting with a digit');
    let j = eq + 1 + i;
    while (j < src.length && (src[j] === ' ' || src[j] === '\t')) j++;
    const quote = src[j];
    if (quote === '"' || quote === "'" || quote === '`') {
      const { value, close } = quoted(src, j, quote) ?? fail(start, `${name}: the ${quote === '"' ? 'double' : quote === "'" ? 'single' : 'backtick'} quote is not closed`);
      line += countLines(src, i, close);
      const restEnd = src.indexOf('\n', close) === -1 ? src.length : src.indexOf('\n', close);
      const after = src.slice(close + 1, restEnd);
      if (!/^\s*(#.*)?$/.test(after)) fail(line, `${name}: only a # comment may follow the closing quote`);
      vars.delete(name);
      vars.set(name, value);
      i = restEnd + 1;
      line++;
      continue;
    }
    // From just after `=`: a `#` after a blank starts a comment, also right after `= `.
    const unquoted = src.slice(i + eq + 1, end);
    const comment = unquoted.search(/\s#/);
    vars.delete(name);
    vars.set(name, (comment === -1 ? unquoted : unquoted.slice(0, comment)).trim());
    i = end + 1;
    line++;
  }
  return vars;
}

/** The value of a quoted string opening at `open`, and the index of its closing quote. */
function quoted(src: string, open: number, quote: string): { value: string; close: number } | undefined {
  let value = '';
  for (let k = open + 1; k < src.length; k++) {
    const c = src[k]!;
    if (c === quote) return { value, close: k };
    if (quote === '"' && c === '\\' && k + 1 < src.length) {
      const next = src[k + 1]!;
      const escaped = Object.hasOwn(ESCAPES, next) ? ESCAPES[next] : undefined;
      value += escaped ?? `\\${next}`;
      k++;
      continue;
    }
    value += c;
  }
  return undefined;
}

function countLines(src: string, from: number, to: number): number {
  let n = 0;
  for (let k = from; k < to; k++) if (src[k] === '\n') n++;
  return n;
}

/**
 * `vars` as a dotenv text that {@link parseDotenv} reads back unchanged (double-quoted, escaped).
 * @example `formatDotenv(new Map([['A', 'x"y']]))` → `A="x\"y"\n`
 */
export function formatDotenv(vars: ReadonlyMap<string, string>): string {
  let out = '';
  for (const [k, v] of vars) out += `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"\n`;
  return out;
}
