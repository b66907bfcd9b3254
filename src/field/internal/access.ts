/**
 * What FieldEncryptorPool needs from a FieldEncryptor without making it public API: reserving
 * uses of the active DEK in bulk, and the DEK of a ciphertext. Registered by the encryptor's
 * constructor in a module-private WeakMap.
 *
 * @module
 * @internal
 */
import type { SecretKey } from '../../internal/secret.js';
import type { FieldDek } from '../records.js';

export interface FieldInternals {
  /** Up to `count` encryptions under one DEK (fewer when its limit is near); at least 1. */
  reserve(count: number, signal?: AbortSignal): Promise<{ readonly dek: FieldDek; readonly count: number }>;
  /** The DEK a randomized field ciphertext names (cache, store, KEK). Use it synchronously. */
  dekFor(ciphertext: Uint8Array, signal?: AbortSignal): Promise<SecretKey>;
}

const registry = new WeakMap<object, FieldInternals>();

export function registerInternals(owner: object, internals: FieldInternals): void {
  registry.set(owner, internals);
}

/** @throws {TypeError} when `owner` is not a FieldEncryptor. */
export function internalsOf(owner: unknown, name: string): FieldInternals {
  const i = typeof owner === 'object' && owner !== null ? registry.get(owner) : undefined;
  if (i === undefined) throw new TypeError(`${name} must be a FieldEncryptor`);
  return i;
}
