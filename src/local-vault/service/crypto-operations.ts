/**
 * The cryptographic endpoints: encrypt, decrypt, wrapKey, unwrapKey, sign, verify, plus rng
 * and the unsupported release. Each checks, in order: the version is enabled (403), the
 * algorithm suits the key and the input sizes are right (400), the operation is in its key_ops
 * (403), and (for encrypt, wrapKey and sign only) that now is within nbf..exp (403). Decrypt, unwrap and verify keep working outside that window, as documented for
 * Key Vault, so data protected while a key was valid stays recoverable.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { KeyOperation } from '../crypto/algorithms.js';
import { fromBase64Url, optionalBase64Url, toBase64Url } from '../crypto/encoding.js';
import { publicMembers } from '../crypto/key-material.js';
import {
  cipherAlgorithm,
  runCipher,
  signatureAlgorithm,
  signDigest,
  verifyDigest,
  type CipherOperation,
} from '../crypto/operations.js';
import { badParameter, forbidden } from '../http/errors.js';
import { SERVICE_ERRORS } from '../http/service-errors.js';
import { keyId } from './bundles.js';
import { assertAlgorithmAvailable, assertRngAvailable } from './flavour.js';
import { ok, type OperationContext, type OperationResult } from './operation.js';
import type { KeyVersionRecord } from './state.js';

type CryptoOperation = CipherOperation | 'sign' | 'verify';

const TIME_BOUND: Record<CryptoOperation, boolean> = {
  encrypt: true,
  wrapKey: true,
  sign: true,
  decrypt: false,
  unwrapKey: false,
  verify: false,
};
const MAX_RANDOM_BYTES = 128;

function usableVersion(
  ctx: OperationContext,
  operation: CryptoOperation,
  checkAlgorithm: (version: KeyVersionRecord) => void,
): { kid: string; version: KeyVersionRecord } {
  const { record, version } = ctx.state.keyVersion(ctx.name, ctx.version);
  const a = version.attributes;
  if (!a.enabled) throw SERVICE_ERRORS.disabled('Key', operation);
  checkAlgorithm(version);
  if (!version.keyOps.includes(operation satisfies KeyOperation)) {
    throw forbidden(`Operation ${operation} is not permitted on this key.`, 'KeyOperationForbidden');
  }
  if (TIME_BOUND[operation]) {
    const now = ctx.state.now();
    if (a.nbf !== undefined && now < a.nbf) {
      throw forbidden(`Operation ${operation} is not allowed before the key's activation time (nbf ${a.nbf}).`, 'KeyNotYetValid');
    }
    if (a.exp !== undefined && now >= a.exp) {
      throw forbidden(`Operation ${operation} is not allowed on an expired key (exp ${a.exp}).`, 'KeyExpired');
    }
  }
  return { kid: keyId(ctx.base, record.name, version.version), version };
}

function curveOf(version: KeyVersionRecord): string | undefined {
  return version.material.kty === 'EC' ? version.material.crv : undefined;
}

function cipher(operation: CipherOperation): (ctx: OperationContext) => OperationResult {
  return (ctx) => {
    assertAlgorithmAvailable(ctx.state.settings.flavour, ctx.body.alg);
    const { kid, version } = usableVersion(ctx, operation, (v) => cipherAlgorithm(ctx.body.alg, operation, v.material.kty));
    const out = runCipher(operation, ctx.body.alg, version.material, {
      value: fromBase64Url(ctx.body.value, 'value'),
      iv: optionalBase64Url(ctx.body.iv, 'iv'),
      tag: optionalBase64Url(ctx.body.tag, 'tag'),
      aad: optionalBase64Url(ctx.body.aad, 'aad'),
    });
    const body: Record<string, string> = { kid, value: toBase64Url(out.value) };
    if (out.iv) body.iv = toBase64Url(out.iv);
    if (out.tag) body.tag = toBase64Url(out.tag);
    if (out.aad) body.aad = toBase64Url(out.aad);
    return ok(body);
  };
}

/** `POST /keys/{name}/{version}/encrypt`. */
export const encrypt = cipher('encrypt');
/** `POST /keys/{name}/{version}/decrypt`. */
export const decrypt = cipher('decrypt');
/** `POST /keys/{name}/{version}/wrapkey`. */
export const wrapKey = cipher('wrapKey');
/** `POST /keys/{name}/{version}/unwrapkey`. */
export const unwrapKey = cipher('unwrapKey');

/** `POST /keys/{name}/{version}/sign`: `value` is the digest, not the data. */
export function sign(ctx: OperationContext): OperationResult {
  const digest = fromBase64Url(ctx.body.value, 'value');
  const { kid, version } = usableVersion(ctx, 'sign', (v) => signatureAlgorithm(ctx.body.alg, v.material.kty, curveOf(v), digest));
  const signature = signDigest(ctx.body.alg, version.material, digest);
  return ok({ kid, value: toBase64Url(signature) });
}

/** `POST /keys/{name}/{version}/verify`: `{ value: boolean }`. */
export function verify(ctx: OperationContext): OperationResult {
  const digest = fromBase64Url(ctx.body.digest, 'digest');
  const { version } = usableVersion(ctx, 'verify', (v) => signatureAlgorithm(ctx.body.alg, v.material.kty, curveOf(v), digest));
  const jwk = { kty: version.kty, ...publicMembers(version.material) };
  const valid = verifyDigest(ctx.body.alg, jwk, digest, fromBase64Url(ctx.body.value, 'value'));
  return ok({ value: valid });
}

/** `POST /rng`: 1..128 random bytes. */
export function getRandomBytes(ctx: OperationContext): OperationResult {
  assertRngAvailable(ctx.state.settings.flavour);
  const count = ctx.body.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_RANDOM_BYTES) {
    throw badParameter(`'count' must be an integer between 1 and ${MAX_RANDOM_BYTES}.`);
  }
  return ok({ value: toBase64Url(randomBytes(count)) });
}

/** `POST /keys/{name}/{version}/release`: Secure Key Release needs attestation; not offered. */
export function release(): OperationResult {
  throw badParameter('Secure key release requires an attestation service and is not supported by the local vault.');
}

/** `GET /keys/{name}/{version}/attestation`: Managed HSM attestation; not offered. */
export function getKeyAttestation(): OperationResult {
  throw badParameter('Key attestation is a Managed HSM feature that the local vault does not support.');
}
