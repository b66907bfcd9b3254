/**
 * One DEK's re-wrap, shared by both modes: unwrap with the `from` KEKs, wrap under every `to`
 * KEK, and (with `verify`) unwrap each new wrapped key again and compare.
 *
 * @module
 * @internal
 */
import { timingSafeEqual } from 'node:crypto';
import { DecryptionFailedError } from '../../errors.js';
import type { KeyEncryptionKey, WrappedKey } from '../../keys/kek.js';
import { unwrapWithAny, wrapUnderAll } from '../../keys/multi.js';

/** The KEKs of a run. */
export interface RewrapKeks {
  readonly from: readonly KeyEncryptionKey[];
  readonly to: readonly KeyEncryptionKey[];
  readonly verify: boolean;
}

/** A DEK and its new wrapped keys. The caller owns `dek` and must wipe it. */
export interface DekRewrap {
  readonly dek: Uint8Array;
  readonly wrappedKeys: readonly WrappedKey[];
}

/**
 * Unwraps the DEK of `wrappedKeys` (the first one a `from` KEK opens) and wraps it under
 * every `to` KEK, in `to` order.
 * @throws {NoMatchingKekError | DecryptionFailedError | EnvelopeError} from unwrapping.
 * @throws {DecryptionFailedError} when `verify` is on and a new wrapped key does not unwrap to the DEK.
 * @throws {EnvelopeError} from wrapping (`ERR_KEK_UNAVAILABLE`, `ERR_KEY_DISABLED`, …).
 */
export async function rewrapDek(
  keks: RewrapKeks,
  wrappedKeys: readonly WrappedKey[],
  dekLength: number,
  signal: AbortSignal,
): Promise<DekRewrap> {
  const dek = await unwrapWithAny(keks.from, wrappedKeys, { signal, expectedDekLength: dekLength });
  try {
    const rewrapped = await wrapUnderAll(keks.to, dek, { signal });
    if (keks.verify) await verifyWraps(keks.to, rewrapped, dek, signal);
    return { dek, wrappedKeys: rewrapped };
  } catch (err) {
    dek.fill(0);
    throw err;
  }
}

/**
 * Unwraps every new wrapped key with the KEK that made it and checks it gives `dek` back (a
 * vault call per target per DEK for `KeyVaultKek`: verification doubles the unwraps).
 * @throws {DecryptionFailedError} on a mismatch; whatever the KEK's unwrap throws otherwise.
 */
async function verifyWraps(to: readonly KeyEncryptionKey[], wrapped: readonly WrappedKey[], dek: Uint8Array, signal: AbortSignal): Promise<void> {
  for (let i = 0; i < to.length; i++) {
    const w = wrapped[i]!;
    const again = await to[i]!.unwrap(w, { signal });
    const same = again.length === dek.length && timingSafeEqual(again, dek);
    again.fill(0);
    if (!same) throw new DecryptionFailedError(`verification failed: the new wrapped key under ${w.kekId} does not unwrap to the data key`);
  }
}
