/**
 * Internal helpers that let the clients use several KEKs at once: wrap a DEK under every
 * configured KEK, and unwrap with whichever configured KEK matches a stored wrapped key.
 * Not exported from the package root.
 *
 * @module
 * @internal
 */
import { DecryptionFailedError, NoMatchingKekError } from '../errors.js';
import { assertBytes, assertPositiveInt } from '../internal/bytes.js';
import type { KekOperationOptions, KeyEncryptionKey, WrappedKey } from './kek.js';

/** Options for {@link unwrapWithAny}. */
export interface UnwrapWithAnyOptions extends KekOperationOptions {
  /**
   * The DEK length the caller's format requires (e.g. 32). An unwrapped key of another length is
   * treated as a failed unwrap (`DecryptionFailedError`), never handed on.
   */
  expectedDekLength?: number;
}

function assertKeks(keks: unknown): asserts keks is readonly KeyEncryptionKey[] {
  if (!Array.isArray(keks)) throw new TypeError('keks must be an array of KeyEncryptionKey');
  if (keks.length === 0) throw new RangeError('keks must not be empty');
}

/**
 * Wraps `dek` under every KEK in `keks`, in parallel, returning the wrapped keys in `keks` order.
 * All-or-nothing: if any KEK fails the promise rejects with the first failure.
 *
 * @throws {TypeError} when `keks` is not an array or `dek` is not a Uint8Array.
 * @throws {RangeError} when `keks` is empty.
 * @throws {EnvelopeError} whatever the first failing `KeyEncryptionKey.wrap` throws.
 * @throws {unknown} `options.signal.reason` when the signal is aborted.
 * @example
 * ```ts
 * const wrappedKeys = await wrapUnderAll([vaultKek, breakGlassKek], dek, { signal });
 * ```
 */
export async function wrapUnderAll(
  keks: readonly KeyEncryptionKey[],
  dek: Uint8Array,
  options?: KekOperationOptions,
): Promise<WrappedKey[]> {
  assertKeks(keks);
  assertBytes(dek, 'dek');
  const signal = options?.signal;
  signal?.throwIfAborted();
  const wrapped = await Promise.all(keks.map((kek) => kek.wrap(dek, { signal })));
  signal?.throwIfAborted();
  return wrapped;
}

/**
 * Unwraps the DEK from the first wrapped key that a configured KEK can open. Wrapped keys are
 * tried in order; for each, every KEK whose `matches()` is true is tried in `keks` order, one at
 * a time. The first success wins.
 *
 * When every matching attempt fails, the most useful error is rethrown: the last error that is
 * not a `DecryptionFailedError` (a KEK that is unreachable, disabled, wrap-only, … tells the
 * caller more than "does not authenticate"), else a fresh `DecryptionFailedError`.
 *
 * @throws {NoMatchingKekError} when no KEK matches any wrapped key (nothing was attempted).
 * @throws {DecryptionFailedError} when every matching KEK reported a decryption failure, or
 *   unwrapped a key whose length is not `options.expectedDekLength`.
 * @throws {EnvelopeError} the last non-decryption error (`ERR_KEK_UNAVAILABLE`, …) when no
 *   attempt succeeded.
 * @throws {TypeError} when `keks` or `wrappedKeys` is not an array.
 * @throws {RangeError} when `keks` is empty or `expectedDekLength` is not a positive integer.
 * @throws {unknown} `options.signal.reason` when the signal is aborted before or between attempts.
 * @example
 * ```ts
 * const dek = await unwrapWithAny(keks, envelope.wrappedKeys, { signal, expectedDekLength: 32 });
 * ```
 */
export async function unwrapWithAny(
  keks: readonly KeyEncryptionKey[],
  wrappedKeys: readonly WrappedKey[],
  options?: UnwrapWithAnyOptions,
): Promise<Uint8Array> {
  assertKeks(keks);
  if (!Array.isArray(wrappedKeys)) throw new TypeError('wrappedKeys must be an array of WrappedKey');
  const expected = options?.expectedDekLength;
  if (expected !== undefined) assertPositiveInt(expected, 'expectedDekLength');
  const signal = options?.signal;
  signal?.throwIfAborted();

  let attempted = false;
  let lastOther: unknown;
  let hasOther = false;
  for (const wrapped of wrappedKeys) {
    for (const kek of keks) {
      if (!kek.matches(wrapped)) continue;
      signal?.throwIfAborted();
      attempted = true;
      let dek: Uint8Array;
      try {
        dek = await kek.unwrap(wrapped, { signal });
      } catch (err) {
        signal?.throwIfAborted();
        if (!(err instanceof DecryptionFailedError)) {
          lastOther = err;
          hasOther = true;
        }
        continue;
      }
      if (expected !== undefined && dek.length !== expected) {
        dek.fill(0);
        continue;
      }
      return dek;
    }
  }
  if (!attempted) {
    const ids = [...new Set(wrappedKeys.map((w) => String(w?.kekId)))];
    throw new NoMatchingKekError(ids);
  }
  if (hasOther) throw lastOther;
  throw new DecryptionFailedError();
}
