/**
 * Algorithm and key-type tables (Key Vault "about keys" details). Code below resolves an id once
 * through these tables and never switches on id strings.
 *
 * @module
 */

/** Key families: RSA (incl. RSA-HSM), EC (incl. EC-HSM) and oct (oct-HSM only). */
export type KeyFamily = 'RSA' | 'EC' | 'oct';

/** Key types the local vault stores. `oct` (software AES) does not exist in Key Vault. */
export type KeyType = 'RSA' | 'RSA-HSM' | 'EC' | 'EC-HSM' | 'oct-HSM';

/** JSON Web Key operations Key Vault knows. */
export type KeyOperation = 'encrypt' | 'decrypt' | 'sign' | 'verify' | 'wrapKey' | 'unwrapKey' | 'import' | 'export';

/** The EC curves Key Vault supports. */
export type CurveName = 'P-256' | 'P-384' | 'P-521' | 'P-256K';

/** Per key type: its family and whether it is HSM-protected. */
export const KEY_TYPES = {
  RSA: { family: 'RSA', hsm: false },
  'RSA-HSM': { family: 'RSA', hsm: true },
  EC: { family: 'EC', hsm: false },
  'EC-HSM': { family: 'EC', hsm: true },
  'oct-HSM': { family: 'oct', hsm: true },
} as const satisfies Record<KeyType, { family: KeyFamily; hsm: boolean }>;

/** Per family: allowed sizes, the default key_ops and the key_ops the service accepts. */
export const FAMILIES = {
  RSA: {
    sizes: [2048, 3072, 4096],
    defaultSize: 2048,
    ops: ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'],
  },
  EC: { sizes: [], defaultSize: undefined, ops: ['sign', 'verify'] },
  oct: { sizes: [128, 192, 256], defaultSize: 256, ops: ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'] },
} as const satisfies Record<
  KeyFamily,
  { sizes: readonly number[]; defaultSize: number | undefined; ops: readonly KeyOperation[] }
>;

/** Curve parameters: coordinate (and scalar) length in bytes and the ES algorithm that uses it. */
export const CURVES = {
  'P-256': { bytes: 32 },
  'P-384': { bytes: 48 },
  'P-521': { bytes: 66 },
  'P-256K': { bytes: 32 },
} as const satisfies Record<CurveName, { bytes: number }>;

/** Hash functions used by the algorithms below, with their output length. */
export const HASHES = {
  sha1: { bytes: 20 },
  sha256: { bytes: 32 },
  sha384: { bytes: 48 },
  sha512: { bytes: 64 },
} as const;

/** A hash name from {@link HASHES}. */
export type HashName = keyof typeof HASHES;

/** Encryption / key-wrap algorithm description. */
export type CipherAlgorithm =
  | { family: 'RSA'; scheme: 'oaep'; hash: HashName; wrap: true }
  | { family: 'RSA'; scheme: 'pkcs1'; wrap: true }
  | { family: 'oct'; scheme: 'kw'; keyBits: number; wrap: true }
  | { family: 'oct'; scheme: 'gcm' | 'cbc' | 'cbcpad'; keyBits: number; wrap: false };

/**
 * Encryption algorithms. `wrap: true` algorithms are accepted by wrapKey/unwrapKey as well as by
 * encrypt/decrypt (the service documents one combined column); AES-GCM/CBC are encrypt-only.
 */
export const CIPHER_ALGORITHMS = {
  'RSA-OAEP': { family: 'RSA', scheme: 'oaep', hash: 'sha1', wrap: true },
  'RSA-OAEP-256': { family: 'RSA', scheme: 'oaep', hash: 'sha256', wrap: true },
  RSA1_5: { family: 'RSA', scheme: 'pkcs1', wrap: true },
  A128KW: { family: 'oct', scheme: 'kw', keyBits: 128, wrap: true },
  A192KW: { family: 'oct', scheme: 'kw', keyBits: 192, wrap: true },
  A256KW: { family: 'oct', scheme: 'kw', keyBits: 256, wrap: true },
  A128GCM: { family: 'oct', scheme: 'gcm', keyBits: 128, wrap: false },
  A192GCM: { family: 'oct', scheme: 'gcm', keyBits: 192, wrap: false },
  A256GCM: { family: 'oct', scheme: 'gcm', keyBits: 256, wrap: false },
  A128CBC: { family: 'oct', scheme: 'cbc', keyBits: 128, wrap: false },
  A192CBC: { family: 'oct', scheme: 'cbc', keyBits: 192, wrap: false },
  A256CBC: { family: 'oct', scheme: 'cbc', keyBits: 256, wrap: false },
  A128CBCPAD: { family: 'oct', scheme: 'cbcpad', keyBits: 128, wrap: false },
  A192CBCPAD: { family: 'oct', scheme: 'cbcpad', keyBits: 192, wrap: false },
  A256CBCPAD: { family: 'oct', scheme: 'cbcpad', keyBits: 256, wrap: false },
} as const satisfies Record<string, CipherAlgorithm>;

/** Signature algorithm description; every one signs a precomputed digest. */
export type SignatureAlgorithm =
  | { family: 'RSA'; scheme: 'pkcs1' | 'pss'; hash: HashName }
  | { family: 'EC'; curve: CurveName; hash: HashName };

/** Signature algorithms over digests (RFC 7518 §3). */
export const SIGNATURE_ALGORITHMS = {
  RS256: { family: 'RSA', scheme: 'pkcs1', hash: 'sha256' },
  RS384: { family: 'RSA', scheme: 'pkcs1', hash: 'sha384' },
  RS512: { family: 'RSA', scheme: 'pkcs1', hash: 'sha512' },
  PS256: { family: 'RSA', scheme: 'pss', hash: 'sha256' },
  PS384: { family: 'RSA', scheme: 'pss', hash: 'sha384' },
  PS512: { family: 'RSA', scheme: 'pss', hash: 'sha512' },
  ES256: { family: 'EC', curve: 'P-256', hash: 'sha256' },
  ES256K: { family: 'EC', curve: 'P-256K', hash: 'sha256' },
  ES384: { family: 'EC', curve: 'P-384', hash: 'sha384' },
  ES512: { family: 'EC', curve: 'P-521', hash: 'sha512' },
} as const satisfies Record<string, SignatureAlgorithm>;

/** Looks `id` up in a table without reaching inherited properties; `undefined` when unknown. */
export function lookup<T>(table: Readonly<Record<string, T>>, id: unknown): T | undefined {
  return typeof id === 'string' && Object.hasOwn(table, id) ? table[id] : undefined;
}
