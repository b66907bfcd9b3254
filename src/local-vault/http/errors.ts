/**
 * Service-shaped errors: every failure the local vault reports becomes a {@link VaultHttpError},
 * rendered as Key Vault's `{"error":{"code","message","innererror"?}}` body. The service's own
 * texts live in one table (./service-errors.ts); the helpers here build from it, and
 * {@link badParameter} carries this vault's own wording for input validation.
 *
 * @module
 */

import { SERVICE_ERRORS, type ObjectNoun } from './service-errors.js';
import { VaultHttpError } from './vault-http-error.js';

export { VaultHttpError } from './vault-http-error.js';

export type { ObjectNoun } from './service-errors.js';

/** 400 `BadParameter` with this vault's own wording: a malformed body, an unknown algorithm, a wrong size. */
export function badParameter(message: string): VaultHttpError {
  return new VaultHttpError(400, 'BadParameter', message);
}

/** 403 `Forbidden` with an inner code (`KeyOperationForbidden`, `ForbiddenByRbac`, ...). */
export function forbidden(message: string, innerCode?: string): VaultHttpError {
  return new VaultHttpError(403, 'Forbidden', message, { innerCode });
}

/** 404 `KeyNotFound` / `SecretNotFound`, worded like the service. */
export function objectNotFound(noun: ObjectNoun, name: string, version?: string): VaultHttpError {
  return SERVICE_ERRORS.objectNotFound(noun, version ? `${name}/${version}` : name);
}

/** 404 `KeyNotFound` / `SecretNotFound` for the deleted-objects collections. */
export function deletedObjectNotFound(noun: ObjectNoun, name: string): VaultHttpError {
  return SERVICE_ERRORS.deletedObjectNotFound(noun, name);
}

/** 404 `KeyNotFound`, worded like the service. */
export function keyNotFound(name: string, version?: string): VaultHttpError {
  return objectNotFound('Key', name, version);
}

/** 429 `Throttled` as the service sends it: no `Retry-After` unless `headers` adds one. */
export function throttled(headers: Record<string, string> = {}): VaultHttpError {
  return SERVICE_ERRORS.throttled(headers);
}

/** 409 `Conflict` with an optional inner code. */
export function conflict(message: string, innerCode?: string): VaultHttpError {
  return new VaultHttpError(409, 'Conflict', message, { innerCode });
}
