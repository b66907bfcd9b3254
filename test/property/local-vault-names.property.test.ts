/**
 * Property: the local vault treats object names case-insensitively for every object type, as the
 * service does. The adversary writes a name in one letter case and reads, overwrites or deletes
 * it in any other; the vault must always find the one object, under the spelling it was created
 * with, and never create a second.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { rawRequest } from '../helpers/local-vault.js';

const API = 'api-version=7.5';
const name = fc.stringMatching(/^[0-9a-zA-Z-]{1,24}$/);
const flips = fc.array(fc.boolean(), { minLength: 24, maxLength: 24 });

function respell(text: string, flip: boolean[]): string {
  return [...text].map((c, i) => (flip[i] ? (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) : c)).join('');
}

describe('local vault names are case-insensitive (property, in-process)', () => {
  let vault: LocalKeyVault;
  beforeAll(async () => {
    // Names, not the delete window: a raw delete is purged at once, so operations complete immediately.
    vault = await LocalKeyVault.start({ operationDelayMs: 0 });
  });
  afterAll(() => vault.close());

  it('a secret set under one spelling is read, versioned and deleted under any other, keeping the first spelling', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(name, flips, flips, async (base, f1, f2) => {
        const created = `p${n++}-${base}`.slice(0, 127);
        const other = respell(created, f1);
        const third = respell(created, f2);
        expect((await rawRequest(vault, 'PUT', `/secrets/${created}?${API}`, { body: { value: 'a' } })).status).toBe(200);
        expect((await rawRequest(vault, 'PUT', `/secrets/${other}?${API}`, { body: { value: 'b' } })).status).toBe(200);
        const got = await rawRequest(vault, 'GET', `/secrets/${third}?${API}`);
        expect(got.json.value).toBe('b');
        expect(got.json.id.split('/')[4]).toBe(created);
        const versions = await rawRequest(vault, 'GET', `/secrets/${third}/versions?${API}`);
        expect(versions.json.value).toHaveLength(2);
        const deleted = await rawRequest(vault, 'DELETE', `/secrets/${other}?${API}`);
        expect(deleted.json.recoveryId.endsWith(`/deletedsecrets/${created}`)).toBe(true);
        expect((await rawRequest(vault, 'DELETE', `/deletedsecrets/${third}?${API}`)).status).toBe(204);
      }),
      { numRuns: 40 },
    );
  });
});
