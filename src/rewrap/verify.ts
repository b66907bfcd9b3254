/**
 * The verification pass that ends a re-wrap job: read what is stored and count the items that
 * are still not under the targets. 0 is what lets an operator disable the old key versions.
 *
 * @module
 */
import { EnvelopeError } from '../errors.js';
import { parseComplete, parseHeader } from '../format/envelope.js';
import { normalizeKeks } from '../keys/normalize.js';
import type { KeyEncryptionKey } from '../keys/kek.js';
import { isCurrent, resolveTargets } from './internal/targets.js';
import { toAsyncIterable } from './internal/ordered-run.js';
import type { EnvelopeItem } from './internal/envelope-item.js';

/** Options of {@link verifyEnvelopes}. */
export interface VerifyEnvelopesOptions {
  /** The KEKs the items should be under (refreshed once, as in `rewrapEnvelopes`). */
  to: KeyEncryptionKey | readonly KeyEncryptionKey[];
  /** Ids of remaining items to list in `remainingIds` (default 20, at most 10,000). */
  maxIds?: number;
  signal?: AbortSignal;
}

/** What {@link verifyEnvelopes} found. */
export interface RewrapVerification {
  /** Items read. */
  readonly checked: number;
  /** Items whose wrapped keys are exactly the targets' current kekIds. */
  readonly current: number;
  /** Items that are not: still under another key version, or unreadable (`malformed`). */
  readonly remaining: number;
  /** Of `remaining`, items whose header does not parse. */
  readonly malformed: number;
  /** For the `remaining` items that parse: how many name each kekId (a version to keep enabled). */
  readonly byKekId: Readonly<Record<string, number>>;
  /** The first `maxIds` remaining items' ids. */
  readonly remainingIds: readonly string[];
}

/**
 * Reads every item of `source` (headers only: no key is unwrapped, no vault call besides the
 * targets' refresh and probe) and counts the items not under the targets. Run it over what
 * the re-wrap job stored, after the job: `remaining === 0` means no stored item needs an old
 * key version any more, so those versions can be disabled.
 *
 * @throws {TypeError | RangeError} synchronously, on invalid options or source.
 * @throws {TypeError} (rejection) when a source item is not `{ id: string, envelope: Uint8Array }`.
 * @throws {EnvelopeError} (rejection) when refreshing or probing a target fails.
 * @throws {unknown} (rejection) the source's error, or `options.signal.reason` on abort.
 * @example
 * ```ts
 * import { verifyEnvelopes } from 'kv-envelope/rewrap';
 * const v = await verifyEnvelopes(listBlobs(), { to: kek });
 * if (v.remaining === 0) console.log('old versions unused: safe to disable');
 * else console.log(`${v.remaining} items still under`, v.byKekId);
 * ```
 */
export function verifyEnvelopes(
  source: AsyncIterable<EnvelopeItem> | Iterable<EnvelopeItem>,
  options: VerifyEnvelopesOptions,
): Promise<RewrapVerification> {
  if (options === null || typeof options !== 'object' || options.to === undefined) throw new TypeError('options.to must name the key-encryption key(s) the items should be under');
  const to = normalizeKeks(options.to, 'options.to');
  const maxIds = options.maxIds ?? 20;
  if (!Number.isSafeInteger(maxIds) || maxIds < 0 || maxIds > 10_000) throw new RangeError('options.maxIds must be an integer from 0 to 10,000');
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('options.signal must be an AbortSignal');
  const items = toAsyncIterable(source);
  return run(items, to, maxIds, signal ?? new AbortController().signal);
}

async function run(items: AsyncIterable<EnvelopeItem>, to: readonly KeyEncryptionKey[], maxIds: number, signal: AbortSignal): Promise<RewrapVerification> {
  signal.throwIfAborted();
  const targets = await resolveTargets(to, to, signal);
  let checked = 0;
  let current = 0;
  let malformed = 0;
  const byKekId = new Map<string, number>();
  const remainingIds: string[] = [];
  for await (const raw of items) {
    signal.throwIfAborted();
    const item = raw as Partial<EnvelopeItem> | null;
    if (item === null || typeof item !== 'object' || typeof item.id !== 'string' || !(item.envelope instanceof Uint8Array)) {
      throw new TypeError(`source item ${checked} must be { id: string, envelope: Uint8Array }`);
    }
    checked++;
    let wrapped;
    try {
      wrapped = parseComplete(() => parseHeader(item.envelope!)).wrappedKeys;
    } catch (err) {
      if (!(err instanceof EnvelopeError)) throw err;
      malformed++;
      if (remainingIds.length < maxIds) remainingIds.push(item.id);
      continue;
    }
    if (isCurrent(wrapped, targets)) {
      current++;
      continue;
    }
    for (const kekId of new Set(wrapped.map((w) => w.kekId))) byKekId.set(kekId, (byKekId.get(kekId) ?? 0) + 1);
    if (remainingIds.length < maxIds) remainingIds.push(item.id);
  }
  return {
    checked,
    current,
    remaining: checked - current,
    malformed,
    byKekId: Object.fromEntries(byKekId),
    remainingIds,
  };
}
