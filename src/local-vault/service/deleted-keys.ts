/**
 * Soft delete of keys: the shared machinery of soft-delete.ts on the keys row.
 *
 * @module
 */
import { KEY_OBJECTS } from './object-types.js';
import type { OperationContext, OperationResult } from './operation.js';
import { getDeleted, listDeleted, purgeDeleted, recoverDeleted, softDelete } from './soft-delete.js';

export { purgeExpired } from './soft-delete.js';

/** `DELETE /keys/{name}`. */
export const deleteKey = (ctx: OperationContext): OperationResult => softDelete(KEY_OBJECTS, ctx);
/** `GET /deletedkeys/{name}`. */
export const getDeletedKey = (ctx: OperationContext): OperationResult => getDeleted(KEY_OBJECTS, ctx);
/** `GET /deletedkeys`, paged. */
export const getDeletedKeys = (ctx: OperationContext): OperationResult => listDeleted(KEY_OBJECTS, ctx);
/** `POST /deletedkeys/{name}/recover`. */
export const recoverDeletedKey = (ctx: OperationContext): OperationResult => recoverDeleted(KEY_OBJECTS, ctx);
/** `DELETE /deletedkeys/{name}`: 204, or 403 under purge protection. */
export const purgeDeletedKey = (ctx: OperationContext): OperationResult => purgeDeleted(KEY_OBJECTS, ctx);
