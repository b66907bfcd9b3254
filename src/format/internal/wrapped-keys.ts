/**
 * The wrapped-key section (docs/format.md §Envelope v2, same encoding in v1):
 * `u8 count ‖ count × (u16 len ‖ kekId ‖ u8 len ‖ alg ‖ u16 len ‖ wrappedDek)`.
 */
import { EnvelopeMalformedError, LimitExceededError } from '../../errors.js';
import { utf8 } from '../../internal/bytes.js';
import type { WrappedKey } from '../../keys/kek.js';
import { Limits } from '../limits.js';
import { type ByteReader, writeU16 } from './reader.js';

/**
 * Encodes the wrapped-key section.
 * @throws {LimitExceededError} when a KEK produced ids or bytes beyond the format's bounds.
 */
export function encodeWrappedKeys(wrappedKeys: readonly WrappedKey[]): Uint8Array {
  if (wrappedKeys.length === 0 || wrappedKeys.length > Limits.MAX_WRAPPED_KEYS) {
    throw new LimitExceededError(`an envelope holds 1 to ${Limits.MAX_WRAPPED_KEYS} wrapped keys, got ${wrappedKeys.length}`);
  }
  const fields = wrappedKeys.map((w) => {
    const id = utf8(w.kekId);
    const alg = utf8(w.alg);
    checkBound(id.length, Limits.MAX_KEK_ID_BYTES, 'kekId');
    checkBound(alg.length, Limits.MAX_ALG_BYTES, 'alg');
    checkBound(w.bytes.length, Limits.MAX_WRAPPED_KEY_BYTES, 'wrapped key');
    return { id, alg, bytes: w.bytes };
  });
  let size = 1;
  for (const f of fields) size += 5 + f.id.length + f.alg.length + f.bytes.length;
  const out = new Uint8Array(size);
  out[0] = fields.length;
  let off = 1;
  for (const f of fields) {
    off = writeU16(out, off, f.id.length);
    out.set(f.id, off);
    off += f.id.length;
    out[off++] = f.alg.length;
    out.set(f.alg, off);
    off = writeU16(out, off + f.alg.length, f.bytes.length);
    out.set(f.bytes, off);
    off += f.bytes.length;
  }
  return out;
}

function checkBound(n: number, max: number, what: string): void {
  if (n === 0 || n > max) throw new LimitExceededError(`${what} must be 1 to ${max} bytes, got ${n}`);
}

/** Reads a wrapped-key section at the reader's position. */
export function parseWrappedKeys(r: ByteReader): WrappedKey[] {
  const count = r.u8();
  if (count === 0 || count > Limits.MAX_WRAPPED_KEYS) {
    throw new EnvelopeMalformedError(`wrapped key count ${count} is outside 1..${Limits.MAX_WRAPPED_KEYS}`);
  }
  const out: WrappedKey[] = [];
  for (let i = 0; i < count; i++) {
    const kekId = text(r.bounded(r.u16(), Limits.MAX_KEK_ID_BYTES, 'kekId'), 'kekId');
    const alg = text(r.bounded(r.u8(), Limits.MAX_ALG_BYTES, 'alg'), 'alg');
    const bytes = r.bounded(r.u16(), Limits.MAX_WRAPPED_KEY_BYTES, 'wrapped key');
    if (kekId.length === 0 || alg.length === 0 || bytes.length === 0) throw new EnvelopeMalformedError('empty wrapped key field');
    out.push(Object.freeze({ kekId, alg, bytes }));
  }
  return out;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
function text(bytes: Uint8Array, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new EnvelopeMalformedError(`${what} is not valid UTF-8`);
  }
}

/**
 * The last wrapped-key section a client parsed, and its parsed keys. Envelopes under one cached
 * DEK share their section, so a byte compare replaces the UTF-8 decoding and allocations of a
 * parse. The section is self-delimiting: equal leading bytes parse to the same keys and length.
 * One instance per client.
 */
export class WrappedKeysMemo {
  #section: Buffer | undefined;
  #keys: readonly WrappedKey[] = [];

  /** Reads a wrapped-key section at the reader's position, from the memo when the bytes match. */
  parse(r: ByteReader): readonly WrappedKey[] {
    const last = this.#section;
    if (last !== undefined && r.remaining >= last.length) {
      const here = r.bytes.subarray(r.offset, r.offset + last.length);
      if (last.equals(here)) {
        r.offset += last.length;
        return this.#keys;
      }
    }
    const start = r.offset;
    const keys = parseWrappedKeys(r);
    // Own copies: the memo must not pin (or follow changes to) the caller's envelope buffer.
    const section = Buffer.from(r.bytes.subarray(start, r.offset));
    let off = 1;
    this.#keys = Object.freeze(keys.map((w) => {
      off += 2 + Buffer.byteLength(w.kekId) + 1 + Buffer.byteLength(w.alg) + 2;
      const bytes = section.subarray(off, off + w.bytes.length);
      off += w.bytes.length;
      return Object.freeze({ kekId: w.kekId, alg: w.alg, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
    }));
    this.#section = section;
    return this.#keys;
  }
}
