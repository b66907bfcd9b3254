/**
 * Maps method + path to an operation. Tolerant where the SDK needs it: an empty version segment
 * means "current" (`/keys/n/`, `/keys/n//wrapkey`), operation segments are matched
 * case-insensitively, and the path is percent-decoded per segment.
 *
 * @module
 */
import type { VaultOperation } from '../service/operation.js';
import { CERTIFICATE_ROUTES, specialCertificatePath } from './certificate-routes.js';
import { badParameter, VaultHttpError } from './errors.js';

/** A routed request. `name`/`version` are `''` when the path has none. */
export interface Route {
  operation: VaultOperation;
  name: string;
  version: string;
}

/** The operation of each HTTP method on one path. */
export type MethodTable = Partial<Record<string, VaultOperation>>;

// Key Vault object names: 1-127 characters of 0-9, a-z, A-Z and '-'.
const OBJECT_NAME = /^[0-9a-zA-Z-]{1,127}$/;

const KEY_ACTIONS: Record<string, MethodTable> = {
  create: { POST: 'createKey' },
  rotate: { POST: 'rotateKey' },
  backup: { POST: 'backupKey' },
  versions: { GET: 'getKeyVersions' },
  rotationpolicy: { GET: 'getKeyRotationPolicy', PUT: 'updateKeyRotationPolicy' },
  release: { POST: 'release' },
  attestation: { GET: 'getKeyAttestation' },
};
const VERSION_ACTIONS: Record<string, MethodTable> = {
  encrypt: { POST: 'encrypt' },
  decrypt: { POST: 'decrypt' },
  wrapkey: { POST: 'wrapKey' },
  unwrapkey: { POST: 'unwrapKey' },
  sign: { POST: 'sign' },
  verify: { POST: 'verify' },
  release: { POST: 'release' },
  attestation: { GET: 'getKeyAttestation' },
};
const KEY: MethodTable = { GET: 'getKey', PATCH: 'updateKey', PUT: 'importKey', DELETE: 'deleteKey' };
const KEY_VERSION: MethodTable = { GET: 'getKey', PATCH: 'updateKey' };

const SECRET_ACTIONS: Record<string, MethodTable> = {
  backup: { POST: 'backupSecret' },
  versions: { GET: 'getSecretVersions' },
};
const SECRET: MethodTable = { GET: 'getSecret', PATCH: 'updateSecret', PUT: 'setSecret', DELETE: 'deleteSecret' };
const SECRET_VERSION: MethodTable = { GET: 'getSecret', PATCH: 'updateSecret' };

/** The routes of one object collection (`keys`, `secrets`, `certificates`) and of its deleted objects. */
export interface CollectionRoutes {
  noun: string;
  list: VaultOperation;
  restore: VaultOperation;
  object: MethodTable;
  objectActions: Record<string, MethodTable>;
  version: MethodTable;
  versionActions: Record<string, MethodTable>;
  deleted: { list: VaultOperation; object: MethodTable; recover: VaultOperation };
}

const COLLECTIONS: Record<string, CollectionRoutes> = {
  keys: {
    noun: 'key',
    list: 'getKeys',
    restore: 'restoreKey',
    object: KEY,
    objectActions: KEY_ACTIONS,
    version: KEY_VERSION,
    versionActions: VERSION_ACTIONS,
    deleted: { list: 'getDeletedKeys', object: { GET: 'getDeletedKey', DELETE: 'purgeDeletedKey' }, recover: 'recoverDeletedKey' },
  },
  secrets: {
    noun: 'secret',
    list: 'getSecrets',
    restore: 'restoreSecret',
    object: SECRET,
    objectActions: SECRET_ACTIONS,
    version: SECRET_VERSION,
    versionActions: {},
    deleted: {
      list: 'getDeletedSecrets',
      object: { GET: 'getDeletedSecret', DELETE: 'purgeDeletedSecret' },
      recover: 'recoverDeletedSecret',
    },
  },
  certificates: CERTIFICATE_ROUTES,
};
const DELETED_COLLECTIONS: Record<string, string> = { deletedkeys: 'keys', deletedsecrets: 'secrets', deletedcertificates: 'certificates' };

function own<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

function notFound(path: string): VaultHttpError {
  return new VaultHttpError(404, 'NotFound', `The requested resource '${path}' does not exist.`);
}

function pick(table: MethodTable | undefined, method: string, path: string): VaultOperation {
  if (!table) throw notFound(path);
  const operation = table[method];
  if (!operation) throw new VaultHttpError(405, 'MethodNotAllowed', `The method ${method} is not allowed on '${path}'.`);
  return operation;
}

function segmentsOf(pathname: string): string[] {
  try {
    return pathname.split('/').slice(1).map(decodeURIComponent);
  } catch {
    throw badParameter('The request path is not correctly percent-encoded.');
  }
}

/**
 * Routes a request.
 *
 * @throws {VaultHttpError} 404 for an unknown path, 405 for a wrong method, 400 for an invalid
 *   object name.
 */
export function route(method: string, pathname: string): Route {
  const segments = segmentsOf(pathname);
  if (segments.at(-1) === '' && segments.length <= 2) segments.pop();
  const [collection, name = '', third, fourth, ...rest] = segments;
  const at = (operation: VaultOperation, version = ''): Route => ({ operation, name, version });
  const special = collection === 'certificates' ? specialCertificatePath(segments.slice(1)) : undefined;
  if (special) {
    if (special.name !== '' && !OBJECT_NAME.test(special.name)) throw badParameter(`The name '${special.name}' is invalid. Names are 1-127 characters of 0-9, a-z, A-Z and '-'.`);
    return { operation: pick(special.table, method, pathname), name: special.name, version: '' };
  }
  if (rest.length > 0) throw notFound(pathname);
  if (collection === 'rng' && segments.length === 1) return at(pick({ POST: 'getRandomBytes' }, method, pathname));
  const deletedOf = own(DELETED_COLLECTIONS, collection ?? '');
  const table = own(COLLECTIONS, deletedOf ?? collection ?? '');
  if (!table) throw notFound(pathname);
  if (segments.length === 1) return at(pick({ GET: deletedOf ? table.deleted.list : table.list }, method, pathname));
  if (!deletedOf && name === 'restore' && segments.length === 2) return at(pick({ POST: table.restore }, method, pathname));
  if (!OBJECT_NAME.test(name)) {
    throw badParameter(`The ${table.noun} name '${name}' is invalid. ${capitalize(table.noun)} names are 1-127 characters of 0-9, a-z, A-Z and '-'.`);
  }
  if (deletedOf) {
    if (!third && fourth === undefined) return at(pick(table.deleted.object, method, pathname));
    if (fourth === undefined && third === 'recover') return at(pick({ POST: table.deleted.recover }, method, pathname));
    throw notFound(pathname);
  }
  if (third === undefined) return at(pick(table.object, method, pathname));
  if (fourth === undefined) {
    const action = own(table.objectActions, third.toLowerCase());
    return action ? at(pick(action, method, pathname)) : at(pick(table.version, method, pathname), third);
  }
  return at(pick(own(table.versionActions, fourth.toLowerCase()), method, pathname), third);
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
