/**
 * The target KEKs of a run: each refreshed once, its current versioned kekId learned from a
 * probe wrap, and the test that tells an item already under the targets.
 *
 * @module
 * @internal
 */
import { randomBytes } from 'node:crypto';
import type { KeyEncryptionKey, WrappedKey } from '../../keys/kek.js';

/** A target KEK and the kekId its wraps carry right now. */
export interface Target {
  readonly kek: KeyEncryptionKey;
  readonly kekId: string;
  readonly alg: string;
}

interface Refreshable {
  refresh(options?: { signal?: AbortSignal }): Promise<unknown>;
}

function isRefreshable(kek: KeyEncryptionKey): kek is KeyEncryptionKey & Refreshable {
  return typeof (kek as Partial<Refreshable>).refresh === 'function';
}

/**
 * Refreshes every target that can (e.g. `KeyVaultKek` looks up the latest key version), then
 * wraps a throwaway random key with each to learn the kekId new wraps will name. For
 * `KeyVaultKek` with an RSA key the probe is local (no vault call); an oct-HSM key costs one
 * `wrapKey`.
 *
 * Local KEKs have no versions: their kekId is their `id`. Two different local KEK objects with
 * one id (a key replaced but its id kept) cannot be told apart in a wrapped key, so every item
 * under the old key would look already current: refused here, with a RangeError.
 *
 * @throws {RangeError} when a `from` KEK is a different object with the id of an unversioned target.
 * @throws {EnvelopeError} when a refresh or probe wrap fails (`ERR_KEY_DISABLED`, …).
 */
export async function resolveTargets(
  to: readonly KeyEncryptionKey[],
  from: readonly KeyEncryptionKey[],
  signal: AbortSignal,
): Promise<readonly Target[]> {
  const targets: Target[] = [];
  for (const kek of to) {
    if (isRefreshable(kek)) await kek.refresh({ signal });
    const probe = randomBytes(32);
    let wrapped: WrappedKey;
    try {
      wrapped = await kek.wrap(probe, { signal });
    } finally {
      probe.fill(0);
    }
    targets.push({ kek, kekId: wrapped.kekId, alg: wrapped.alg });
  }
  for (const t of targets) {
    if (t.kekId !== t.kek.id) continue; // versioned: old and new versions have distinct kekIds
    const twin = from.find((k) => k !== t.kek && k.id === t.kek.id);
    if (twin !== undefined) {
      throw new RangeError(
        `options.from has another key-encryption key with the id of target ${JSON.stringify(t.kek.id)}; ` +
          'unversioned (local) keys must get a new id when their key material changes',
      );
    }
  }
  return targets;
}

/**
 * True when `wrappedKeys` is exactly one wrapped key per target, each naming its target's
 * current kekId and algorithm and matched by it. An extra wrapped key (e.g. under a KEK that
 * is being retired) means the item still needs re-wrapping: re-wrapping is how it is dropped.
 */
export function isCurrent(wrappedKeys: readonly WrappedKey[], targets: readonly Target[]): boolean {
  if (wrappedKeys.length !== targets.length) return false;
  return targets.every((t) => wrappedKeys.some((w) => w.kekId === t.kekId && w.alg === t.alg && t.kek.matches(w)));
}
