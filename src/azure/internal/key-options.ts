/**
 * Option checks shared by everything that names a Key Vault key with a credential
 * (`KeyVaultKek`, `JwtSigner`).
 */
import { type ParsedKeyId, parseKeyId, parseVaultUrl } from './key-id.js';

/** The ways of naming a key in options (besides a fetched `KeyVaultKey`). */
export interface KeyLocatorOptions {
  vaultUrl?: string;
  keyName?: string;
  keyId?: string;
}

/**
 * The key named by `keyId`, or by `vaultUrl` + `keyName`.
 * @throws {TypeError | RangeError} naming the offending option.
 */
export function resolveKeyLocator(o: KeyLocatorOptions): ParsedKeyId {
  if (o.keyId !== undefined) {
    if (typeof o.keyId !== 'string') throw new TypeError('options.keyId must be a string');
    const id = parseKeyId(o.keyId);
    if (id === undefined) throw new RangeError(`options.keyId must be https://host/keys/name[/version], got ${JSON.stringify(o.keyId)}`);
    return id;
  }
  const origin = parseVaultUrl(o.vaultUrl, 'options.vaultUrl');
  if (typeof o.keyName !== 'string') throw new TypeError('options.keyName must be a string');
  const id = parseKeyId(`${origin}/keys/${o.keyName}`);
  if (id === undefined || id.version !== undefined) throw new RangeError('options.keyName must be 1-127 letters, digits or dashes');
  return id;
}

/**
 * Checks `credential` is a TokenCredential and `clientOptions` an object (when given).
 * @throws {TypeError} naming the offending option.
 */
export function assertCredentialOptions(o: { credential?: unknown; clientOptions?: unknown }): void {
  const credential = o.credential as { getToken?: unknown } | undefined | null;
  if (credential === null || typeof credential !== 'object' || typeof credential.getToken !== 'function') {
    throw new TypeError('options.credential must be a TokenCredential (an object with getToken)');
  }
  if (o.clientOptions !== undefined && (o.clientOptions === null || typeof o.clientOptions !== 'object')) {
    throw new TypeError('options.clientOptions must be an object');
  }
}
