/**
 * Record authentication with the configured KEKs (docs/security.md §Record authentication):
 * signing a new record with every KEK that can sign, and deciding whether a record someone
 * else made may be adopted.
 *
 * @module
 * @internal
 */
import { EnvelopeError, UnsupportedKeyTypeError } from '../../errors.js';
import type { KeyEncryptionKey, RecordSignature, WrappedKey } from '../kek.js';

/** Signature checks per record at most (each may cost a public-key GET for a remote KEK). */
const MAX_VERIFY_ATTEMPTS = 8;

/** What the KEKs said about a record's signatures. */
export type SignatureVerdict = 'valid' | 'invalid' | 'none';

/**
 * The wrapped keys of `wraps` that a configured symmetric KEK would open, with that KEK: a
 * successful unwrap of one proves a key holder made it.
 */
export function authenticatingWraps(keks: readonly KeyEncryptionKey[], wraps: readonly WrappedKey[]): { kek: KeyEncryptionKey; wrapped: WrappedKey }[] {
  const out: { kek: KeyEncryptionKey; wrapped: WrappedKey }[] = [];
  for (const wrapped of wraps) {
    const kek = keks.find((k) => k.matches(wrapped) && k.authenticatesWrap?.(wrapped) === true);
    if (kek !== undefined) out.push({ kek, wrapped });
  }
  return out;
}

/**
 * True when every wrapped key of `wraps` that some configured KEK matches is opened only by
 * symmetric KEKs: then any DEK the configured KEKs obtain from the record is authenticated.
 */
export function onlyAuthenticatingWraps(keks: readonly KeyEncryptionKey[], wraps: readonly WrappedKey[]): boolean {
  let any = false;
  for (const w of wraps) {
    const matching = keks.filter((k) => k.matches(w));
    if (matching.length === 0) continue;
    if (!matching.every((k) => k.authenticatesWrap?.(w) === true)) return false;
    any = true;
  }
  return any;
}

/**
 * Signs `payload` with every KEK that has `signRecord`, in order. A KEK that cannot sign
 * (`UnsupportedKeyTypeError`: wrap-only, symmetric) is skipped; other failures are collected.
 * @returns the signatures made, and the first failure that was not "cannot sign" (if any).
 * @throws {unknown} `signal.reason` when aborted.
 */
export async function signWithAll(
  keks: readonly KeyEncryptionKey[],
  payload: Uint8Array,
  signal: AbortSignal | undefined,
): Promise<{ signatures: RecordSignature[]; failure: unknown }> {
  const signatures: RecordSignature[] = [];
  let failure: unknown;
  for (const kek of keks) {
    if (typeof kek.signRecord !== 'function') continue;
    try {
      signatures.push(await kek.signRecord(payload, { signal }));
    } catch (err) {
      signal?.throwIfAborted();
      if (err instanceof UnsupportedKeyTypeError) continue;
      failure ??= err;
    }
  }
  return { signatures, failure };
}

/**
 * Checks `signatures` with the configured KEKs: `'valid'` as soon as one verifies, `'invalid'`
 * when at least one KEK checked one and none verified, `'none'` when no KEK can verify.
 * Bounded: at most {@link MAX_VERIFY_ATTEMPTS} checks, whatever the record holds.
 * @throws {EnvelopeError} only when every attempted check failed with an error (vault
 *   unreachable, …): the record may be fine, so this is not reported as a bad signature.
 * @throws {unknown} `signal.reason` when aborted.
 */
export async function verifyAny(
  keks: readonly KeyEncryptionKey[],
  signatures: readonly RecordSignature[],
  payload: Uint8Array,
  signal: AbortSignal | undefined,
): Promise<SignatureVerdict> {
  const verifiers = keks.filter((k) => typeof k.verifyRecord === 'function');
  if (verifiers.length === 0 || signatures.length === 0) return 'none';
  let attempts = 0;
  let rejected = false;
  let lastError: unknown;
  for (const sig of signatures) {
    for (const kek of verifiers) {
      if (attempts++ >= MAX_VERIFY_ATTEMPTS) break;
      try {
        if (await kek.verifyRecord!(sig, payload, { signal })) return 'valid';
        rejected = true;
      } catch (err) {
        signal?.throwIfAborted();
        lastError = err;
      }
    }
  }
  if (!rejected && lastError instanceof EnvelopeError) throw lastError;
  return 'invalid';
}
