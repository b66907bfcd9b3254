/**
 * kv-envelope: client-side envelope encryption with Azure Key Vault.
 *
 * The root export is the runtime-neutral core: clients, KEK contract and local KEKs, key
 * stores, caches and errors. It never loads `@azure/*`; the Key Vault KEK lives in
 * `kv-envelope/azure`.
 *
 * @module
 */
export { EnvelopeClient } from './envelope/client.js';
export type { EnvelopeClientOptions, EncryptOptions, DecryptOptions, DecryptResult } from './envelope/client.js';
export type { EncryptStreamOptions, DecryptStreamOptions } from './envelope/stream.js';
export { FieldEncryptor } from './field/encryptor.js';
export type { FieldEncryptorOptions, FieldOptions, DeterministicOptions } from './field/encryptor.js';
export type { FieldLimits } from './field/active-dek.js';
export type { BulkItem, BulkResult } from './field/bulk.js';
export { FieldEncryptorPool } from './field/pool.js';
export type { FieldEncryptorPoolOptions } from './field/pool.js';
export type { BlindIndexOptions } from './search/blind-index.js';
export type { BlindIndexTransform, CustomTransform } from './search/transforms.js';
export { planBlindIndex } from './search/planner.js';
export type { BlindIndexPlan, BlindIndexPlanInput } from './search/planner.js';

export type { KeyEncryptionKey, WrappedKey, KekOperationOptions, RecordSignature } from './keys/kek.js';
export { LocalAesKek } from './keys/local-aes-kek.js';
export type { LocalAesKekOptions } from './keys/local-aes-kek.js';
export { LocalRsaKek } from './keys/local-rsa-kek.js';
export type { LocalRsaKekOptions } from './keys/local-rsa-kek.js';

export type { KeyStore, DekRecord, DekKind, KeyStoreOptions, CreateResult, RecordAuth, UpdateWrappedDeksOptions } from './store/key-store.js';
export { RecordAuthenticationError } from './store/errors.js';
export type { RecordAuthenticationReason } from './store/errors.js';
export { MemoryKeyStore } from './store/memory.js';
export { FileKeyStore } from './store/file.js';
export type { FileKeyStoreOptions } from './store/file.js';

export { UnwrappedKeyCache } from './cache/unwrap-cache.js';
export type { UnwrappedKeyCacheOptions } from './cache/unwrap-cache.js';
export type { ReuseLimits } from './cache/encryption-key-cache.js';

export { readWrappedKeys, replaceWrappedKeys, type ReplaceWrappedKeysOptions } from './format/rewrap.js';
export type { EncryptionContext } from './format/context.js';
export { Limits } from './format/limits.js';
export type { AeadBackendName } from './aead/backend.js';

export {
  EnvelopeError,
  EnvelopeMalformedError,
  DecryptionFailedError,
  KeyNotAllowedError,
  NoMatchingKekError,
  KekUnavailableError,
  KeyAccessDeniedError,
  KeyDisabledError,
  KeyNotFoundError,
  UnsupportedKeyTypeError,
  LimitExceededError,
  KeyStoreError,
} from './errors.js';
export type { EnvelopeErrorCode, EnvelopeErrorOptions } from './errors.js';
