/**
 * Encoding helpers: strict base64url (RFC 7515 §2: no padding, no whitespace, canonical), and
 * the "plain JSON" check used for claims and header parameters on the signing side.
 *
 * @module
 * @internal
 */
import { fromUtf8 } from '../../internal/bytes.js';

const B64URL = /^[A-Za-z0-9_-]*$/;

/** base64url without padding. */
export function b64url(bytes: Uint8Array | string): string {
  return (typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('base64url');
}

/**
 * Decodes base64url strictly, or undefined. Canonical only: the unused low bits of the last
 * character must be zero, so no two strings decode to the same bytes (otherwise a changed last
 * character of a signature could still verify).
 */
export function decodeB64url(text: string): Buffer | undefined {
  if (!B64URL.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

/** Parses base64url(UTF-8(JSON object)) strictly, or undefined (any failure). */
export function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  const bytes = decodeB64url(segment);
  if (bytes === undefined || bytes.length === 0) return undefined;
  try {
    const value: unknown = JSON.parse(fromUtf8(bytes));
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** True for `{…}` objects (prototype Object.prototype or null), not arrays, Dates, class instances. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** How deep claims may nest (a cycle is caught as well). */
const MAX_DEPTH = 32;

/**
 * Throws unless `value` is JSON that `JSON.stringify` writes as is: null, booleans, finite
 * numbers, strings, arrays and plain objects, nested at most {@link MAX_DEPTH} levels. `undefined`
 * members, functions, symbols, bigints, NaN/Infinity, Dates and class instances are refused
 * rather than silently dropped or converted.
 * @throws {TypeError} naming the path of the first offending value.
 * @throws {RangeError} when nested too deeply (or circular).
 */
export function assertPlainJson(value: unknown, path: string, depth = 0): void {
  if (depth > MAX_DEPTH) throw new RangeError(`${path} nests more than ${MAX_DEPTH} levels (or is circular)`);
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${path} must be a finite number, got ${value}`);
      return;
    case 'object':
      if (value === null) return;
      if (Array.isArray(value)) {
        value.forEach((item, i) => assertPlainJson(item, `${path}[${i}]`, depth + 1));
        return;
      }
      if (!isPlainObject(value)) throw new TypeError(`${path} must be a plain JSON object, got ${value.constructor?.name ?? 'an object'}`);
      for (const [k, v] of Object.entries(value)) assertPlainJson(v, `${path}.${k}`, depth + 1);
      return;
    default:
      throw new TypeError(`${path} must be JSON (string, number, boolean, null, array or plain object), got ${typeof value}`);
  }
}
