/**
 * An Event Grid webhook endpoint for Node apps: answers the subscription validation handshake
 * and feeds Key Vault events to a {@link SecretResolver}, so that a rotated secret is re-read at
 * once instead of at the next `refreshInterval`.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeyVaultEvent } from './resolver.js';

const VALIDATION_EVENT = 'Microsoft.EventGrid.SubscriptionValidationEvent';

/** Options of {@link createEventGridHandler}. */
export interface EventGridHandlerOptions {
  /** Larger request bodies are refused with 413 (default 1 MiB, Event Grid's batch limit). */
  maxBodyBytes?: number;
}

/** What the handler feeds: a {@link SecretResolver}, or anything with its `handleEvent`. */
export interface KeyVaultEventSink {
  handleEvent(event: readonly KeyVaultEvent[]): void;
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...headers, ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}), 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * A `node:http` request listener (also usable as an Express/Connect route) for an Event Grid
 * webhook subscription to a vault's events, in the Event Grid event schema:
 * - the validation handshake (`Microsoft.EventGrid.SubscriptionValidationEvent`) is answered
 *   200 `{ "validationResponse": <validationCode> }`;
 * - any other POSTed event array goes to `resolver.handleEvent` and is answered 200;
 * - a body that is not a JSON event or array is 400, one over `maxBodyBytes` 413, a method
 *   other than POST 405.
 * Anyone who can reach the endpoint can post events: at worst they make the resolver re-read a
 * secret it serves (one vault call, shared by concurrent requests) or re-emit an expiry event.
 *
 * @throws {TypeError} when `resolver` has no `handleEvent`.
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { SecretResolver, createEventGridHandler } from 'kv-envelope/secrets';
 * const resolver = new SecretResolver({ credential });
 * createServer(createEventGridHandler(resolver)).listen(8080); // the Event Grid subscription's endpoint
 * ```
 */
export function createEventGridHandler(resolver: KeyVaultEventSink, options: EventGridHandlerOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  if (resolver === null || typeof resolver?.handleEvent !== 'function') throw new TypeError('resolver must have a handleEvent method (a SecretResolver)');
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`options.maxBodyBytes must be a positive integer, got ${limit}`);
  return (req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500);
      else res.destroy();
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return send(res, 405, { error: 'POST Event Grid events here' }, { allow: 'POST' });
    // why: a framework's JSON body parser may have read the stream already.
    const preParsed = (req as IncomingMessage & { body?: unknown }).body;
    let parsed: unknown = preParsed;
    if (preParsed === undefined || typeof preParsed === 'string' || Buffer.isBuffer(preParsed)) {
      const text = preParsed === undefined ? await readBody(req, limit) : String(preParsed);
      if (text === undefined) return send(res, 413, { error: `the body is over ${limit} bytes` });
      try {
        parsed = JSON.parse(text);
      } catch {
        return send(res, 400, { error: 'the body is not JSON' });
      }
    }
    const events = (Array.isArray(parsed) ? parsed : [parsed]) as unknown[];
    if (events.length === 0 || !events.every((e) => e !== null && typeof e === 'object' && typeof (e as KeyVaultEvent).eventType === 'string')) {
      return send(res, 400, { error: 'the body is not an Event Grid event or array of events' });
    }
    const validation = (events as KeyVaultEvent[]).find((e) => e.eventType === VALIDATION_EVENT);
    if (validation !== undefined) {
      const code = (validation.data as { validationCode?: unknown } | undefined)?.validationCode;
      if (typeof code !== 'string') return send(res, 400, { error: 'the validation event has no validationCode' });
      return send(res, 200, { validationResponse: code });
    }
    resolver.handleEvent(events as KeyVaultEvent[]);
    return send(res, 200);
  }
}
