/**
 * One Key Vault operation as KeyVaultKek runs it: a deadline (`timeoutMs`) linked to the
 * caller's AbortSignal, our bounded retry loop, and the mapping of failures to typed errors.
 *
 * @module
 * @internal
 */
import { type VaultOperation, toEnvelopeError } from './errors.js';
import { type RetryPolicy, type RetryRuntime, defaultRuntime, withRetry } from './retry.js';

/** How calls are bounded and retried. */
export interface CallSettings {
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly runtime?: RetryRuntime;
}

/** A signal that aborts when the parent aborts or the timeout fires; dispose it when done. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  readonly deadline: number;
  timedOut(): boolean;
  dispose(): void;
}

/**
 * Links `parent` and a timeout into one signal. Built by hand rather than with
 * `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: Node 20's `any` has had leaks of
 * composite signals kept alive by a long-lived parent, and an `AbortSignal.timeout` timer cannot
 * be cleared early. Here both the parent listener and the timer go away in `dispose()`.
 */
export function linkSignal(parent: AbortSignal | undefined, timeoutMs: number): LinkedSignal {
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = () => controller.abort(parent?.reason);
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    deadline: Date.now() + timeoutMs,
    timedOut: () => timedOut,
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * Runs `fn` with retries under one deadline. Rejects with the caller's abort reason when
 * `signal` aborts, else with a typed `EnvelopeError` naming `kid`.
 */
export async function callVault<T>(
  operation: VaultOperation,
  kid: string,
  settings: CallSettings,
  signal: AbortSignal | undefined,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  signal?.throwIfAborted();
  const linked = linkSignal(signal, settings.timeoutMs);
  try {
    return await withRetry(fn, settings.retry, linked.signal, linked.deadline, settings.runtime ?? defaultRuntime);
  } catch (err) {
    signal?.throwIfAborted();
    throw toEnvelopeError(err, operation, kid, linked.timedOut(), settings.timeoutMs);
  } finally {
    linked.dispose();
  }
}
