/**
 * Certificate operations: starting a new version (create, renewal) and the pending operation's
 * endpoints (get, cancel, delete, merge). A new version starts pending with its key and CSR;
 * then, by issuer:
 * - `Self`: signed with its own key at once; the operation completes.
 * - `Unknown`: stays `inProgress` until `mergeCertificate` brings a certificate signed (anywhere)
 *   for the CSR's key, or the operation is cancelled.
 * - a named issuer (DigiCert, GlobalSign, ...): fails with a clear error: the local vault has no CA.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { generateMaterial, type KeyMaterial, type KeySpec } from '../crypto/key-material.js';
import type { CurveName } from '../crypto/algorithms.js';
import { conflict } from '../http/errors.js';
import { newVersionId } from '../service/objects.js';
import type { VaultState } from '../service/state.js';
import { completeVersion, currentKeyMaterial } from './issue.js';
import type { CertificateOperationRecord, CertificatePolicyWire, CertificateRecord } from './records.js';
import { certificateSigningRequest, selfSignedCertificate } from './x509.js';

const IN_PROGRESS_DETAILS =
  'Pending certificate created. Certificate request is in progress. This may take some time based on the issuer provider. Please check again later.';

function keySpec(policy: CertificatePolicyWire): KeySpec {
  const props = policy.key_props;
  return props.kty.startsWith('EC') ? { family: 'EC', curve: (props.crv ?? 'P-256') as CurveName } : { family: 'RSA', size: props.key_size ?? 2048 };
}

function sameKind(material: KeyMaterial, policy: CertificatePolicyWire): boolean {
  const spec = keySpec(policy);
  if (spec.family === 'EC') return material.kty === 'EC' && material.crv === spec.curve;
  return material.kty === 'RSA' && Buffer.from(material.n, 'base64url').length * 8 === spec.size;
}

/**
 * Starts a new version of `record` at time `at` under its policy: a new key (or the current one,
 * with `reuse_key` when it still fits the policy), a pending version, the CSR, and the issuer's
 * step. Returns the operation (also stored on the record).
 */
export async function startVersion(state: VaultState, record: CertificateRecord, at: number, tags?: Record<string, string>, enabled = true): Promise<CertificateOperationRecord> {
  const policy = record.policy;
  const reused = policy.key_props.reuse_key ? currentKeyMaterial(state, record.name) : undefined;
  const material = reused && sameKind(reused, policy) ? reused : await generateMaterial(keySpec(policy));
  const csr = certificateSigningRequest(policy, material).toString('base64');
  const version = newVersionId();
  const pending = { version, attributes: { enabled: false, created: at, updated: at }, pendingKey: material, ...(tags ? { tags } : {}) };
  record.versions.push(pending);
  const operation: CertificateOperationRecord = {
    version,
    issuer: { ...policy.issuer },
    csr,
    status: 'inProgress',
    statusDetails: IN_PROGRESS_DETAILS,
    cancellationRequested: false,
    requestId: randomUUID().replaceAll('-', ''),
  };
  record.operation = operation;
  state.markChanged();
  const issuer = policy.issuer.name;
  if (issuer === 'Self') {
    try {
      await completeVersion(state, record, pending, material, selfSignedCertificate(policy, material, at), [], at);
      pending.attributes.enabled = enabled;
      operation.status = 'completed';
      delete operation.statusDetails;
    } catch (error) {
      // As the service: the operation fails (the next create clears it), it never hangs in progress.
      operation.status = 'failed';
      operation.statusDetails = 'The certificate request failed.';
      operation.error = { code: 'CertificateCreationFailed', message: `The local vault could not issue the self-signed certificate: ${error instanceof Error ? error.message : String(error)}` };
    }
  } else if (issuer !== 'Unknown') {
    const provider = state.issuers.get(issuer.toLowerCase())?.provider ?? 'unknown';
    operation.status = 'failed';
    operation.statusDetails = 'The certificate request failed.';
    operation.error = {
      code: 'CertificateAuthorityUnavailable',
      message: `The local vault cannot request a certificate from issuer '${issuer}' (provider '${provider}'): it has no certificate authority. Use the issuer 'Self', or 'Unknown' and merge a certificate signed for the CSR.`,
    };
  }
  return operation;
}

/**
 * Clears the way for a new version (create, import): an operation in progress is a conflict; a
 * failed or cancelled one goes, with the version it never completed.
 *
 * @throws {VaultHttpError} 409 Conflict while an operation is in progress.
 */
export function settlePreviousOperation(record: CertificateRecord): void {
  const operation = record.operation;
  if (!operation) return;
  if (operation.status === 'inProgress') {
    throw conflict(`Certificate ${record.name} has a pending operation; merge, cancel or delete it before creating a new version.`);
  }
  dropPendingVersion(record, operation.version);
  delete record.operation;
}

/** Removes a version that never completed (after cancel/failure, when its operation is deleted). */
export function dropPendingVersion(record: CertificateRecord, version: string): void {
  const index = record.versions.findIndex((v) => v.version === version && v.cer === undefined);
  if (index >= 0) record.versions.splice(index, 1);
}
