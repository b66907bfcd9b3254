/**
 * Blind indexes: a keyed, truncated hash of a value, stored next to its ciphertext in an
 * ordinary indexed column, so `WHERE email_bidx = $1` finds candidate rows without the database
 * ever seeing the value. Truncation to `bits` makes many values share each index value: a
 * lookup returns a few false positives (decrypting filters them out) and the column reveals
 * bucket membership, not equality. docs/searchable.md says what each setting leaks.
 *
 * `index = first 32 bits of HMAC-SHA-256(indexKey, u32 n ‖ (u32 len ‖ value)×n) >> (32 − bits)`;
 * `indexKey = HKDF-SHA-256(ikm = the 64-byte DEK of the named key-store record
 * "blind-index:<name>", salt = empty, info = definition)`, where the definition encodes the
 * name, `bits`, the transform ids, the aad and the number of values. The record is created,
 * authenticated and shared exactly like a deterministic key: never the DEK of any value.
 *
 * @module
 */
import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { assertString, utf8 } from '../internal/bytes.js';
import { type BlindIndexTransform, resolveTransforms } from './transforms.js';

/** Options of a blind index (its definition). */
export interface BlindIndexOptions {
  /** The index name, e.g. `'users.email'`; its key record is `blind-index:<name>` in the key store. */
  name: string;
  /** Bits kept, 1..32 (see `planBlindIndex`). Store in `integer` up to 31 bits, `bigint` at 32. */
  bits: number;
  /** Normalization(s) applied before hashing, e.g. `['trim', 'lowercase']`. Part of the definition. */
  transform?: BlindIndexTransform | readonly BlindIndexTransform[];
  /** Binds the index to a place (e.g. the column), like a field's aad. Part of the definition. */
  aad?: string;
  signal?: AbortSignal;
}

/** The name of the key-store record that keys index `name`. */
export function blindIndexKeyName(name: string): string {
  return `blind-index:${name}`;
}

/** Validates the definition; returns its canonical encoding and the transform chain. */
export function blindIndexDefinition(options: BlindIndexOptions, arity: number): { definition: Uint8Array; bits: number; apply: (v: string) => string } {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object with name and bits');
  assertString(options.name, 'options.name', 200);
  if (!options.name.isWellFormed()) throw new RangeError('options.name must be well-formed Unicode');
  const bits = options.bits;
  if (typeof bits !== 'number' || !Number.isInteger(bits)) throw new TypeError('options.bits must be an integer');
  if (bits < 1 || bits > 32) throw new RangeError('options.bits must be 1..32 (planBlindIndex recommends a value)');
  if (options.aad !== undefined && (typeof options.aad !== 'string' || !options.aad.isWellFormed())) throw new TypeError('options.aad must be a well-formed string');
  const chain = resolveTransforms(options.transform, 'options.transform');
  const definition = encodeParts([
    'kv-envelope blind index v1', options.name, String(bits), String(arity), options.aad ?? '', ...chain.ids,
  ].map((s) => utf8(s)));
  return { definition, bits, apply: chain.apply };
}

/** The per-index HMAC key from the record's DEK and the definition (RFC 5869 HKDF). */
export function deriveIndexKey(dek: Uint8Array, definition: Uint8Array): KeyObject {
  const okm = Buffer.from(hkdfSync('sha256', dek, new Uint8Array(0), definition, 32));
  try {
    return createSecretKey(okm);
  } finally {
    okm.fill(0);
  }
}

/** `u32 1` then room for a value's length and up to 1,016 bytes of UTF-8 (single-value indexes). */
const SCRATCH = Buffer.alloc(1024);
SCRATCH.writeUInt32BE(1, 0);

/**
 * The index value of `values` (one value, or several for a compound index) under the index key
 * `key` (from {@link deriveIndexKey}), keeping `bits` bits, after `apply` (the transforms).
 * @throws {TypeError} when a value is not a string or Uint8Array.
 * @throws {RangeError} when a string is not well-formed Unicode.
 */
export function computeBlindIndex(key: KeyObject, index: { readonly bits: number; readonly apply: (value: string) => string }, values: readonly (string | Uint8Array)[]): number {
  const hmac = createHmac('sha256', key);
  const only = values.length === 1 ? values[0] : undefined;
  if (typeof only === 'string') {
    // The common case, without the intermediate buffers: the same bytes as encodeParts([utf8(v)]).
    if (!only.isWellFormed()) throw new RangeError('value must be well-formed Unicode');
    const v = index.apply(only);
    // One update: `u32 1 ‖ u32 len ‖ UTF-8(v)` written into a scratch buffer (HMAC copies it at
    // once; the bytes are the value, so they are zeroed after). Long values take two updates.
    if (v.length * 3 <= SCRATCH.length - 8) {
      const n = SCRATCH.write(v, 8, 'utf8');
      SCRATCH.writeUInt32BE(n, 4);
      hmac.update(SCRATCH.subarray(0, 8 + n));
      SCRATCH.fill(0, 8, 8 + n);
    } else {
      const head = Buffer.alloc(8);
      head.writeUInt32BE(1, 0);
      head.writeUInt32BE(Buffer.byteLength(v, 'utf8'), 4);
      hmac.update(head).update(v, 'utf8');
    }
  } else {
    const parts = values.map((v, i) => {
      if (typeof v === 'string') {
        if (!v.isWellFormed()) throw new RangeError(`value${values.length > 1 ? `[${i}]` : ''} must be well-formed Unicode`);
        return utf8(index.apply(v));
      }
      if (v instanceof Uint8Array) return v;
      throw new TypeError(`value${values.length > 1 ? `[${i}]` : ''} must be a string or Uint8Array`);
    });
    hmac.update(encodeParts(parts));
  }
  return hmac.digest().readUInt32BE(0) >>> (32 - index.bits);
}

/** `u32 n ‖ (u32 len ‖ bytes)×n`: unambiguous, so ('ab','c') and ('a','bc') differ. */
function encodeParts(parts: readonly Uint8Array[]): Uint8Array {
  let size = 4;
  for (const p of parts) size += 4 + p.length;
  const out = Buffer.allocUnsafe(size);
  let off = out.writeUInt32BE(parts.length, 0);
  for (const p of parts) {
    off = out.writeUInt32BE(p.length, off);
    out.set(p, off);
    off += p.length;
  }
  return out;
}
