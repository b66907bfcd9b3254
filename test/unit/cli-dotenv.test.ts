/**
 * The dotenv parser of `kv-envelope run --env-file`. Adversaries: the usual dotenv spellings
 * (quotes, comments, `export `, CRLF, multi-line values) read wrongly; a `#` inside a password
 * taken for a comment; a malformed line silently skipped (the program would start without its
 * secret) or quoted in the error (it may be a secret pasted in the wrong place).
 */
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseDotenv } from '../../src/cli/dotenv.js';
import { UsageError } from '../../src/cli/errors.js';

const parse = (text: string) => Object.fromEntries(parseDotenv(text, '.env'));

function failure(text: string): UsageError {
  try {
    parseDotenv(text, 'app.env');
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('parsed');
}

describe('parseDotenv', () => {
  it('reads comments, export, the three quotes, escapes, blanks around = and later-wins', () => {
    const text = [
      '# a comment',
      '',
      'export DB="@Microsoft.KeyVault(VaultName=local;SecretName=db)"',
      "SINGLE='literal \\n $HOME'",
      'BACK=`has "double" and \'single\'`',
      'DOUBLE="line1\\nline2\\t\\"q\\" \\\\ \\x"',
      '  SPACED  =  value with spaces   # trailing comment',
      'HASH=p#ss',
      'EMPTY=',
      'EMPTY_COMMENT= # only a comment',
      'EQ=a=b=c',
      'DUP=first',
      'DUP=second',
      'dotted.name-x=1',
    ].join('\n');
    expect(parse(text)).toEqual({
      DB: '@Microsoft.KeyVault(VaultName=local;SecretName=db)',
      SINGLE: 'literal \\n $HOME',
      BACK: 'has "double" and \'single\'',
      DOUBLE: 'line1\nline2\t"q" \\ \\x',
      SPACED: 'value with spaces',
      HASH: 'p#ss',
      EMPTY: '',
      EMPTY_COMMENT: '',
      EQ: 'a=b=c',
      DUP: 'second',
      'dotted.name-x': '1',
    });
  });

  it('reads multi-line quoted values and CRLF files, counting lines for later errors', () => {
    expect(parse('KEY="-----BEGIN-----\nabc\n-----END-----"\r\nNEXT=1\r\n')).toEqual({ KEY: '-----BEGIN-----\nabc\n-----END-----', NEXT: '1' });
    expect(parse("A='x\ny' # c\nB=2")).toEqual({ A: 'x\ny', B: '2' });
    expect(failure('A="x\ny"\nB="open').message).toBe('app.env:3: B: the double quote is not closed');
  });

  it('agrees with node:util parseEnv on the common spellings', () => {
    const text = 'A=1\nexport B=two\nC="quoted # not a comment"\nD=\'single $x\'\nE=unquoted # comment\nF="multi\nline"\n  H = spaced  \nI=\nK=a=b\n';
    expect(parse(text)).toEqual({ ...parseEnv(text) });
  });

  it('refuses a line that is not NAME=VALUE, naming the file and line but not the text', () => {
    const e = failure('OK=1\n\nhunter2-pasted-secret\n');
    expect(e.message).toBe('app.env:3: expected NAME=VALUE (the line is not shown: it may hold a secret)');
    expect(e.message).not.toContain('hunter2');
  });

  it('refuses an invalid name without quoting it', () => {
    const e = failure('s3cr3t value=1');
    expect(e.message).toMatch(/^app\.env:1: invalid variable name/);
    expect(e.message).not.toContain('s3cr3t');
    expect(failure('1ABC=x').message).toMatch(/invalid variable name/);
  });

  it('refuses text after a closing quote, and an unclosed quote, naming the variable but never the value', () => {
    const e = failure('TOKEN="abc"def');
    expect(e.message).toBe('app.env:1: TOKEN: only a # comment may follow the closing quote');
    const u = failure("TOKEN='sup3r-secret-value\n");
    expect(u.message).toBe('app.env:1: TOKEN: the single quote is not closed');
    expect(u.message).not.toContain('sup3r');
  });

  it('keeps a byte order mark out of the first name', () => {
    expect(parse('\uFEFFA=1')).toEqual({ A: '1' });
  });
});
