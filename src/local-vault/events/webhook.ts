/**
 * Webhook subscriptions as Event Grid makes them: the subscription validation handshake first
 * (a `Microsoft.EventGrid.SubscriptionValidationEvent` POSTed with `aeg-event-type:
 * SubscriptionValidation`, answered 200 `{ "validationResponse": code }`), then the events as
 * JSON arrays with `aeg-event-type: Notification`, one batch at a time and in order, each batch
 * retried with bounded backoff until a 2xx (400 and 413 are not retried, as in Event Grid);
 * a batch that never gets through is dropped (no dead-lettering) and reported.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { postJson } from './post.js';
import type { KeyVaultEvent, KeyVaultEventType } from './schema.js';

/** Delays between the attempts of one batch, ms: 9 attempts over ~47 minutes. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1_000, 5_000, 10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000];
const NOT_RETRIED = new Set([400, 413]);

/** Options of a webhook subscription. */
export interface WebhookOptions {
  /** Deliver only these event types (default: all). */
  eventTypes?: readonly KeyVaultEventType[];
  /** Delays between attempts of one batch, ms; its length is the number of retries. Default {@link DEFAULT_RETRY_DELAYS_MS}. */
  retryDelaysMs?: readonly number[];
  /** Events per POST, 1..100 (default 10). */
  maxBatchSize?: number;
  /** How long one POST may take, ms (default 30 s, Event Grid's). */
  timeoutMs?: number;
  /** Called after every failed attempt (`willRetry` false: the batch is dropped). */
  onDeliveryError?: (error: WebhookDeliveryError) => void;
}

/** The endpoint did not complete the subscription validation handshake: it gets no events. */
export class WebhookValidationError extends Error {
  readonly url: string;
  constructor(url: string, reason: string, options?: { cause?: unknown }) {
    super(`${url} did not complete the Event Grid subscription validation handshake (${reason}); it gets no events`, options);
    this.name = 'WebhookValidationError';
    this.url = url;
  }
}

/** One failed delivery attempt of a batch. */
export class WebhookDeliveryError extends Error {
  readonly url: string;
  /** 0 for the first attempt. */
  readonly attempt: number;
  /** Whether the batch will be sent again; false: it is dropped. */
  readonly willRetry: boolean;
  /** The events in the batch. */
  readonly events: number;
  /** The HTTP status, when the endpoint answered. */
  readonly status: number | undefined;
  constructor(init: { url: string; attempt: number; willRetry: boolean; events: number; status?: number; reason: string }) {
    super(`webhook ${init.url}: attempt ${init.attempt + 1} failed (${init.reason}); ${init.willRetry ? 'will retry' : `${init.events} event(s) dropped`}`);
    this.name = 'WebhookDeliveryError';
    this.url = init.url;
    this.attempt = init.attempt;
    this.willRetry = init.willRetry;
    this.events = init.events;
    this.status = init.status;
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/**
 * Performs the handshake with `url` for events of `topic`.
 *
 * @throws {WebhookValidationError} when the endpoint is unreachable, answers anything but 200,
 *   or does not echo the validation code.
 */
export async function validateWebhook(url: URL, topic: string, now: Date, timeoutMs: number): Promise<void> {
  const validationCode = randomUUID();
  const event = {
    id: randomUUID(),
    topic,
    subject: '',
    data: { validationCode, validationUrl: null },
    eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
    eventTime: now.toISOString(),
    metadataVersion: '1',
    dataVersion: '2',
  };
  let answer: { status: number; body: string };
  try {
    answer = await postJson(url, [event], { 'aeg-event-type': 'SubscriptionValidation' }, timeoutMs);
  } catch (cause) {
    throw new WebhookValidationError(url.href, reasonOf(cause), { cause });
  }
  if (answer.status !== 200) throw new WebhookValidationError(url.href, `HTTP ${answer.status}`);
  let echoed: unknown;
  try {
    echoed = (JSON.parse(answer.body) as { validationResponse?: unknown } | null)?.validationResponse;
  } catch {
    echoed = undefined;
  }
  if (echoed !== validationCode) throw new WebhookValidationError(url.href, 'the answer did not carry the validationCode as validationResponse');
}

/** A validated webhook: queues the events it gets and delivers them in order. */
export class WebhookSubscription {
  readonly url: string;
  /** Sent as `aeg-subscription-name`. */
  readonly name: string;
  #delivered = 0;
  #dropped = 0;
  readonly #target: URL;
  readonly #types: ReadonlySet<string> | undefined;
  readonly #delays: readonly number[];
  readonly #batch: number;
  readonly #timeoutMs: number;
  readonly #onError: ((error: WebhookDeliveryError) => void) | undefined;
  readonly #queue: KeyVaultEvent[] = [];
  readonly #abort = new AbortController();
  #pump: Promise<void> | undefined;

  constructor(target: URL, name: string, options: Required<Pick<WebhookOptions, 'retryDelaysMs' | 'maxBatchSize' | 'timeoutMs'>> & WebhookOptions) {
    this.url = target.href;
    this.name = name;
    this.#target = target;
    this.#types = options.eventTypes === undefined ? undefined : new Set(options.eventTypes);
    this.#delays = options.retryDelaysMs;
    this.#batch = options.maxBatchSize;
    this.#timeoutMs = options.timeoutMs;
    this.#onError = options.onDeliveryError;
  }

  /** Events delivered (acknowledged with a 2xx). */
  get delivered(): number {
    return this.#delivered;
  }

  /** Events given up on after the last retry (or a 400/413). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Events waiting for delivery. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Queues `events` (those of the subscribed types) behind the ones waiting. */
  enqueue(events: readonly KeyVaultEvent[]): void {
    if (this.#abort.signal.aborted) return;
    const wanted = this.#types === undefined ? events : events.filter((e) => this.#types!.has(e.eventType));
    if (wanted.length === 0) return;
    this.#queue.push(...wanted);
    this.#pump ??= this.#drain().finally(() => {
      this.#pump = undefined;
    });
  }

  /** Resolves when nothing is queued or in flight. */
  async idle(): Promise<void> {
    while (this.#pump !== undefined) await this.#pump;
  }

  /** Stops delivering; queued events are dropped. */
  close(): void {
    this.#abort.abort();
    this.#queue.length = 0;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#abort.signal.aborted) {
      const batch = this.#queue.slice(0, this.#batch);
      const delivered = await this.#deliver(batch);
      if (this.#abort.signal.aborted) return;
      this.#queue.splice(0, batch.length);
      if (delivered) this.#delivered += batch.length;
      else this.#dropped += batch.length;
    }
  }

  async #deliver(batch: KeyVaultEvent[]): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      let status: number | undefined;
      let reason: string;
      try {
        const headers = { 'aeg-event-type': 'Notification', 'aeg-subscription-name': this.name, 'aeg-delivery-count': String(attempt), 'aeg-data-version': '1', 'aeg-metadata-version': '1' };
        const answer = await postJson(this.#target, batch, headers, this.#timeoutMs, this.#abort.signal);
        if (answer.status >= 200 && answer.status < 300) return true;
        status = answer.status;
        reason = `HTTP ${answer.status}`;
      } catch (error) {
        if (this.#abort.signal.aborted) return false;
        reason = reasonOf(error);
      }
      const willRetry = attempt < this.#delays.length && !(status !== undefined && NOT_RETRIED.has(status));
      const report = new WebhookDeliveryError({ url: this.url, attempt, willRetry, events: batch.length, reason, ...(status === undefined ? {} : { status }) });
      try {
        this.#onError?.(report);
      } catch {
        // a failing error callback must not stop delivery
      }
      if (!willRetry) return false;
      await sleep(this.#delays[attempt]!, this.#abort.signal);
      if (this.#abort.signal.aborted) return false;
    }
  }
}
