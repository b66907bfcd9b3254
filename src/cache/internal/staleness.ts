/**
 * Whether an encrypt-side DEK still names only current KEK versions, asked through the optional
 * `KeyEncryptionKey.isCurrent` (src/keys/kek.ts). Built once per DEK: the per-encryption check
 * is then one `isCurrent` call per (KEK, wrapped key) pair it matched, and nothing at all when
 * no configured KEK implements `isCurrent` (the local KEKs).
 *
 * @module
 * @internal
 */
import type { KeyEncryptionKey, WrappedKey } from '../../keys/kek.js';

/** True while every KEK that knows says the DEK's wrapped keys are current. */
export type IsCurrent = () => boolean;

/** True when some KEK in `keks` implements `isCurrent` (so a check can ever say "stale"). */
export function canTellCurrency(keks: readonly KeyEncryptionKey[]): boolean {
  return keks.some((k) => typeof k.isCurrent === 'function');
}

/**
 * The currency check of a DEK wrapped as `wrappedKeys`, or undefined when no KEK can tell.
 * `isCurrent` must never throw (the contract); one that does counts as "current", so a buggy
 * KEK costs at most the DEK's normal lifetime, never an encryption.
 * @example
 * ```ts
 * const check = bindIsCurrent(keks, material.wrappedKeys);
 * if (check !== undefined && !check()) cache.clear();
 * ```
 */
export function bindIsCurrent(keks: readonly KeyEncryptionKey[], wrappedKeys: readonly WrappedKey[]): IsCurrent | undefined {
  const pairs: Array<readonly [KeyEncryptionKey, WrappedKey]> = [];
  for (const kek of keks) {
    if (typeof kek.isCurrent !== 'function') continue;
    for (const w of wrappedKeys) if (kek.matches(w)) pairs.push([kek, w]);
  }
  if (pairs.length === 0) return undefined;
  return () => {
    for (const [kek, w] of pairs) {
      let current = true;
      try {
        current = kek.isCurrent!(w) !== false;
      } catch {
        // Contract breach: treat as current (see above).
      }
      if (!current) return false;
    }
    return true;
  };
}
