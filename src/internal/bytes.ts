/**
 * Byte helpers shared by every layer. Argument checks name the argument (noble's `abytes`):
 * TypeError for a wrong type, RangeError for a wrong length.
 */

/** Throws a TypeError naming `name` unless `value` is a Uint8Array (Buffer included). */
export function assertBytes(value: unknown, name: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${describe(value)}`);
  }
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${name} must be ${length} bytes, got ${value.length}`);
  }
}

/** Throws a TypeError naming `name` unless `value` is a non-empty string of at most `max` chars. */
export function assertString(value: unknown, name: string, max = 4096): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string, got ${describe(value)}`);
  if (value.length === 0) throw new RangeError(`${name} must not be empty`);
  if (value.length > max) throw new RangeError(`${name} must be at most ${max} characters`);
}

/** Throws unless `value` is a positive safe integer (or undefined when optional). */
export function assertPositiveInt(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${name} must be an integer, got ${describe(value)}`);
  }
  if (value <= 0) throw new RangeError(`${name} must be positive, got ${value}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? (value.constructor?.name ?? 'an object') : typeof value;
}

/** A Buffer view over the same memory (no copy), so node:crypto and Buffer methods apply. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Concatenates byte arrays into one new Uint8Array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Strict UTF-8 decode: throws TypeError on invalid sequences. */
export function fromUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

const BASE64ISH = /^[A-Za-z0-9+/_-]+={0,2}\s*$/;

/**
 * True when `bytes` looks like base64 / base64url text rather than binary: the caller probably
 * forgot to decode. Used only to make a malformed-input error more helpful.
 */
export function looksLikeBase64(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  const head = bytes.subarray(0, Math.min(bytes.length, 256));
  for (const b of head) if (b < 0x20 || b > 0x7e) return false;
  return BASE64ISH.test(Buffer.from(head).toString('latin1'));
}
