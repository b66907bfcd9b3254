/**
 * Issuing a certificate version: the one place where the three objects of a certificate are
 * written together. A version completes with its DER certificate and chain; then the key gets
 * a version with the same id (the private key, `managed`), and the secret a version with the
 * same id (the PFX or PEM, `managed`), both with the certificate's validity as nbf/exp.
 *
 * @module
 */
import { X509Certificate } from 'node:crypto';
import { FAMILIES, type KeyType } from '../crypto/algorithms.js';
import type { KeyMaterial } from '../crypto/key-material.js';
import { conflict } from '../http/errors.js';
import { publishVersionEvent } from '../events/publish.js';
import { appendVersion, CERTIFICATE_OBJECTS, KEY_OBJECTS, SECRET_OBJECTS, type ObjectType } from '../service/object-types.js';
import type { VersionedRecord } from '../service/objects.js';
import type { VaultState } from '../service/state.js';
import { certificateSecretValue } from './secret-value.js';
import type { CertificateRecord, CertificateVersionRecord } from './records.js';

/** The validity of a DER certificate in Unix seconds. */
export function validityOf(der: Buffer): { nbf: number; exp: number } {
  const certificate = new X509Certificate(der);
  return { nbf: Math.floor(Date.parse(certificate.validFrom) / 1000), exp: Math.floor(Date.parse(certificate.validTo) / 1000) };
}

/**
 * Refuses a certificate name held by a key or secret that is not a certificate's.
 *
 * @throws {VaultHttpError} 409 Conflict.
 */
export function assertCompanionsFree(state: VaultState, name: string): void {
  for (const type of [KEY_OBJECTS, SECRET_OBJECTS] as ObjectType<VersionedRecord>[]) {
    const held = type.records(state).get(name);
    if (held && !held.managed) {
      throw conflict(`A ${type.noun.toLowerCase()} named ${held.name} already exists and does not belong to a certificate; a certificate needs its name for its ${type.noun.toLowerCase()}.`);
    }
  }
}

/**
 * Completes `version` of `record` with `leaf` (and its issuer `chain`) for `material`, and adds
 * the key and secret versions of the same id. `at` is the creation time of the new versions.
 */
export async function completeVersion(
  state: VaultState,
  record: CertificateRecord,
  version: CertificateVersionRecord,
  material: KeyMaterial,
  leaf: Buffer,
  chain: Buffer[],
  at: number,
): Promise<void> {
  const { nbf, exp } = validityOf(leaf);
  const policy = record.policy;
  const secretValue = await certificateSecretValue(policy.secret_props.contentType, [leaf, ...chain], policy.key_props.exportable ? material : undefined);
  version.cer = leaf.toString('base64');
  if (chain.length > 0) version.chain = chain.map((der) => der.toString('base64'));
  delete version.pendingKey;
  version.attributes = { ...version.attributes, enabled: true, nbf, exp, updated: at };
  const kty = (material.kty === 'EC' ? (policy.key_props.kty.startsWith('EC') ? policy.key_props.kty : 'EC') : policy.key_props.kty.startsWith('RSA') ? policy.key_props.kty : 'RSA') as KeyType;
  const attributes = { enabled: true, nbf, exp, created: at, updated: at };
  const key = appendVersion(KEY_OBJECTS, state, record.name, { kty, material, keyOps: [...FAMILIES[material.kty === 'EC' ? 'EC' : 'RSA'].ops], attributes }, version.version);
  key.record.managed = true;
  const secret = appendVersion(SECRET_OBJECTS, state, record.name, { value: secretValue, contentType: policy.secret_props.contentType, attributes: { ...attributes } }, version.version);
  secret.record.managed = true;
  // The key and secret published their NewVersionCreated in appendVersion; now the certificate's.
  publishVersionEvent(state.events, CERTIFICATE_OBJECTS, record, version, 'NewVersionCreated', at);
  state.markChanged();
}

/** The key material of the current key version, for a renewal that reuses the key. */
export function currentKeyMaterial(state: VaultState, name: string): KeyMaterial | undefined {
  return state.keys.get(name)?.versions.at(-1)?.material;
}
