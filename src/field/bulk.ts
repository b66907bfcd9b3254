/**
 * Per-item results for bulk field operations: an error for one item is that item's result,
 * never a rejection of the whole batch.
 *
 * @module
 */
import { EnvelopeError } from '../errors.js';

/** A bulk input: the value alone, or with its aad. */
export type BulkItem<V> = V | { readonly value: V; readonly aad?: string };

/** One item's outcome, in input order. */
export type BulkResult<T> =
  | { readonly ok: true; readonly index: number; readonly value: T }
  | { readonly ok: false; readonly index: number; readonly error: EnvelopeError | TypeError | RangeError };

/** Runs `op` over every item in order; a throw becomes that item's `{ ok: false }`. Aborts reject the whole call. */
export async function runBulk<V, T>(
  items: Iterable<BulkItem<V>>,
  signal: AbortSignal | undefined,
  op: (value: V, aad: string | undefined, signal: AbortSignal | undefined) => Promise<T>,
): Promise<BulkResult<T>[]> {
  if (items === null || typeof (items as Iterable<unknown>)?.[Symbol.iterator] !== 'function') throw new TypeError('items must be iterable');
  const out: BulkResult<T>[] = [];
  let index = 0;
  for (const item of items) {
    signal?.throwIfAborted();
    const i = index++;
    const plain = typeof item === 'string' || item instanceof Uint8Array || item === null || typeof item !== 'object';
    const value = (plain ? item : (item as { value: V }).value) as V;
    const aad = plain ? undefined : (item as { aad?: string }).aad;
    try {
      out.push({ ok: true, index: i, value: await op(value, aad, signal) });
    } catch (err) {
      signal?.throwIfAborted();
      if (err instanceof EnvelopeError || err instanceof TypeError || err instanceof RangeError) out.push({ ok: false, index: i, error: err });
      else throw err;
    }
  }
  return out;
}
