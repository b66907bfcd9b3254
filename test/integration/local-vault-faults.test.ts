/**
 * Fault injection, call counting and throttling, seen through the real Azure pipeline on both
 * transports: what the pipeline retries (429/503 with Retry-After, 5xx, ECONNRESET) and what it
 * hands straight to the caller (429 without Retry-After, as the real service sends it).
 */
import { KeyClient } from '@azure/keyvault-keys';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { expectRestError, FAST_RETRY, ManualClock, TRANSPORTS } from '../helpers/local-vault.js';

describe.each(TRANSPORTS)('local vault faults and stats (%s)', (transport) => {
  let vault: LocalKeyVault;
  let client: KeyClient;
  let fast: KeyClient;

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport });
    client = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    fast = new KeyClient(vault.url, vault.credential(), { ...vault.clientOptions, ...FAST_RETRY });
    await client.createEcKey('k');
    await fast.getKey('k');
  });
  afterAll(() => vault.close());

  it('429 without Retry-After reaches the caller as RestError 429 after one request', async () => {
    vault.stats.reset();
    vault.faults.next(1, { type: '429' });
    const error = await expectRestError(client.getKey('k'), 429, 'Throttled');
    expect(error.response?.headers.get('retry-after')).toBeUndefined();
    expect(vault.stats.byOperation.getKey).toBe(1);
    expect(vault.faults.injected).toBeGreaterThan(0);
  });

  it('429 with Retry-After: 1 is retried by the pipeline and succeeds', async () => {
    vault.stats.reset();
    vault.faults.next(1, { type: '429', retryAfterSeconds: 1 });
    const started = Date.now();
    expect((await client.getKey('k')).name).toBe('k');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(vault.stats.byOperation.getKey).toBe(2);
    expect(vault.stats.byStatus).toEqual({ '200': 1, '429': 1 });
  });

  it('503 is retried with backoff; after 3 retries the caller gets RestError 503', async () => {
    vault.stats.reset();
    vault.faults.next(2, { type: '503' });
    expect((await fast.getKey('k')).name).toBe('k');
    expect(vault.stats.byOperation.getKey).toBe(3);
    vault.stats.reset();
    vault.faults.next(4, { type: '503', retryAfterSeconds: 0 });
    await expectRestError(fast.getKey('k'), 503, 'ServiceUnavailable');
    expect(vault.stats.byOperation.getKey).toBe(4);
  });

  it('delay adds latency; an abort during the delay rejects with AbortError', async () => {
    vault.faults.next(1, { type: 'delay', ms: 150 });
    const started = Date.now();
    await client.getKey('k');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    vault.faults.next(1, { type: 'delay', ms: 5_000 });
    const abortSignal = AbortSignal.timeout(50);
    const aborted = await client.getKey('k', { abortSignal }).catch((e: unknown) => e);
    expect((aborted as Error).name).toBe('AbortError');
    vault.faults.clear();
  });

  it('reset drops the connection: retried as ECONNRESET, or surfaced with maxRetries 0', async () => {
    vault.stats.reset();
    vault.faults.next(1, { type: 'reset' });
    expect((await fast.getKey('k')).name).toBe('k');
    expect(vault.stats.byStatus.reset).toBe(1);
    const noRetry = new KeyClient(vault.url, vault.credential(), { ...vault.clientOptions, retryOptions: { maxRetries: 0 } });
    await noRetry.getKey('k');
    vault.faults.next(1, { type: 'reset' });
    const error = await noRetry.getKey('k').catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('ECONNRESET');
  });

  it('filters faults by operation, and rate() applies to a fraction of requests', async () => {
    const kek = await client.createRsaKey('kek', { keySize: 2048 });
    const crypto = client.getCryptographyClient('kek', { keyVersion: kek.properties.version ?? '' });
    const wrapped = await crypto.wrapKey('RSA-OAEP-256', randomBytes(32));
    vault.faults.next(1, { type: '429', operations: ['unwrapKey'] });
    await client.getKey('k');
    await expectRestError(crypto.unwrapKey('RSA-OAEP-256', wrapped.result), 429, 'Throttled');
    vault.faults.rate(1, { type: '429', operations: ['getKey'] });
    await expectRestError(client.getKey('k'), 429);
    vault.faults.clear();
    vault.faults.rate(0, { type: '429' });
    await client.getKey('k');
    vault.faults.clear();
    expect(() => vault.faults.next(0, { type: '429' })).toThrow(RangeError);
    expect(() => vault.faults.rate(2, { type: '429' })).toThrow(RangeError);
  });

  it('counts operations per key, and one challenge per pipeline', async () => {
    vault.stats.reset();
    const fresh = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    const key = await fresh.createEcKey('counted');
    const crypto = fresh.getCryptographyClient('counted', { keyVersion: key.properties.version ?? '' });
    await crypto.sign('ES256', randomBytes(32));
    await crypto.sign('ES256', randomBytes(32));
    expect(vault.stats.challenges).toBe(1);
    expect(vault.stats.byKey.counted).toEqual({ createKey: 1, getKey: 1, sign: 2 });
    expect(vault.stats.total).toBe(4);
    vault.stats.reset();
    expect(vault.stats.total).toBe(0);
    expect(vault.stats.byOperation).toEqual({});
  });
});

describe.each(TRANSPORTS)('local vault throttling and shutdown (%s)', (transport) => {
  it('applies the CREATE limit per 10 s: 429 Throttled with Retry-After (the seconds left in the window)', async () => {
    const clock = new ManualClock(Math.floor(Date.now() / 10_000) * 10_000);
    const vault = await LocalKeyVault.start({ transport, throttle: true, clock: clock.now });
    try {
      // The pipeline would honour Retry-After and wait: no retries here.
      const client = new KeyClient(vault.url, vault.credential(), { ...vault.clientOptions, retryOptions: { maxRetries: 0 } });
      for (let i = 0; i < 20; i++) await client.createEcKey(`t${i}`);
      const error = await expectRestError(client.createEcKey('t20'), 429, 'Throttled');
      expect(error.message).toContain('VaultRequestTypeLimitReached');
      // Retry-After: the seconds left in the 10-second window.
      expect(error.response?.headers.get('retry-after')).toBe(String(Math.ceil((10_000 - (clock.ms % 10_000)) / 1000)));
      expect((await client.getKey('t0')).name).toBe('t0');
      clock.ms += 10_000;
      expect((await client.createEcKey('t20')).name).toBe('t20');
    } finally {
      await vault.close();
    }
  });

  it('a closed vault refuses connections', async () => {
    const vault = await LocalKeyVault.start({ transport });
    const client = new KeyClient(vault.url, vault.credential(), { ...vault.clientOptions, retryOptions: { maxRetries: 0 } });
    await client.createEcKey('gone');
    await vault.close();
    await vault.close();
    const error = await client.getKey('gone').catch((e: unknown) => e);
    // https: a kept-alive socket may be the first to notice (ECONNRESET); a new one is refused.
    expect(['ECONNREFUSED', 'ECONNRESET']).toContain((error as { code?: string }).code);
    const again = await client.getKey('gone').catch((e: unknown) => e);
    expect((again as { code?: string }).code).toBe('ECONNREFUSED');
  });
});
