/**
 * The certificates rows of the service's operation table (vault-service.ts): the handler of
 * every certificate, contacts and issuers operation, and which of them write.
 *
 * @module
 */
import type { OperationContext, OperationResult, VaultOperation } from '../service/operation.js';
import {
  backupCertificate,
  deleteCertificate,
  getDeletedCertificate,
  getDeletedCertificates,
  importCertificate,
  purgeDeletedCertificate,
  recoverDeletedCertificate,
  restoreCertificate,
} from './import.js';
import {
  createCertificate,
  getCertificate,
  getCertificatePolicy,
  getCertificates,
  getCertificateVersions,
  updateCertificate,
  updateCertificatePolicy,
} from './management.js';
import { deleteCertificateOperation, getCertificateOperation, mergeCertificate, updateCertificateOperation } from './pending.js';
import {
  deleteCertificateContacts,
  deleteCertificateIssuer,
  getCertificateContacts,
  getCertificateIssuer,
  getCertificateIssuers,
  setCertificateContacts,
  setCertificateIssuer,
  updateCertificateIssuer,
} from './vault-settings.js';

type Operation = (ctx: OperationContext) => OperationResult | Promise<OperationResult>;

/** The handler of each certificate operation. */
export const CERTIFICATE_SERVICE_OPERATIONS = {
  createCertificate,
  importCertificate,
  getCertificate,
  getCertificates,
  getCertificateVersions,
  updateCertificate,
  deleteCertificate,
  getCertificatePolicy,
  updateCertificatePolicy,
  getCertificateOperation,
  updateCertificateOperation,
  deleteCertificateOperation,
  mergeCertificate,
  backupCertificate,
  restoreCertificate,
  getDeletedCertificate,
  getDeletedCertificates,
  recoverDeletedCertificate,
  purgeDeletedCertificate,
  setCertificateContacts,
  getCertificateContacts,
  deleteCertificateContacts,
  setCertificateIssuer,
  updateCertificateIssuer,
  getCertificateIssuer,
  getCertificateIssuers,
  deleteCertificateIssuer,
} satisfies Partial<Record<VaultOperation, Operation>>;

/** Certificate operations that change the state by themselves. */
export const CERTIFICATE_WRITE_OPERATIONS: readonly VaultOperation[] = [
  'createCertificate',
  'importCertificate',
  'updateCertificate',
  'deleteCertificate',
  'updateCertificatePolicy',
  'updateCertificateOperation',
  'deleteCertificateOperation',
  'mergeCertificate',
  'restoreCertificate',
  'recoverDeletedCertificate',
  'purgeDeletedCertificate',
  'setCertificateContacts',
  'deleteCertificateContacts',
  'setCertificateIssuer',
  'updateCertificateIssuer',
  'deleteCertificateIssuer',
];
