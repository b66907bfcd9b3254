/**
 * Strict decoding of a token's JSON segments (header and payload): base64url (canonical), UTF-8
 * (fatal), one JSON object, and no member name twice in any object.
 *
 * Why the duplicate check: `JSON.parse` keeps the LAST of two equal names, other parsers keep the
 * first or refuse. `{"alg":"none","alg":"ES256"}` or `{"sub":"alice","sub":"admin"}` then means
 * one thing to us and another to a WAF, a log pipeline or a second verifier that looks at the
 * same token. RFC 7515 §5.2 step 4 / RFC 7519 §7.2 step 4: refuse, or keep the last; RFC 8259
 * §4 says names SHOULD be unique. We refuse. Names are compared after unescaping
 * (`"\u0061lg"` is `"alg"`). Tokens are bounded in size (maxTokenLength), so one linear scan of
 * the text is cheap.
 *
 * @module
 * @internal
 */
import { escapeUntrusted } from '../../internal/escape.js';
import { fromUtf8 } from '../../internal/bytes.js';
import { JwtInvalidError } from '../errors.js';
import { decodeB64url, isPlainObject } from './values.js';

/**
 * The first member name that appears twice in one object of `text` (valid JSON, already
 * parsed once), or undefined. One pass; strings are skipped as whole tokens.
 */
export function duplicateMemberName(text: string): string | undefined {
  // Per open object or array: the names seen (objects), and whether the next string is a name.
  const stack: { names: Set<string> | undefined; expectName: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.names !== undefined && top.expectName) {
        const raw = text.slice(i + 1, j);
        const name = raw.includes('\\') ? (JSON.parse(text.slice(i, j + 1)) as string) : raw;
        if (top.names.has(name)) return name;
        top.names.add(name);
        top.expectName = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push({ names: new Set(), expectName: true });
    } else if (c === 0x5b /* [ */) {
      stack.push({ names: undefined, expectName: false });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.names !== undefined) top.expectName = true;
    }
  }
  return undefined;
}

/**
 * Parses base64url(UTF-8(JSON object)) strictly.
 * @throws {JwtInvalidError} naming `what` for bad base64url, bad UTF-8, not JSON, not an object,
 *   or a member name used twice.
 */
export function decodeJsonObject(segment: string, what: string): Record<string, unknown> {
  const bytes = decodeB64url(segment);
  let text: string | undefined;
  let value: unknown;
  try {
    text = bytes === undefined || bytes.length === 0 ? undefined : fromUtf8(bytes);
    value = text === undefined ? undefined : JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (text === undefined || !isPlainObject(value)) throw new JwtInvalidError(`${what} is not a base64url-encoded JSON object`);
  const duplicate = duplicateMemberName(text);
  if (duplicate !== undefined) throw new JwtInvalidError(`${what} has the member "${escapeUntrusted(duplicate, 32)}" twice`);
  return value;
}
