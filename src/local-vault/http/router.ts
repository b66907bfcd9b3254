/**
 * Maps method + path to an operation. Tolerant where the SDK needs it: an empty version segment
 * means "current" (`/keys/n/`, `/keys/n//wrapkey`), operation segments are matched
 * case-insensitively, and the path is percent-decoded per segment.
 *
 * @module
 */
import type { VaultOperation } from '../service/operation.js';
import { badParameter, VaultHttpError } from './errors.js';

/** A routed request. `name`/`version` are `''` when the path has none. */
export interface Route {
  operation: VaultOperation;
  name: string;
  version: string;
}

type MethodTable = Partial<Record<string, VaultOperation>>;

// Key Vault object names: 1-127 characters of 0-9, a-z, A-Z and '-'.
const KEY_NAME = /^[0-9a-zA-Z-]{1,127}$/;

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

function own(table: Record<string, MethodTable>, key: string): MethodTable | undefined {
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
 *   key name.
 */
export function route(method: string, pathname: string): Route {
  const segments = segmentsOf(pathname);
  if (segments.at(-1) === '' && segments.length <= 2) segments.pop();
  const [collection, name = '', third, fourth, ...rest] = segments;
  const at = (operation: VaultOperation, version = ''): Route => ({ operation, name, version });
  if (rest.length > 0) throw notFound(pathname);
  if (collection === 'rng' && segments.length === 1) return at(pick({ POST: 'getRandomBytes' }, method, pathname));
  if (collection === 'keys' && segments.length === 1) return at(pick({ GET: 'getKeys' }, method, pathname));
  if (collection === 'deletedkeys' && segments.length === 1) return at(pick({ GET: 'getDeletedKeys' }, method, pathname));
  if (collection === 'keys' && name === 'restore' && segments.length === 2) {
    return at(pick({ POST: 'restoreKey' }, method, pathname));
  }
  if (collection !== 'keys' && collection !== 'deletedkeys') throw notFound(pathname);
  if (!KEY_NAME.test(name)) throw badParameter(`The key name '${name}' is invalid. Key names are 1-127 characters of 0-9, a-z, A-Z and '-'.`);
  if (collection === 'deletedkeys') {
    if (!third && fourth === undefined) return at(pick({ GET: 'getDeletedKey', DELETE: 'purgeDeletedKey' }, method, pathname));
    if (fourth === undefined && third === 'recover') return at(pick({ POST: 'recoverDeletedKey' }, method, pathname));
    throw notFound(pathname);
  }
  if (third === undefined) return at(pick(KEY, method, pathname));
  if (fourth === undefined) {
    const action = own(KEY_ACTIONS, third.toLowerCase());
    return action ? at(pick(action, method, pathname)) : at(pick(KEY_VERSION, method, pathname), third);
  }
  return at(pick(own(VERSION_ACTIONS, fourth.toLowerCase()), method, pathname), third);
}
