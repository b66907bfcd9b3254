/**
 * Properties of the `run --env-file` parser:
 * - round trip: any variables written by formatDotenv (any text values: quotes, backslashes,
 *   newlines, `#`, non-ASCII) read back identical, in order;
 * - total: any text either parses or fails with a UsageError, never another error type;
 * - an error never repeats a value: for a file whose variables hold marked values and one broken
 *   line, the message holds no marker.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDotenv, parseDotenv } from '../../src/cli/dotenv.js';
import { UsageError } from '../../src/cli/errors.js';

const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,20}$/);
// Values without a lone CR (a dotenv file's line endings are normalized, as dotenv does).
const value = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/\r/g, ''));
const vars = fc.uniqueArray(fc.tuple(name, value), { selector: ([k]) => k, maxLength: 8 });

describe('dotenv parser properties', () => {
  it('formatDotenv → parseDotenv is the identity', () => {
    fc.assert(
      fc.property(vars, (entries) => {
        const map = new Map(entries);
        expect([...parseDotenv(formatDotenv(map), '.env')]).toEqual([...map]);
      }),
      { numRuns: 500 },
    );
  });

  it('is total: any text parses or fails with a UsageError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        try {
          parseDotenv(text, '.env');
        } catch (err) {
          expect(err).toBeInstanceOf(UsageError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('an error never quotes a value', () => {
    const broken = fc.constantFrom('oops no equals', '"unterminated=1', 'K="a"b', "K='open", 'K=`open', '9BAD=1');
    fc.assert(
      fc.property(vars, broken, fc.nat(), (entries, bad, at) => {
        const marked = entries.map(([k, v], i) => [k, `MARK${i}X${v}`] as [string, string]);
        const lines = formatDotenv(new Map(marked)).split('\n').filter((l) => l !== '');
        lines.splice(at % (lines.length + 1), 0, bad);
        let message = '';
        try {
          parseDotenv(lines.join('\n'), '.env');
        } catch (err) {
          message = (err as Error).message;
        }
        expect(message).toMatch(/^\.env:\d+: /);
        expect(message).not.toMatch(/MARK\d+X/);
      }),
      { numRuns: 500 },
    );
  });
});
