/**
 * Durations as the JWT options take them: a non-negative integer number of seconds, or a string
 * like `"90s"`, `"15m"`, `"2h"`, `"7d"`, `"1w"` (integer amount, one unit, optional space).
 * Months and years are refused on purpose: their length varies.
 *
 * @module
 * @internal
 */

/** A duration: whole seconds, or a string such as `"15m"`, `"2h"`, `"7d"`. */
export type Duration = number | string;

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86_400, day: 86_400, days: 86_400,
  w: 604_800, week: 604_800, weeks: 604_800,
};

const PATTERN = /^(\d{1,10}) ?([a-z]+)$/;
/** 100 years: larger durations are surely a mistake. */
const MAX_SECONDS = 100 * 365 * 86_400;

/**
 * Parses `value` into whole seconds.
 * @throws {TypeError} when `value` is neither a number nor a string.
 * @throws {RangeError} naming `name` when it is negative, fractional, too large or unparsable.
 */
export function durationSeconds(value: unknown, name: string): number {
  let seconds: number;
  if (typeof value === 'number') {
    seconds = value;
  } else if (typeof value === 'string') {
    const m = PATTERN.exec(value.trim().toLowerCase());
    const unit = m !== null && Object.hasOwn(UNIT_SECONDS, m[2]!) ? UNIT_SECONDS[m[2]!] : undefined;
    if (m === null || unit === undefined) {
      throw new RangeError(`${name} must be seconds or a duration like "90s", "15m", "2h", "7d", "1w", got ${JSON.stringify(value)}`);
    }
    seconds = Number(m[1]) * unit;
  } else {
    throw new TypeError(`${name} must be a number of seconds or a duration string, got ${value === null ? 'null' : typeof value}`);
  }
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new RangeError(`${name} must be a non-negative whole number of seconds, got ${seconds}`);
  if (seconds > MAX_SECONDS) throw new RangeError(`${name} must be at most 100 years`);
  return seconds;
}

/** {@link durationSeconds}, and more than zero. */
export function positiveDurationSeconds(value: unknown, name: string): number {
  const seconds = durationSeconds(value, name);
  if (seconds === 0) throw new RangeError(`${name} must be more than 0 seconds`);
  return seconds;
}

/** Throws unless `now` is a clock function. */
export function assertClock(now: unknown, name: string): asserts now is () => number {
  if (now !== undefined && typeof now !== 'function') throw new TypeError(`${name} must be a function returning ms since the epoch`);
}

/** ms → whole Unix seconds. */
export function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
