/**
 * base64url (RFC 4648 §5, no padding) as Key Vault uses it for every binary JSON field.
 *
 * @module
 */
import { badParameter } from '../http/errors.js';

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Encodes bytes as unpadded base64url. */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Decodes a required base64url field of a request body.
 *
 * @throws {VaultHttpError} 400 BadParameter when the value is missing or not base64url.
 */
export function fromBase64Url(value: unknown, field: string): Buffer {
  // why: Buffer.from(…, 'base64url') silently skips foreign characters; the service rejects them.
  if (typeof value !== 'string' || !BASE64URL.test(value)) {
    throw badParameter(`The parameter '${field}' must be a base64url string.`);
  }
  return Buffer.from(value, 'base64url');
}

/** Like {@link fromBase64Url} but `undefined`/`null` stay `undefined`. */
export function optionalBase64Url(value: unknown, field: string): Buffer | undefined {
  return value === undefined || value === null ? undefined : fromBase64Url(value, field);
}
