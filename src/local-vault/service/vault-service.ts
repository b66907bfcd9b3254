/**
 * The service core: runs one operation at a time against the state (so that lazy rotation and
 * key generation never interleave), after the periodic work the real service does on its own
 * timers (automatic purge, rotation policies), and persists whatever changed.
 *
 * @module
 */
import { throttled } from '../http/errors.js';
import type { VaultSecrets } from '../secrets.js';
import { currentVersion } from './bundles.js';
import type { OperationContext, OperationResult } from './operation.js';
import { backupKey, restoreKey } from './backup.js';
import { decrypt, encrypt, getKeyAttestation, getRandomBytes, release, sign, unwrapKey, verify, wrapKey } from './crypto-operations.js';
import { deleteKey, getDeletedKey, getDeletedKeys, purgeDeletedKey, purgeExpired, recoverDeletedKey } from './deleted-keys.js';
import { createKey, getKey, getKeys, getKeyVersions, importKey, updateKey } from './key-management.js';
import type { VaultOperation } from './operation.js';
import { applyRotationPolicy, getKeyRotationPolicy, rotateKey, updateKeyRotationPolicy } from './rotation-policy.js';
import type { VaultState } from './state.js';
import { requestLimitClass, Throttle } from './throttle.js';

type Operation = (ctx: OperationContext) => OperationResult | Promise<OperationResult>;

const OPERATIONS: Record<VaultOperation, Operation> = {
  createKey,
  importKey,
  getKey,
  getKeys,
  getKeyVersions,
  updateKey,
  deleteKey,
  rotateKey,
  getKeyRotationPolicy,
  updateKeyRotationPolicy,
  backupKey,
  restoreKey,
  getDeletedKey,
  getDeletedKeys,
  recoverDeletedKey,
  purgeDeletedKey,
  encrypt,
  decrypt,
  wrapKey,
  unwrapKey,
  sign,
  verify,
  release,
  getKeyAttestation,
  getRandomBytes,
};
const CREATE_OPERATIONS: ReadonlySet<VaultOperation> = new Set(['createKey', 'importKey', 'rotateKey']);

/** A request as the service sees it, after routing and authorisation. */
export type ServiceRequest = Omit<OperationContext, 'state' | 'secrets'>;

/** Options of {@link VaultService}. */
export interface VaultServiceOptions {
  state: VaultState;
  secrets: VaultSecrets;
  /** Apply the per-10-second limits. */
  throttle: boolean;
  clock: () => number;
  /** Writes the state somewhere durable; called after every change. */
  persist?: (() => Promise<void>) | undefined;
}

/** Serialised execution of operations with maintenance, throttling and persistence. */
export class VaultService {
  readonly state: VaultState;
  readonly secrets: VaultSecrets;
  readonly #throttle: Throttle | undefined;
  readonly #persist: (() => Promise<void>) | undefined;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: VaultServiceOptions) {
    this.state = options.state;
    this.secrets = options.secrets;
    this.#throttle = options.throttle ? new Throttle(options.clock) : undefined;
    this.#persist = options.persist;
  }

  /** Runs `fn` after everything queued before it. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /**
   * Executes `operation`.
   *
   * @throws {VaultHttpError} the service's error for the request (4xx).
   */
  execute(operation: VaultOperation, request: ServiceRequest): Promise<OperationResult> {
    return this.#exclusive(async () => {
      try {
        await this.#maintain(operation, request.name);
        this.#admit(operation, request);
        return await OPERATIONS[operation]({ ...request, state: this.state, secrets: this.secrets });
      } finally {
        if (this.state.takeChanged()) await this.#persist?.();
      }
    });
  }

  /** Persists now (after queued operations), e.g. after a role assignment. */
  flush(): Promise<void> {
    return this.#exclusive(async () => {
      this.state.takeChanged();
      await this.#persist?.();
    });
  }

  /** Waits for every queued operation and write. */
  async idle(): Promise<void> {
    await this.#tail;
  }

  async #maintain(operation: VaultOperation, name: string): Promise<void> {
    purgeExpired(this.state);
    const touched = operation === 'getKeys' ? this.state.activeKeys() : [this.state.keys.get(name)];
    for (const record of touched) if (record) await applyRotationPolicy(this.state, record);
  }

  #admit(operation: VaultOperation, request: ServiceRequest): void {
    if (!this.#throttle) return;
    const record = this.state.keys.get(request.name);
    const current = record && record.versions.length > 0 ? currentVersion(record) : undefined;
    const limitClass = requestLimitClass(operation, request.body, current);
    if (!this.#throttle.admit(limitClass, CREATE_OPERATIONS.has(operation))) throw throttled();
  }
}
