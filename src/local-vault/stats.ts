/**
 * Call counting, so tests and benchmarks can assert vault-call budgets: authenticated requests
 * per operation and per key, response statuses, and the 401 challenges the SDK's first request
 * of each pipeline costs.
 *
 * @module
 */

/**
 * The counters of one vault (`vault.stats`).
 *
 * @example
 * ```ts
 * vault.stats.reset();
 * await envelope.decrypt(blob);
 * expect(vault.stats.byOperation.unwrapKey).toBe(1);
 * expect(vault.stats.byKey['kek']?.unwrapKey).toBe(1);
 * ```
 */
export class VaultStats {
  #total = 0;
  #challenges = 0;
  #byOperation: Record<string, number> = {};
  #byKey: Record<string, Record<string, number>> = {};
  #byStatus: Record<string, number> = {};

  /** Authenticated requests routed to an operation (faulted and refused ones included). */
  get total(): number {
    return this.#total;
  }

  /** 401 challenges sent to requests without an Authorization header. */
  get challenges(): number {
    return this.#challenges;
  }

  /** Requests per operation name (`createKey`, `getKey`, `unwrapKey`, ...). */
  get byOperation(): Readonly<Record<string, number>> {
    return this.#byOperation;
  }

  /** Requests per key name, then per operation. */
  get byKey(): Readonly<Record<string, Readonly<Record<string, number>>>> {
    return this.#byKey;
  }

  /** Responses per HTTP status (`'200'`, `'401'`, `'429'`, ...); dropped connections are `'reset'`. */
  get byStatus(): Readonly<Record<string, number>> {
    return this.#byStatus;
  }

  /** Zeroes every counter. */
  reset(): void {
    this.#total = 0;
    this.#challenges = 0;
    this.#byOperation = {};
    this.#byKey = {};
    this.#byStatus = {};
  }

  /** @internal */
  recordChallenge(): void {
    this.#challenges++;
  }

  /** @internal */
  recordOperation(operation: string, keyName: string): void {
    this.#total++;
    this.#byOperation[operation] = (this.#byOperation[operation] ?? 0) + 1;
    if (keyName) {
      const perKey = (this.#byKey[keyName] ??= {});
      perKey[operation] = (perKey[operation] ?? 0) + 1;
    }
  }

  /** @internal */
  recordStatus(status: number | 'reset'): void {
    const key = String(status);
    this.#byStatus[key] = (this.#byStatus[key] ?? 0) + 1;
  }
}
