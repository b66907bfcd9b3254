/**
 * `vault.events`: the vault's events for in-process listeners and webhooks. After every
 * operation and every scan the events the state's log gained since the last delivery (published
 * by this process or, through the state file, by another) are rendered with this vault's address
 * and handed to every subscriber, in order. A timer (unref'd) runs the service's periodic work,
 * which publishes expiry events as the vault's clock passes them.
 *
 * @module
 */
import type { VaultService } from '../service/vault-service.js';
import { renderEvent, topicOf, type EventSource, type KeyVaultEvent, type KeyVaultEventType } from './schema.js';
import { DEFAULT_RETRY_DELAYS_MS, validateWebhook, WebhookSubscription, type WebhookOptions } from './webhook.js';

/** An in-process listener. A throw or a rejected promise is reported to `onError`, never to the vault. */
export type KeyVaultEventListener = (event: KeyVaultEvent) => void | Promise<void>;

/** Options of {@link VaultEvents.subscribe}. */
export interface SubscribeOptions {
  /** Deliver only these event types (default: all). */
  eventTypes?: readonly KeyVaultEventType[];
  /** Gets what the listener threw (default: one process warning per subscription). */
  onError?: (error: unknown, event: KeyVaultEvent) => void;
}

interface Subscriber {
  deliver(events: readonly KeyVaultEvent[]): void;
}

function listenerSubscriber(listener: KeyVaultEventListener, options: SubscribeOptions): Subscriber {
  const types = options.eventTypes === undefined ? undefined : new Set<string>(options.eventTypes);
  let warned = false;
  const report = (error: unknown, event: KeyVaultEvent): void => {
    if (options.onError) {
      try {
        options.onError(error, event);
      } catch {
        // the error handler itself failed: nothing left to tell
      }
    } else if (!warned) {
      warned = true;
      process.emitWarning(`a local vault event listener failed on ${event.eventType} (later failures of this listener are not reported): ${error instanceof Error ? error.message : String(error)}`, 'LocalVaultEventListenerWarning');
    }
  };
  return {
    deliver(events) {
      for (const event of events) {
        if (types !== undefined && !types.has(event.eventType)) continue;
        try {
          const result = listener(event);
          if (result && typeof (result as Promise<void>).then === 'function') (result as Promise<void>).then(undefined, (error: unknown) => report(error, event));
        } catch (error) {
          report(error, event);
        }
      }
    },
  };
}

/**
 * The vault's events (`vault.events`): subscribe in-process, add webhooks, or run the due-event
 * scan now. See docs/events.md.
 *
 * @example
 * ```ts
 * const vault = await LocalKeyVault.start({ clock: () => now });
 * const stop = vault.events.subscribe((e) => console.log(e.eventType, e.subject), { eventTypes: ['Microsoft.KeyVault.SecretNearExpiry'] });
 * now += 60 * 86_400_000;
 * await vault.events.processDue(); // SecretNearExpiry for every secret expiring within 30 days
 * stop();
 * ```
 */
export class VaultEvents {
  readonly #service: VaultService;
  readonly #source: EventSource;
  readonly #subscribers = new Set<Subscriber>();
  readonly #webhooks = new Set<WebhookSubscription>();
  readonly #clock: () => number;
  #cursor: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #scanning = false;
  #closed = false;

  /** @internal */
  constructor(service: VaultService, source: EventSource, clock: () => number, scanIntervalMs: number) {
    this.#service = service;
    this.#source = source;
    this.#clock = clock;
    this.#cursor = service.state.events.head; // what was published before this vault opened is not delivered
    service.onSettled(() => this.#dispatch());
    if (scanIntervalMs > 0) {
      this.#timer = setInterval(() => this.#tick(), scanIntervalMs);
      this.#timer.unref();
    }
  }

  /** The Event Grid topic of this vault's events. */
  get topic(): string {
    return topicOf(this.#source);
  }

  /** `data.VaultName` of this vault's events. */
  get vaultName(): string {
    return this.#source.vaultName;
  }

  /**
   * Calls `listener` with every event published from now on (of `eventTypes`), in order.
   * Returns a function that unsubscribes.
   *
   * @throws {TypeError} when `listener` is not a function.
   */
  subscribe(listener: KeyVaultEventListener, options: SubscribeOptions = {}): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    const subscriber = listenerSubscriber(listener, options);
    this.#subscribers.add(subscriber);
    return () => {
      this.#subscribers.delete(subscriber);
    };
  }

  /**
   * Subscribes a webhook: performs Event Grid's validation handshake, then delivers every event
   * published from now on as JSON arrays (`aeg-event-type: Notification`), in order, retrying
   * with backoff (see {@link WebhookOptions}).
   *
   * @throws {TypeError} for a URL that is not http(s) or invalid options.
   * @throws {WebhookValidationError} when the endpoint fails the handshake (it is not subscribed).
   */
  async addWebhook(url: string | URL, options: WebhookOptions = {}): Promise<WebhookSubscription> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new TypeError(`webhook URL must be an absolute http(s) URL, got ${String(url)}`);
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new TypeError(`webhook URL must be http(s), got ${target.protocol}`);
    const retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    if (!Array.isArray(retryDelaysMs) || retryDelaysMs.some((d) => !Number.isFinite(d) || d < 0)) throw new TypeError('options.retryDelaysMs must be an array of delays (ms) ≥ 0');
    const maxBatchSize = options.maxBatchSize ?? 10;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1 || maxBatchSize > 100) throw new RangeError(`options.maxBatchSize must be an integer in 1..100, got ${maxBatchSize}`);
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new RangeError(`options.timeoutMs must be a positive integer, got ${timeoutMs}`);
    if (this.#closed) throw new Error('the vault is closed');
    await validateWebhook(target, this.topic, new Date(this.#clock()), timeoutMs);
    const webhook = new WebhookSubscription(target, `webhook-${this.#webhooks.size + 1}`, { ...options, retryDelaysMs, maxBatchSize, timeoutMs });
    this.#webhooks.add(webhook);
    this.#subscribers.add({ deliver: (events) => webhook.enqueue(events) });
    return webhook;
  }

  /**
   * Runs the service's periodic work now (automatic purge, due rotations, due expiry events)
   * and delivers what it published. Call it after moving the vault's clock to see the events
   * at once rather than at the next tick of the timer.
   *
   * @throws {Error} when the state file cannot be read or written.
   */
  async processDue(): Promise<void> {
    await this.#service.processDueEvents();
  }

  /** Stops the timer and every webhook (queued deliveries are dropped). @internal */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (const webhook of this.#webhooks) webhook.close();
    this.#subscribers.clear();
  }

  #tick(): void {
    if (this.#scanning || this.#closed) return;
    this.#scanning = true;
    // A failure here (an unreadable state file) is reported by the next request that needs it.
    this.#service.processDueEvents().then(
      () => {
        this.#scanning = false;
      },
      () => {
        this.#scanning = false;
      },
    );
  }

  #dispatch(): void {
    const log = this.#service.state.events;
    if (log.head === this.#cursor) return;
    if (log.head < this.#cursor) {
      this.#cursor = log.head; // the state file was replaced by an older one
      return;
    }
    const fresh = log.since(this.#cursor);
    this.#cursor = log.head;
    if (this.#subscribers.size === 0 || fresh.length === 0) return;
    const events = fresh.map((stored) => {
      const event = renderEvent(stored, this.#source);
      Object.freeze(event.data);
      return Object.freeze(event); // one object for every subscriber: none can change another's
    });
    for (const subscriber of this.#subscribers) subscriber.deliver(events);
  }
}
