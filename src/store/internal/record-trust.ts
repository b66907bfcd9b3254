/**
 * The two decisions of record authentication (docs/security.md §Record authentication):
 * how a new record is sealed (commitment, and signatures for named records), and whether a
 * record this process did not create may be adopted, i.e. encrypted under.
 *
 * Adoption needs, besides a commitment that matches the DEK, ONE of:
 * - a configured symmetric KEK (AES-KW, oct-HSM) unwrapped it: only a key holder can make such
 *   a wrap, and the commitment binds the DEK to the record's keyRef, kind and name;
 * - a signature by a configured asymmetric KEK over the record's fields and commitment
 *   (SQL Always Encrypted's CMK signature over each CEK): verified locally with the public key.
 * An RSA public key alone (a wrap capability anyone with keys/get has) satisfies neither.
 *
 * @module
 * @internal
 */
import { NoMatchingKekError } from '../../errors.js';
import type { KeyEncryptionKey, RecordSignature, WrappedKey } from '../../keys/kek.js';
import { authenticatingWraps, onlyAuthenticatingWraps, signWithAll, verifyAny } from '../../keys/internal/record-signing.js';
import { RecordAuthenticationError } from '../errors.js';
import type { DekRecord } from '../key-store.js';
import { commitmentMatches, computeCommitment, type RecordIdentity, signaturePayload } from './record-auth.js';

/** The authentication fields of a new record. */
export interface RecordSeal {
  readonly commitment: Uint8Array;
  readonly signatures?: readonly RecordSignature[];
}

/**
 * Seals a new record: its commitment, and for a named record (one other encryptors will adopt)
 * a signature by every configured KEK that can sign (one vault `sign` per KeyVaultKek).
 * @throws {RecordAuthenticationError} `'cannot-sign'` when a named record would be neither
 *   signed nor authenticated by a symmetric KEK (the cause says why signing failed).
 * @throws {unknown} `signal.reason` when aborted.
 */
export async function sealRecord(
  keks: readonly KeyEncryptionKey[],
  identity: RecordIdentity,
  wraps: readonly WrappedKey[],
  dek: Uint8Array,
  signal: AbortSignal | undefined,
): Promise<RecordSeal> {
  const commitment = computeCommitment(identity, dek);
  if (identity.name === undefined) return { commitment };
  const { signatures, failure } = await signWithAll(keks, signaturePayload(identity, commitment), signal);
  if (signatures.length === 0 && authenticatingWraps(keks, wraps).length === 0) {
    throw new RecordAuthenticationError('cannot-sign', identity, { cause: failure });
  }
  return signatures.length === 0 ? { commitment } : { commitment, signatures };
}

/**
 * Throws unless `dek` is the DEK `record` commits to. Legacy records (no commitment) pass:
 * decrypt reads them; {@link adoptRecord} refuses them.
 * @throws {RecordAuthenticationError} `'commitment-mismatch'`.
 */
export function assertCommitment(record: DekRecord, dek: Uint8Array): void {
  if (record.commitment !== undefined && !commitmentMatches(record, dek)) {
    throw new RecordAuthenticationError('commitment-mismatch', record);
  }
}

/**
 * The DEK of `record` if this process may encrypt under it (see the module comment), else a
 * typed refusal. `load` obtains the DEK the usual way (cache, store, KEKs); the caller owns the
 * returned bytes.
 * @throws {NoMatchingKekError} when no configured KEK matches any of its wrapped keys.
 * @throws {RecordAuthenticationError} `'legacy'`, `'unsigned'`, `'bad-signature'`,
 *   `'commitment-mismatch'`.
 * @throws {EnvelopeError} from unwrapping or from fetching a signer's public key.
 */
export async function adoptRecord(
  keks: readonly KeyEncryptionKey[],
  record: DekRecord,
  load: () => Promise<Uint8Array>,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  if (!record.wrappedDeks.some((w) => keks.some((k) => k.matches(w)))) {
    throw new NoMatchingKekError(record.wrappedDeks.map((w) => w.kekId));
  }
  if (record.commitment === undefined) throw new RecordAuthenticationError('legacy', record);
  const symmetric = authenticatingWraps(keks, record.wrappedDeks);
  let dek: Uint8Array;
  if (symmetric.length > 0 && !onlyAuthenticatingWraps(keks, record.wrappedDeks)) {
    // Another matched wrap may be RSA: unwrap the symmetric one itself (one extra call, once).
    const { kek, wrapped } = symmetric[0]!;
    dek = await kek.unwrap(wrapped, { signal });
  } else {
    if (symmetric.length === 0) {
      const signatures = record.signatures ?? [];
      if (signatures.length === 0) throw new RecordAuthenticationError('unsigned', record);
      const verdict = await verifyAny(keks, signatures, signaturePayload(record, record.commitment), signal);
      if (verdict !== 'valid') throw new RecordAuthenticationError('bad-signature', record);
    }
    dek = await load();
  }
  try {
    // Checked here whatever `load` did: a cached DEK may come from an earlier state of the record.
    assertCommitment(record, dek);
  } catch (err) {
    dek.fill(0);
    throw err;
  }
  return dek;
}
