/**
 * Attacker-controlled text (kids, algorithm names, context keys, file contents) shown in an
 * error message or on a terminal. Without escaping, a kid holding `\n` forges log lines and one
 * holding ESC sequences rewrites the terminal. Shared by errors.ts and the CLI.
 */

/** Longest untrusted string shown, in characters, before it is cut with `…`. */
export const MAX_UNTRUSTED_CHARS = 200;

/**
 * `value` made safe to print on one line: C0/C1 controls, DEL, line and paragraph separators,
 * bidi overrides and lone surrogates become `\uXXXX` (backslash doubled first, so the result is
 * unambiguous), and anything past `maxChars` is cut with `…`. Never throws; non-strings are
 * described by type.
 * @example `new KeyNotAllowedError(kid, \`key is not allowed: ${escapeUntrusted(kid)}\`)`
 */
export function escapeUntrusted(value: unknown, maxChars = MAX_UNTRUSTED_CHARS): string {
  if (typeof value !== 'string') return `<${value === null ? 'null' : typeof value}>`;
  const cut = value.length > maxChars ? value.slice(0, maxChars) : value;
  // eslint-disable-next-line no-control-regex
  const escaped = cut.replace(/\\|[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udfff]/gu, (c) =>
    c === '\\' ? '\\\\' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return cut.length < value.length ? `${escaped}…` : escaped;
}
