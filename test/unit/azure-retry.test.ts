import { describe, expect, it } from 'vitest';
import { createHttpHeaders } from '@azure/core-rest-pipeline';
import { linkSignal } from '../../src/azure/internal/call.js';
import { backoffDelay, isTransient, resolveRetryPolicy, retryAfterMs, withRetry } from '../../src/azure/internal/retry.js';

function restError(statusCode: number | undefined, headers: Record<string, string> = {}, code?: string): Error {
  return Object.assign(new Error(`status ${statusCode}`), {
    name: 'RestError', statusCode, code, response: statusCode === undefined ? undefined : { status: statusCode, headers: createHttpHeaders(headers) },
  });
}

describe('backoff schedule', () => {
  const policy = resolveRetryPolicy(undefined);

  it('defaults to 5 retries, 250 ms base, 8 s max, Retry-After capped at 30 s', () => {
    expect(policy).toEqual({ maxRetries: 5, baseDelayMs: 250, maxDelayMs: 8000, maxRetryAfterMs: 30_000 });
  });

  it('is exponential with full jitter: random() scales [0, min(max, base * 2^n))', () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, undefined, policy, () => 0.999999));
    expect(ceilings).toEqual([249, 499, 999, 1999, 3999, 7999, 7999, 7999]);
    expect(backoffDelay(3, undefined, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, undefined, policy, () => 0.5)).toBe(1000);
  });

  it('honours Retry-After, capped', () => {
    expect(backoffDelay(0, 1000, policy, () => 0.5)).toBe(1000);
    expect(backoffDelay(0, 0, policy, () => 0.5)).toBe(0);
    expect(backoffDelay(0, 120_000, policy, () => 0.5)).toBe(30_000);
  });

  it('validates options, naming them', () => {
    expect(() => resolveRetryPolicy({ maxRetries: -1 })).toThrow(/maxRetries/);
    expect(() => resolveRetryPolicy({ baseDelayMs: 0 })).toThrow(/baseDelayMs/);
    expect(() => resolveRetryPolicy({ maxDelayMs: 1.5 })).toThrow(/maxDelayMs/);
    expect(resolveRetryPolicy({ maxRetries: 0 }).maxRetries).toBe(0);
  });
});

describe('retryAfterMs', () => {
  it('reads retry-after-ms, x-ms-retry-after-ms, Retry-After seconds and dates', () => {
    expect(retryAfterMs(restError(429, { 'retry-after-ms': '1500' }))).toBe(1500);
    expect(retryAfterMs(restError(429, { 'x-ms-retry-after-ms': '20' }))).toBe(20);
    expect(retryAfterMs(restError(429, { 'retry-after': '2' }))).toBe(2000);
    expect(retryAfterMs(restError(503, { 'retry-after': '0' }))).toBe(0);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(restError(503, { 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(5000);
    expect(retryAfterMs(restError(429))).toBeUndefined();
    expect(retryAfterMs(restError(429, { 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMs(new Error('x'))).toBeUndefined();
  });
});

describe('isTransient', () => {
  it.each([408, 429, 500, 502, 503, 504])('retries %i', (s) => expect(isTransient(restError(s))).toBe(true));
  it.each([400, 401, 403, 404, 409, 501, 505])('does not retry %i', (s) => expect(isTransient(restError(s))).toBe(false));
  it('retries dropped connections but not TLS failures or unknown errors', () => {
    expect(isTransient(restError(undefined, {}, 'ECONNRESET'))).toBe(true);
    expect(isTransient(restError(undefined, {}, 'ETIMEDOUT'))).toBe(true);
    expect(isTransient(restError(undefined, {}, 'DEPTH_ZERO_SELF_SIGNED_CERT'))).toBe(false);
    expect(isTransient(new Error('boom'))).toBe(false);
    expect(isTransient(undefined)).toBe(false);
  });
});

describe('withRetry', () => {
  const policy = resolveRetryPolicy({ maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1000 });

  function recorder() {
    const waits: number[] = [];
    return { waits, runtime: { sleep: async (ms: number) => void waits.push(ms), random: () => 0.5 } };
  }

  it('retries transient failures with the schedule, then succeeds', async () => {
    const { waits, runtime } = recorder();
    const errors = [restError(429), restError(429, { 'retry-after': '1' }), restError(503)];
    let calls = 0;
    const out = await withRetry(async () => {
      const e = errors[calls++];
      if (e) throw e;
      return 'ok';
    }, policy, new AbortController().signal, Date.now() + 60_000, runtime);
    expect(out).toBe('ok');
    expect(calls).toBe(4);
    expect(waits).toEqual([50, 1000, 200]);
  });

  it('gives up after maxRetries with the last error', async () => {
    const { waits, runtime } = recorder();
    let calls = 0;
    const last = restError(503);
    await expect(withRetry(async () => {
      calls++;
      throw calls === 4 ? last : restError(503);
    }, policy, new AbortController().signal, Date.now() + 60_000, runtime)).rejects.toBe(last);
    expect(calls).toBe(4);
    expect(waits).toHaveLength(3);
  });

  it('does not retry permanent failures', async () => {
    const { waits, runtime } = recorder();
    const e = restError(403);
    await expect(withRetry(async () => { throw e; }, policy, new AbortController().signal, Date.now() + 60_000, runtime)).rejects.toBe(e);
    expect(waits).toEqual([]);
  });

  it('stops retrying when the wait would pass the deadline', async () => {
    const { waits, runtime } = recorder();
    const e = restError(429, { 'retry-after': '20' });
    await expect(withRetry(async () => { throw e; }, policy, new AbortController().signal, Date.now() + 5_000, runtime)).rejects.toBe(e);
    expect(waits).toEqual([]);
  });

  it('rejects with the abort reason when aborted during a wait', async () => {
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const runtime = { sleep: async () => controller.abort(reason), random: () => 0 };
    await expect(withRetry(async () => { throw restError(503); }, policy, controller.signal, Date.now() + 60_000, runtime)).rejects.toBe(reason);
  });
});

describe('linkSignal', () => {
  it('aborts on the parent, with its reason, and detaches on dispose', () => {
    const parent = new AbortController();
    const linked = linkSignal(parent.signal, 60_000);
    parent.abort(new Error('stop'));
    expect(linked.signal.aborted).toBe(true);
    expect((linked.signal.reason as Error).message).toBe('stop');
    expect(linked.timedOut()).toBe(false);
    linked.dispose();
  });

  it('times out and says so', async () => {
    const linked = linkSignal(undefined, 5);
    await new Promise((r) => setTimeout(r, 20));
    expect(linked.signal.aborted).toBe(true);
    expect(linked.timedOut()).toBe(true);
    linked.dispose();
  });

  it('leaves no listener on a long-lived parent after dispose', () => {
    const parent = new AbortController();
    for (let i = 0; i < 1000; i++) linkSignal(parent.signal, 60_000).dispose();
    const linked = linkSignal(parent.signal, 60_000);
    linked.dispose();
    parent.abort();
    expect(linked.signal.aborted).toBe(false);
  });
});
