/**
 * Our own bounded retry for Key Vault calls. The Azure pipeline is configured with
 * `retryOptions.maxRetries = 0`, so this loop is the only place that retries (see
 * key-vault-kek.ts for why): 429 with or without Retry-After, 408, 500/502/503/504 and transient
 * network errors; Retry-After honoured up to a cap, otherwise exponential backoff with full jitter.
 *
 * @module
 * @internal
 */
import { assertPositiveInt } from '../../internal/bytes.js';

/** Retry settings of a `KeyVaultKek` (`options.retry`). */
export interface KeyVaultRetryOptions {
  /** Retries after the first attempt (default 5; 0 disables retrying). */
  maxRetries?: number;
  /** Backoff base: attempt n waits up to `baseDelayMs * 2^n`, fully jittered (default 250). */
  baseDelayMs?: number;
  /** Largest computed backoff (default 8,000). */
  maxDelayMs?: number;
  /** Largest wait taken from a Retry-After header; longer requests are capped (default 30,000). */
  maxRetryAfterMs?: number;
}

/** Validated retry settings. */
export type RetryPolicy = Readonly<Required<KeyVaultRetryOptions>>;

/** Test seams: a clock-free sleep and the jitter source. */
export interface RetryRuntime {
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  random(): number;
}

const STATUS_RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);
/** Transport failures worth another attempt (the pipeline's list plus a few socket codes). */
const NETWORK_RETRYABLE = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EPIPE', 'EAI_AGAIN',
  'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH', 'REQUEST_SEND_ERROR', 'UND_ERR_SOCKET',
]);

/** Validates `options.retry` against the defaults. */
export function resolveRetryPolicy(options: KeyVaultRetryOptions | undefined): RetryPolicy {
  if (options !== undefined && (options === null || typeof options !== 'object')) throw new TypeError('options.retry must be an object');
  const policy = {
    maxRetries: options?.maxRetries ?? 5,
    baseDelayMs: options?.baseDelayMs ?? 250,
    maxDelayMs: options?.maxDelayMs ?? 8_000,
    maxRetryAfterMs: options?.maxRetryAfterMs ?? 30_000,
  };
  if (!Number.isSafeInteger(policy.maxRetries) || policy.maxRetries < 0 || policy.maxRetries > 20) {
    throw new RangeError('options.retry.maxRetries must be an integer from 0 to 20');
  }
  assertPositiveInt(policy.baseDelayMs, 'options.retry.baseDelayMs');
  assertPositiveInt(policy.maxDelayMs, 'options.retry.maxDelayMs');
  assertPositiveInt(policy.maxRetryAfterMs, 'options.retry.maxRetryAfterMs');
  return Object.freeze(policy);
}

/**
 * The wait before retry number `attempt + 1`: the server's Retry-After (capped) when it sent
 * one, else full jitter, `random() * min(maxDelayMs, baseDelayMs * 2^attempt)`.
 */
export function backoffDelay(attempt: number, retryAfterMs: number | undefined, policy: RetryPolicy, random: () => number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

interface HeaderBag {
  get(name: string): string | undefined;
}

function headersOf(err: unknown): HeaderBag | undefined {
  const headers = (err as { response?: { headers?: unknown } } | null)?.response?.headers;
  return headers !== null && typeof headers === 'object' && typeof (headers as HeaderBag).get === 'function' ? (headers as HeaderBag) : undefined;
}

/**
 * The server's requested wait, ms: `retry-after-ms`, `x-ms-retry-after-ms`, else `Retry-After`
 * (delta-seconds or an HTTP date). Undefined when absent or unparsable.
 */
export function retryAfterMs(err: unknown, now: number = Date.now()): number | undefined {
  const headers = headersOf(err);
  if (headers === undefined) return undefined;
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const v = headers.get(name)?.trim();
    if (v !== undefined && /^\d+$/.test(v)) return Number(v);
  }
  const v = headers.get('retry-after')?.trim();
  if (v === undefined || v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** True for failures another attempt may fix: throttling, 5xx, timeouts, dropped connections. */
export function isTransient(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const { statusCode, code } = err as { statusCode?: unknown; code?: unknown };
  if (typeof statusCode === 'number') return STATUS_RETRYABLE.has(statusCode);
  return typeof code === 'string' && NETWORK_RETRYABLE.has(code);
}

/** Sleeps `ms`, rejecting with `signal.reason` when it aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export const defaultRuntime: RetryRuntime = { sleep: abortableSleep, random: Math.random };

/**
 * Runs `attempt` until it succeeds, fails with a non-transient error, runs out of retries, or
 * `signal` aborts (then rejects with the abort reason). `deadline` (ms since epoch) stops retries
 * whose wait would not finish in time, so the last real failure is reported instead of a timeout.
 * @throws the last error `attempt` threw.
 */
export async function withRetry<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  policy: RetryPolicy,
  signal: AbortSignal,
  deadline: number,
  runtime: RetryRuntime = defaultRuntime,
): Promise<T> {
  for (let n = 0; ; n++) {
    signal.throwIfAborted();
    try {
      return await attempt(signal);
    } catch (err) {
      signal.throwIfAborted();
      if (n >= policy.maxRetries || !isTransient(err)) throw err;
      const wait = backoffDelay(n, retryAfterMs(err), policy, runtime.random);
      if (Date.now() + wait >= deadline) throw err;
      await runtime.sleep(wait, signal);
    }
  }
}
