/**
 * The bytes a DEK record's authentication covers (docs/security.md §Record authentication,
 * docs/format.md §Key-store records).
 *
 * - Metadata: `0x01 ‖ keyRef (8 bytes) ‖ kind (u8: gcm 1, siv 2) ‖ createdAt (float64 BE) ‖
 *   hasName (u8) ‖ [u32 BE length ‖ UTF-8 name]`: fixed order, every variable part length-prefixed,
 *   so two different records never encode alike.
 * - Commitment: HMAC-SHA-256(key = DEK, `"kv-envelope dek-record commitment v1" ‖ 0x00 ‖ metadata`).
 *   HMAC keys of ≤ 64 bytes (both DEK kinds) are padded, not hashed, so two DEKs with one
 *   commitment would be a SHA-256 collision: every wrapped key of a record must hold the one DEK
 *   (no multi-recipient "invisible salamander"), and only a DEK holder can compute it.
 * - Signature payload: `"kv-envelope dek-record signature v1" ‖ 0x00 ‖ metadata ‖ commitment`.
 *
 * The wrapped keys are deliberately outside both: re-wrap replaces them, and they are bound to
 * the record through the commitment, which every unwrap is checked against.
 *
 * @module
 * @internal
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { DekKind, DekRecord } from '../key-store.js';

const COMMITMENT_LABEL = Buffer.from('kv-envelope dek-record commitment v1\0', 'latin1');
const SIGNATURE_LABEL = Buffer.from('kv-envelope dek-record signature v1\0', 'latin1');
const METADATA_VERSION = 1;
const KIND_CODES: Readonly<Record<DekKind, number>> = { gcm: 1, siv: 2 };

/** The fields of a record that authentication covers. */
export type RecordIdentity = Pick<DekRecord, 'keyRef' | 'kind' | 'name' | 'createdAt'>;

/** The canonical metadata encoding of `r` (see the module comment). */
export function recordMetadata(r: RecordIdentity): Buffer {
  const name = r.name === undefined ? undefined : Buffer.from(r.name, 'utf8');
  const out = Buffer.alloc(1 + 8 + 1 + 8 + 1 + (name === undefined ? 0 : 4 + name.length));
  let pos = out.writeUInt8(METADATA_VERSION, 0);
  pos += Buffer.from(r.keyRef, 'hex').copy(out, pos);
  pos = out.writeUInt8(KIND_CODES[r.kind], pos);
  pos = out.writeDoubleBE(r.createdAt, pos);
  pos = out.writeUInt8(name === undefined ? 0 : 1, pos);
  if (name !== undefined) {
    pos = out.writeUInt32BE(name.length, pos);
    name.copy(out, pos);
  }
  return out;
}

/** The record's DEK commitment under `dek`. */
export function computeCommitment(r: RecordIdentity, dek: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', dek).update(COMMITMENT_LABEL).update(recordMetadata(r)).digest());
}

/**
 * True when `r.commitment` is the commitment of `dek` (constant-time compare). False when the
 * record has no commitment: callers decide what a legacy record may do.
 */
export function commitmentMatches(r: RecordIdentity & Pick<DekRecord, 'commitment'>, dek: Uint8Array): boolean {
  if (r.commitment === undefined) return false;
  const expected = computeCommitment(r, dek);
  return r.commitment.length === expected.length && timingSafeEqual(r.commitment, expected);
}

/** The bytes a record signature signs: metadata and commitment. */
export function signaturePayload(r: RecordIdentity, commitment: Uint8Array): Uint8Array {
  return new Uint8Array(Buffer.concat([SIGNATURE_LABEL, recordMetadata(r), commitment]));
}
