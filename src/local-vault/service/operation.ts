/**
 * What an operation is: its name (as the generated client calls it: `createKey`, `unwrapKey`,
 * ...; these key stats, fault filters and RBAC), the context it runs in, and its result.
 *
 * @module
 */
import type { VaultSecrets } from '../secrets.js';
import type { VaultState } from './state.js';

/** The keys data plane's operations (and the vault-wide `getRandomBytes`), in REST-reference order. */
export const KEY_OPERATIONS = [
  'createKey',
  'importKey',
  'getKey',
  'getKeys',
  'getKeyVersions',
  'updateKey',
  'deleteKey',
  'rotateKey',
  'getKeyRotationPolicy',
  'updateKeyRotationPolicy',
  'backupKey',
  'restoreKey',
  'getDeletedKey',
  'getDeletedKeys',
  'recoverDeletedKey',
  'purgeDeletedKey',
  'encrypt',
  'decrypt',
  'wrapKey',
  'unwrapKey',
  'sign',
  'verify',
  'release',
  'getKeyAttestation',
  'getRandomBytes',
] as const;

/** The secrets data plane's operations, in REST-reference order. */
export const SECRET_OPERATIONS = [
  'setSecret',
  'getSecret',
  'updateSecret',
  'getSecrets',
  'getSecretVersions',
  'deleteSecret',
  'getDeletedSecret',
  'getDeletedSecrets',
  'recoverDeletedSecret',
  'purgeDeletedSecret',
  'backupSecret',
  'restoreSecret',
] as const;

/** The certificates data plane's operations (with contacts and issuers), in REST-reference order. */
export const CERTIFICATE_OPERATIONS = [
  'createCertificate',
  'importCertificate',
  'getCertificate',
  'getCertificates',
  'getCertificateVersions',
  'updateCertificate',
  'deleteCertificate',
  'getCertificatePolicy',
  'updateCertificatePolicy',
  'getCertificateOperation',
  'updateCertificateOperation',
  'deleteCertificateOperation',
  'mergeCertificate',
  'backupCertificate',
  'restoreCertificate',
  'getDeletedCertificate',
  'getDeletedCertificates',
  'recoverDeletedCertificate',
  'purgeDeletedCertificate',
  'setCertificateContacts',
  'getCertificateContacts',
  'deleteCertificateContacts',
  'setCertificateIssuer',
  'updateCertificateIssuer',
  'getCertificateIssuer',
  'getCertificateIssuers',
  'deleteCertificateIssuer',
] as const;

/** Every operation name. */
export const VAULT_OPERATIONS = [...KEY_OPERATIONS, ...SECRET_OPERATIONS, ...CERTIFICATE_OPERATIONS] as const;

/** One data-plane operation name. */
export type VaultOperation = (typeof VAULT_OPERATIONS)[number];

/** The object collection an operation works on (`keys` for the vault-wide `getRandomBytes`). */
export function collectionOf(operation: VaultOperation): 'keys' | 'secrets' | 'certificates' {
  if (CERTIFICATE_OPERATION_SET.has(operation)) return 'certificates';
  return SECRET_OPERATION_SET.has(operation) ? 'secrets' : 'keys';
}

const SECRET_OPERATION_SET: ReadonlySet<VaultOperation> = new Set(SECRET_OPERATIONS);
const CERTIFICATE_OPERATION_SET: ReadonlySet<VaultOperation> = new Set(CERTIFICATE_OPERATIONS);

/** The parsed request an operation runs on. */
export interface OperationContext {
  /** The vault's objects and clock. */
  state: VaultState;
  /** The vault's secrets (backup sealing). */
  secrets: VaultSecrets;
  /** `scheme://host[:port]` of the request: every id in the response is built from it. */
  base: string;
  /** The object name from the path (`''` for vault-wide operations). */
  name: string;
  /** The object version from the path (`''` = current). */
  version: string;
  /** The parsed JSON body (`{}` when empty). */
  body: Record<string, unknown>;
  /** The decoded query string. */
  query: URLSearchParams;
}

/** An operation's answer: a status and a JSON body (none for 204). */
export interface OperationResult {
  status: number;
  body?: unknown;
}

/** 200 with `body`. */
export function ok(body: unknown): OperationResult {
  return { status: 200, body };
}
