/**
 * What each vault flavour may hold and do ("About keys": key types and protection by
 * resource type; "Managed HSM overview"):
 *
 * | | standard | premium | managed-hsm |
 * |---|---|---|---|
 * | RSA, EC (software) | yes | yes | no (HSM-protected keys only) |
 * | RSA-HSM, EC-HSM | no | yes | yes |
 * | oct-HSM, AES algorithms | no | no | yes |
 * | `/rng` | no | no | yes |
 *
 * The refusals come from the service-error table (http/service-errors.ts, each with its source).
 *
 * @module
 */
import { CIPHER_ALGORITHMS, KEY_TYPES, lookup, type KeyType } from '../crypto/algorithms.js';
import { SERVICE_ERRORS } from '../http/service-errors.js';
import type { VaultFlavour } from '../options.js';

/**
 * Refuses a key type the flavour does not have, as the service does on create and import.
 *
 * @throws {VaultHttpError} 400 BadParameter.
 */
export function assertKeyTypeAvailable(flavour: VaultFlavour, kty: KeyType): void {
  const { family, hsm } = KEY_TYPES[kty];
  if (flavour === 'managed-hsm') {
    if (!hsm) throw SERVICE_ERRORS.keyTypeNotSupported(kty);
    return;
  }
  if (family === 'oct') throw SERVICE_ERRORS.keyTypeNotSupported(kty);
  if (hsm && flavour === 'standard') throw SERVICE_ERRORS.hardwareKeyOnStandard();
}

/**
 * Refuses the AES algorithms outside Managed HSM.
 *
 * @throws {VaultHttpError} 400 BadParameter.
 */
export function assertAlgorithmAvailable(flavour: VaultFlavour, alg: unknown): void {
  if (flavour === 'managed-hsm') return;
  if (lookup(CIPHER_ALGORITHMS, alg)?.family === 'oct') {
    throw SERVICE_ERRORS.managedHsmAlgorithm(String(alg));
  }
}

/**
 * Refuses `/rng` outside Managed HSM.
 *
 * @throws {VaultHttpError} 400 BadParameter.
 */
export function assertRngAvailable(flavour: VaultFlavour): void {
  if (flavour !== 'managed-hsm') {
    throw SERVICE_ERRORS.managedHsmRng();
  }
}
