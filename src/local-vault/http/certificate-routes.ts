/**
 * The certificate paths that do not follow the collection pattern of router.ts: the vault-wide
 * `/certificates/contacts` and `/certificates/issuers[/{issuer}]` (so no certificate can be
 * named `contacts` or `issuers`, as in the service) and `/certificates/{name}/pending/merge`.
 * The rest of the certificates collection (objects, versions, actions, deleted certificates) is
 * a row of router.ts's collection table.
 *
 * @module
 */
import type { CollectionRoutes, MethodTable } from './router.js';

/** The routes of the certificates collection, in router.ts's shape. */
export const CERTIFICATE_ROUTES = {
  noun: 'certificate',
  list: 'getCertificates',
  restore: 'restoreCertificate',
  object: { GET: 'getCertificate', PATCH: 'updateCertificate', DELETE: 'deleteCertificate' },
  objectActions: {
    create: { POST: 'createCertificate' },
    import: { POST: 'importCertificate' },
    backup: { POST: 'backupCertificate' },
    versions: { GET: 'getCertificateVersions' },
    policy: { GET: 'getCertificatePolicy', PATCH: 'updateCertificatePolicy' },
    pending: { GET: 'getCertificateOperation', PATCH: 'updateCertificateOperation', DELETE: 'deleteCertificateOperation' },
  },
  version: { GET: 'getCertificate', PATCH: 'updateCertificate' },
  versionActions: {},
  deleted: {
    list: 'getDeletedCertificates',
    object: { GET: 'getDeletedCertificate', DELETE: 'purgeDeletedCertificate' },
    recover: 'recoverDeletedCertificate',
  },
} as const satisfies CollectionRoutes;

const CONTACTS: MethodTable = { GET: 'getCertificateContacts', PUT: 'setCertificateContacts', DELETE: 'deleteCertificateContacts' };
const ISSUERS: MethodTable = { GET: 'getCertificateIssuers' };
const ISSUER: MethodTable = {
  GET: 'getCertificateIssuer',
  PUT: 'setCertificateIssuer',
  PATCH: 'updateCertificateIssuer',
  DELETE: 'deleteCertificateIssuer',
};

/**
 * The method table and object name of a special certificate path (`segments` without the
 * leading `certificates`), or `undefined` for the collection pattern.
 */
export function specialCertificatePath(segments: readonly string[]): { table: MethodTable; name: string } | undefined {
  const [first = '', second, third, ...rest] = segments;
  const head = first.toLowerCase();
  if (head === 'contacts' && second === undefined) return { table: CONTACTS, name: '' };
  if (head === 'issuers' && second === undefined) return { table: ISSUERS, name: '' };
  if (head === 'issuers' && third === undefined && second !== undefined) return { table: ISSUER, name: second };
  if (second?.toLowerCase() === 'pending' && third?.toLowerCase() === 'merge' && rest.length === 0) return { table: { POST: 'mergeCertificate' }, name: first };
  return undefined;
}
