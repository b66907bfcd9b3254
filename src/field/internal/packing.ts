/**
 * Packing bulk items into contiguous buffers for worker threads: values and aads as UTF-8 (or
 * raw bytes) back to back with Int32 offsets, so one chunk is a handful of transferable buffers
 * instead of thousands of structured-clone objects.
 *
 * @module
 * @internal
 */
import { Limits } from '../../format/limits.js';
import type { BulkItem } from '../bulk.js';

/** A packed chunk: `values[offs[i]..offs[i+1])` is item i; likewise its aad. Invalid items are in `invalid`. */
export interface PackedChunk {
  readonly start: number;
  readonly count: number;
  readonly data: Uint8Array;
  readonly offs: Int32Array;
  readonly aad: Uint8Array;
  readonly aadOffs: Int32Array;
  /** Item positions (within the chunk) that failed validation, with their errors; packed as empty. */
  readonly invalid: Map<number, TypeError | RangeError>;
}

/** Splits `item` into value and aad (the BulkItem shape). */
export function itemParts<V>(item: BulkItem<V>): { value: unknown; aad: unknown } {
  const plain = typeof item === 'string' || item instanceof Uint8Array || item === null || typeof item !== 'object';
  return plain ? { value: item, aad: undefined } : { value: (item as { value: V }).value, aad: (item as { aad?: string }).aad };
}

/** Packs `items[start..start+count)`; `asBytes` validates one value (string → UTF-8 allowed when `text`). */
export function packChunk<V>(items: readonly BulkItem<V>[], start: number, count: number, text: boolean): PackedChunk {
  const invalid = new Map<number, TypeError | RangeError>();
  const values: (Uint8Array | string | undefined)[] = new Array(count);
  const aads: (string | undefined)[] = new Array(count);
  let dataBytes = 0;
  let aadBytes = 0;
  for (let i = 0; i < count; i++) {
    const { value, aad } = itemParts(items[start + i]!);
    const error = check(value, aad, text);
    if (error !== undefined) {
      invalid.set(i, error);
      continue;
    }
    values[i] = value as Uint8Array | string;
    aads[i] = aad as string | undefined;
    dataBytes += typeof value === 'string' ? value.length * 3 : (value as Uint8Array).length;
    aadBytes += aad === undefined ? 0 : (aad as string).length * 3;
  }
  const data = Buffer.allocUnsafeSlow(Math.max(dataBytes, 1));
  const aad = Buffer.allocUnsafeSlow(Math.max(aadBytes, 1));
  const offs = new Int32Array(count + 1);
  const aadOffs = new Int32Array(count + 1);
  let d = 0;
  let a = 0;
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (typeof v === 'string') d += data.write(v, d, 'utf8');
    else if (v !== undefined) {
      data.set(v, d);
      d += v.length;
    }
    const t = aads[i];
    if (t !== undefined) a += aad.write(t, a, 'utf8');
    offs[i + 1] = d;
    aadOffs[i + 1] = a;
  }
  return { start, count, data, offs, aad, aadOffs, invalid };
}

function check(value: unknown, aad: unknown, text: boolean): TypeError | RangeError | undefined {
  if (!(value instanceof Uint8Array) && !(text && typeof value === 'string')) return new TypeError(`value must be ${text ? 'a string or ' : ''}a Uint8Array`);
  if (typeof value === 'string' && !value.isWellFormed()) return new RangeError('value must be well-formed Unicode');
  if (aad === undefined) return undefined;
  if (typeof aad !== 'string') return new TypeError('aad must be a string');
  if (!aad.isWellFormed()) return new RangeError('aad must be well-formed Unicode (no lone surrogates)');
  if (Buffer.byteLength(aad) > Limits.MAX_FIELD_AAD_BYTES) return new RangeError(`aad must be at most ${Limits.MAX_FIELD_AAD_BYTES} bytes`);
  return undefined;
}
