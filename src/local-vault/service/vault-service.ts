/**
 * The service core: runs one operation at a time against the state (so that lazy rotation and
 * key generation never interleave), after the periodic work the real service does on its own
 * timers (automatic purge, rotation policies), and persists whatever changed.
 *
 * With a durable state (a state file shared with other processes), every operation first
 * reloads what other processes wrote (cheap when nothing changed); operations that write run
 * as a transaction under the file's lock on the freshest state. A read whose maintenance step
 * turned out to write (a due rotation, an expired purge) is redone as a transaction.
 *
 * @module
 */
import { publishDueEvents } from '../events/due.js';
import { throttled } from '../http/errors.js';
import type { VaultSecrets } from '../secrets.js';
import { currentVersion } from './bundles.js';
import type { OperationContext, OperationResult } from './operation.js';
import { backupKey, backupSecret, restoreKey, restoreSecret } from './backup.js';
import { decrypt, encrypt, getKeyAttestation, getRandomBytes, release, sign, unwrapKey, verify, wrapKey } from './crypto-operations.js';
import { deleteKey, getDeletedKey, getDeletedKeys, purgeDeletedKey, purgeExpired, recoverDeletedKey } from './deleted-keys.js';
import { createKey, getKey, getKeys, getKeyVersions, importKey, updateKey } from './key-management.js';
import { collectionOf, type VaultOperation } from './operation.js';
import { applyRotationPolicy, getKeyRotationPolicy, rotateKey, updateKeyRotationPolicy } from './rotation-policy.js';
import {
  deleteSecret,
  getDeletedSecret,
  getDeletedSecrets,
  getSecret,
  getSecrets,
  getSecretVersions,
  purgeDeletedSecret,
  recoverDeletedSecret,
  setSecret,
  updateSecret,
} from './secret-management.js';
import type { VaultState } from './state.js';
import { CERTIFICATE_SERVICE_OPERATIONS, CERTIFICATE_WRITE_OPERATIONS } from '../certificates/operations.js';
import { applyLifetimeActions } from '../certificates/renewal.js';
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
  setSecret,
  getSecret,
  updateSecret,
  getSecrets,
  getSecretVersions,
  deleteSecret,
  getDeletedSecret,
  getDeletedSecrets,
  recoverDeletedSecret,
  purgeDeletedSecret,
  backupSecret,
  restoreSecret,
  ...CERTIFICATE_SERVICE_OPERATIONS,
};
const CREATE_OPERATIONS: ReadonlySet<VaultOperation> = new Set(['createKey', 'importKey', 'rotateKey']);
/** Operations that change the state by themselves (reads may too, through maintenance). */
const WRITE_OPERATIONS: ReadonlySet<VaultOperation> = new Set([
  'createKey',
  'importKey',
  'updateKey',
  'deleteKey',
  'rotateKey',
  'updateKeyRotationPolicy',
  'restoreKey',
  'recoverDeletedKey',
  'purgeDeletedKey',
  'setSecret',
  'updateSecret',
  'deleteSecret',
  'recoverDeletedSecret',
  'purgeDeletedSecret',
  'restoreSecret',
  ...CERTIFICATE_WRITE_OPERATIONS,
]);

/** The state's durable copy, shared with other processes (see persistence/durable-state.ts). */
export interface StateSync {
  /** Brings memory up to date with what other processes wrote. */
  refresh(): Promise<void>;
  /** Runs `fn` on the freshest state under the cross-process lock and persists its changes. */
  transaction<T>(fn: () => T | Promise<T>): Promise<T>;
}

/** A request as the service sees it, after routing and authorisation. */
export type ServiceRequest = Omit<OperationContext, 'state' | 'secrets'>;

/** Options of {@link VaultService}. */
export interface VaultServiceOptions {
  state: VaultState;
  secrets: VaultSecrets;
  /** Apply the per-10-second limits. */
  throttle: boolean;
  /** The durable copy of the state, when the vault is persisted. */
  sync?: StateSync | undefined;
}

/** Serialised execution of operations with maintenance, throttling and persistence. */
export class VaultService {
  readonly state: VaultState;
  readonly secrets: VaultSecrets;
  readonly #throttle: Throttle | undefined;
  readonly #sync: StateSync | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #settled: (() => void) | undefined;

  constructor(options: VaultServiceOptions) {
    this.state = options.state;
    this.secrets = options.secrets;
    this.#throttle = options.throttle ? new Throttle(() => this.state.nowMs()) : undefined;
    this.#sync = options.sync;
  }

  /** Runs `fn` after everything queued before it, then the settled listener (event delivery). */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    const settled = (): void => this.#settled?.();
    // why: registered before the caller's continuation, so listeners run before the response is seen.
    result.then(settled, settled);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Calls `listener` after every operation and scan, when the state may hold new events. */
  onSettled(listener: () => void): void {
    this.#settled = listener;
  }

  /**
   * The periodic work of the service, for every object and now (the vault's timer runs it, and
   * so can anything that moved the clock): automatic purge, due rotations of every key, and the
   * due expiry events (events/due.ts). Persisted like a write when it changed anything.
   *
   * @throws {Error} when the durable state cannot be read or written.
   */
  processDueEvents(): Promise<void> {
    return this.#exclusive(async () => {
      const sync = this.#sync;
      if (sync === undefined) {
        await this.#maintainAll();
        this.state.takeChanged();
        return;
      }
      await sync.refresh();
      this.state.takeChanged();
      await this.#maintainAll();
      // Seen on memory without the lock: redo it under the lock on the freshest state.
      if (this.state.peekChanged()) await sync.transaction(() => this.#maintainAll());
    });
  }

  async #maintainAll(): Promise<void> {
    purgeExpired(this.state);
    for (const record of this.state.activeKeys()) await applyRotationPolicy(this.state, record);
    for (const record of this.state.certificates.active()) await applyLifetimeActions(this.state, record);
    publishDueEvents(this.state);
  }

  /**
   * Executes `operation`. `prepare` (the RBAC check, then parsing the request) runs first, on
   * the freshest state.
   *
   * @throws {VaultHttpError} the service's error for the request (4xx).
   * @throws {Error} when the durable state cannot be read or written (the request fails: 500).
   */
  execute(operation: VaultOperation, prepare: () => ServiceRequest): Promise<OperationResult> {
    return this.#exclusive(async () => {
      const sync = this.#sync;
      if (sync === undefined) {
        try {
          return await this.#run(operation, prepare);
        } finally {
          this.state.takeChanged();
        }
      }
      await sync.refresh();
      if (!WRITE_OPERATIONS.has(operation)) {
        this.state.takeChanged();
        let outcome: { result: OperationResult } | { error: unknown };
        try {
          outcome = { result: await this.#run(operation, prepare) };
        } catch (error) {
          outcome = { error };
        }
        if (!this.state.peekChanged()) {
          if ('error' in outcome) throw outcome.error;
          return outcome.result;
        }
        // Maintenance wrote without the lock: the transaction reloads and redoes it under it.
      }
      return sync.transaction(() => this.#run(operation, prepare));
    });
  }

  /**
   * Runs `change` (e.g. a role assignment) after queued operations, persisted like a write.
   * `change` must call `state.markChanged()` when it changed something.
   */
  mutate(change: () => void): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#sync === undefined) change();
      else await this.#sync.transaction(change);
    });
  }

  /**
   * Time travel: applies `advance` (which may move `state.clockOffsetMs`) after queued
   * operations, then runs the periodic work the service does on its timers on every object
   * (automatic purge, rotation policies, due expiry events), persisted like a write; the events
   * it published are delivered as after any operation. Returns the vault's clock.
   */
  travel(advance?: (state: VaultState) => void): Promise<{ nowMs: number; offsetMs: number }> {
    const run = async (): Promise<{ nowMs: number; offsetMs: number }> => {
      if (advance) {
        const before = this.state.clockOffsetMs;
        advance(this.state);
        if (this.state.clockOffsetMs !== before) this.state.markChanged();
      }
      await this.#maintainAll();
      return { nowMs: this.state.nowMs(), offsetMs: this.state.clockOffsetMs };
    };
    return this.#exclusive(async () => {
      if (this.#sync === undefined) {
        try {
          return await run();
        } finally {
          this.state.takeChanged();
        }
      }
      return this.#sync.transaction(run);
    });
  }

  /** Waits for every queued operation and write. */
  async idle(): Promise<void> {
    await this.#tail;
  }

  async #run(operation: VaultOperation, prepare: () => ServiceRequest): Promise<OperationResult> {
    const request = prepare();
    await this.#maintain(operation, request.name);
    if (request.name !== '') publishDueEvents(this.state, { collection: collectionOf(operation), name: request.name });
    this.#admit(operation, request);
    return OPERATIONS[operation]({ ...request, state: this.state, secrets: this.secrets });
  }

  async #maintain(operation: VaultOperation, name: string): Promise<void> {
    purgeExpired(this.state);
    // Certificate lifetime actions run like rotation policies, when a request touches the
    // certificate or its key or secret (a list touches all).
    const lists = operation === 'getCertificates' || operation === 'getSecrets' || operation === 'getKeys';
    for (const record of lists ? this.state.certificates.active() : [this.state.certificates.get(name)]) {
      if (record) await applyLifetimeActions(this.state, record);
    }
    if (collectionOf(operation) !== 'keys') return;
    const touched = operation === 'getKeys' ? this.state.activeKeys() : [this.state.keys.get(name)];
    for (const record of touched) if (record) await applyRotationPolicy(this.state, record);
  }

  #admit(operation: VaultOperation, request: ServiceRequest): void {
    if (!this.#throttle) return;
    const record = collectionOf(operation) === 'keys' ? this.state.keys.get(request.name) : undefined;
    const current = record && record.versions.length > 0 ? currentVersion(record) : undefined;
    const limitClass = requestLimitClass(operation, request.body, current);
    const admission = this.#throttle.admit(limitClass, CREATE_OPERATIONS.has(operation));
    if (!admission.admitted) throw throttled({ 'retry-after': String(admission.retryAfterSeconds) });
  }
}
