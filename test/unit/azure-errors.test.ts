import { describe, expect, it } from 'vitest';
import { invalidatesClient, toEnvelopeError } from '../../src/azure/internal/errors.js';
import {
  DecryptionFailedError, KekUnavailableError, KeyAccessDeniedError, KeyDisabledError, KeyNotFoundError, UnsupportedKeyTypeError,
} from '../../src/index.js';

const KID = 'https://v.vault.azure.net/keys/kek/0123';

function restError(statusCode: number | undefined, code?: string, inner?: string, message = 'service message'): Error {
  return Object.assign(new Error(message), {
    name: 'RestError', statusCode, code,
    details: { error: { code, message, ...(inner === undefined ? {} : { innererror: { code: inner } }) } },
  });
}

describe('toEnvelopeError', () => {
  it.each([
    ['403 disabled (message)', restError(403, 'Forbidden', undefined, 'Operation unwrapKey is not allowed on a disabled key.'), KeyDisabledError],
    ['403 KeyDisabled inner code', restError(403, 'Forbidden', 'KeyDisabled', 'Operation not allowed.'), KeyDisabledError],
    ['403 expired', restError(403, 'Forbidden', undefined, 'The key is expired.'), KeyDisabledError],
    ['403 not yet valid', restError(403, 'Forbidden', undefined, 'The key is not yet valid.'), KeyDisabledError],
    ['403 KeyDisabled as the SDK spells it (innerError)', Object.assign(restError(403, 'Forbidden', undefined, 'Operation not allowed.'), {
      details: { error: { code: 'Forbidden', message: 'Operation not allowed.', innerError: { code: 'KeyDisabled' } } },
    }), KeyDisabledError],
    ['403 Forbidden', restError(403, 'Forbidden', 'AccessDenied'), KeyAccessDeniedError],
    ['403 ForbiddenByRbac', restError(403, 'Forbidden', 'ForbiddenByRbac', 'Caller is not authorized to perform action on resource.'), KeyAccessDeniedError],
    ['401', restError(401, 'Unauthorized'), KeyAccessDeniedError],
    ['404 KeyNotFound', restError(404, 'KeyNotFound'), KeyNotFoundError],
    ['409 Conflict', restError(409, 'Conflict'), KekUnavailableError],
    ['429 after retries', restError(429, 'Throttled'), KekUnavailableError],
    ['503 after retries', restError(503, 'ServiceUnavailable'), KekUnavailableError],
    ['network reset', Object.assign(new Error('socket hang up'), { name: 'RestError', code: 'ECONNRESET' }), KekUnavailableError],
    ['SDK nbf pre-check', new Error(`Key ${KID} can't be used before 2030-01-01T00:00:00.000Z`), KeyDisabledError],
    ['SDK expiry pre-check', new Error(`Key ${KID} expired at 2020-01-01T00:00:00.000Z`), KeyDisabledError],
    ['SDK key_ops pre-check', new Error(`Operation unwrapKey is not supported on key ${KID}`), UnsupportedKeyTypeError],
    ['credential failure', Object.assign(new Error('no token'), { name: 'CredentialUnavailableError' }), KeyAccessDeniedError],
    ['anything else', new TypeError('boom'), KekUnavailableError],
  ])('%s', (_why, err, type) => {
    const mapped = toEnvelopeError(err, 'unwrapKey', KID, false, 30_000);
    expect(mapped).toBeInstanceOf(type);
    expect(mapped.message).toContain(KID);
    expect(mapped.cause).toBe(err);
  });

  it('maps 400 on unwrapKey to a DecryptionFailedError without cause or detail', () => {
    const mapped = toEnvelopeError(restError(400, 'BadParameter', undefined, 'padding check failed'), 'unwrapKey', KID, false, 30_000);
    expect(mapped).toBeInstanceOf(DecryptionFailedError);
    expect(mapped.code).toBe('ERR_DECRYPTION_FAILED');
    expect(mapped.cause).toBeUndefined();
    expect(mapped.message).toBe('decryption failed');
  });

  it('maps 400 elsewhere to KekUnavailableError', () => {
    expect(toEnvelopeError(restError(400, 'BadParameter'), 'wrapKey', KID, false, 30_000)).toBeInstanceOf(KekUnavailableError);
  });

  it('reports our own timeout as ERR_KEK_UNAVAILABLE naming the kid and the bound', () => {
    const abort = Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' });
    const mapped = toEnvelopeError(abort, 'getKey', KID, true, 1234);
    expect(mapped.code).toBe('ERR_KEK_UNAVAILABLE');
    expect(mapped.message).toBe(`Key Vault getKey on ${KID} timed out after 1234 ms`);
  });

  it('passes EnvelopeErrors through', () => {
    const e = new KeyDisabledError('x');
    expect(toEnvelopeError(e, 'getKey', KID, true, 1)).toBe(e);
  });

  it('says which errors make a cached client stale', () => {
    expect(invalidatesClient(new KeyDisabledError('x'))).toBe(true);
    expect(invalidatesClient(new KeyNotFoundError('x'))).toBe(true);
    expect(invalidatesClient(new KeyAccessDeniedError('x'))).toBe(true);
    expect(invalidatesClient(new KekUnavailableError('x'))).toBe(false);
    expect(invalidatesClient(new DecryptionFailedError())).toBe(false);
  });
});
