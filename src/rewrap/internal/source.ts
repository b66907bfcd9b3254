/**
 * Source adapters.
 *
 * @module
 * @internal
 */

/**
 * An async view of `source` (arrays and other sync iterables are accepted too).
 * @throws {TypeError} when `source` is neither.
 */
export function toAsyncIterable<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterable<T> {
  if (source !== null && typeof source === 'object') {
    if (typeof (source as AsyncIterable<T>)[Symbol.asyncIterator] === 'function') return source as AsyncIterable<T>;
    if (typeof (source as Iterable<T>)[Symbol.iterator] === 'function') {
      const sync = source as Iterable<T>;
      return {
        [Symbol.asyncIterator]: () => {
          const it = sync[Symbol.iterator]();
          return {
            next: async () => it.next(),
            return: async () => it.return?.() ?? { done: true, value: undefined },
          };
        },
      };
    }
  }
  throw new TypeError('source must be an async iterable (or an iterable) of { id, envelope }');
}
