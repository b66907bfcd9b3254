/**
 * The values the JWT API takes and emits, checked in one place:
 *
 * - base64url, strict (RFC 7515 §2: no padding, no whitespace, canonical);
 * - "plain JSON" for claims and header parameters on the signing side;
 * - durations: a non-negative integer number of seconds, or a string like `"90s"`, `"15m"`,
 *   `"2h"`, `"7d"`, `"1w"` (integer amount, one unit, optional space). Months and years are
 *   refused on purpose: their length varies.
 *
 * @module
 * @internal
 */
const B64URL = /^[A-Za-z0-9_-]*$/;

/** base64url without padding. */
export function b64url(bytes: Uint8Array | string): string {
  return (typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('base64url');
}

/** True when `text` is non-empty base64url without padding of a possible length (no decoding). */
export function isB64urlShape(text: string): boolean {
  return text.length > 0 && text.length % 4 !== 1 && B64URL.test(text);
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

/** A duration: whole seconds, or a string such as `"15m"`, `"2h"`, `"7d"`. */
export type Duration = number | string;

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86_400, day: 86_400, days: 86_400,
  w: 604_800, week: 604_800, weeks: 604_800,
};

const PATTERN = /^(\d{1,10}) ?([a-z]+)$/;
/** 100 years: larger durations are surely a mistake. */
const MAX_SECONDS = 100 * 365 * 86_400;

/**
 * Parses `value` into whole seconds.
 * @throws {TypeError} when `value` is neither a number nor a string.
 * @throws {RangeError} naming `name` when it is negative, fractional, too large or unparsable.
 */
export function durationSeconds(value: unknown, name: string): number {
  let seconds: number;
  if (typeof value === 'number') {
    seconds = value;
  } else if (typeof value === 'string') {
    const m = PATTERN.exec(value.trim().toLowerCase());
    const unit = m !== null && Object.hasOwn(UNIT_SECONDS, m[2]!) ? UNIT_SECONDS[m[2]!] : undefined;
    if (m === null || unit === undefined) {
      throw new RangeError(`${name} must be seconds or a duration like "90s", "15m", "2h", "7d", "1w", got ${JSON.stringify(value)}`);
    }
    seconds = Number(m[1]) * unit;
  } else {
    throw new TypeError(`${name} must be a number of seconds or a duration string, got ${value === null ? 'null' : typeof value}`);
  }
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new RangeError(`${name} must be a non-negative whole number of seconds, got ${seconds}`);
  if (seconds > MAX_SECONDS) throw new RangeError(`${name} must be at most 100 years`);
  return seconds;
}

/** {@link durationSeconds}, and more than zero. */
export function positiveDurationSeconds(value: unknown, name: string): number {
  const seconds = durationSeconds(value, name);
  if (seconds === 0) throw new RangeError(`${name} must be more than 0 seconds`);
  return seconds;
}

/** Throws unless `now` is a clock function. */
export function assertClock(now: unknown, name: string): asserts now is () => number {
  if (now !== undefined && typeof now !== 'function') throw new TypeError(`${name} must be a function returning ms since the epoch`);
}

/** ms → whole Unix seconds. */
export function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
