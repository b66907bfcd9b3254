/**
 * kv-envelope/azure: the Azure Key Vault key-encryption key. Needs the optional peer dependency
 * `@azure/keyvault-keys` (and a `TokenCredential`, e.g. from `@azure/identity`).
 *
 * @example
 * ```ts
 * import { DefaultAzureCredential } from '@azure/identity';
 * import { FieldEncryptor, MemoryKeyStore } from 'kv-envelope';
 * import { KeyVaultKek } from 'kv-envelope/azure';
 * const kek = new KeyVaultKek({ keyId: 'https://myvault.vault.azure.net/keys/kek', credential: new DefaultAzureCredential() });
 * const fields = new FieldEncryptor({ keks: kek, keyStore: new MemoryKeyStore() });
 * ```
 *
 * @module
 */
export { KeyVaultKek } from './key-vault-kek.js';
export type { KeyVaultKekOptions, KeyVaultRetryOptions, OctWrapAlgorithm, TokenCredential } from './options.js';
