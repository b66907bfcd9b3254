/**
 * Properties of the local vault's authorisation and authentication parsing.
 *
 * - Role matching: an action excluded by a block's notDataActions is never granted by that
 *   block, whatever its dataActions; `*` matches every action; matching ignores case; a role
 *   grants exactly the union of its blocks (adversary: a definition that lists an action in
 *   both lists, or hides it behind a wildcard).
 * - Bearer parsing is total: any Authorization header value gives an answer, never an
 *   exception (adversary: a header crafted to crash the vault into a 500), and any-bearer
 *   accepts exactly RFC 6750 b64tokens up to 8 KiB.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { authenticate, type BearerPolicy } from '../../src/local-vault/auth/bearer.js';
import { CompiledRole } from '../../src/local-vault/auth/roles.js';

const segment = fc.stringMatching(/^[A-Za-z]{1,8}$/);
const action = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `Microsoft.KeyVault/vaults/${parts.join('/')}`);

describe('role definitions', () => {
  it('notDataActions always win within their block; another block can grant the action', () => {
    fc.assert(
      fc.property(action, fc.array(action, { maxLength: 4 }), (target, others) => {
        const excluding = new CompiledRole({ roleName: 'r', permissions: [{ dataActions: [target, ...others, 'Microsoft.KeyVault/*'], notDataActions: [target] }] });
        expect(excluding.grants(target)).toBe(false);
        const twoBlocks = new CompiledRole({
          roleName: 'r2',
          permissions: [{ dataActions: ['*'], notDataActions: [target] }, { dataActions: [target.toUpperCase()] }],
        });
        expect(twoBlocks.grants(target)).toBe(true);
      }),
    );
  });

  it('a wildcard grants every action, case-insensitively, and an exact action only itself', () => {
    fc.assert(
      fc.property(action, action, (a, b) => {
        expect(new CompiledRole({ roleName: 'w', permissions: [{ dataActions: ['microsoft.keyvault/vaults/*'] }] }).grants(a)).toBe(true);
        const exact = new CompiledRole({ roleName: 'e', permissions: [{ dataActions: [a] }] });
        expect(exact.grants(a.toLowerCase())).toBe(true);
        expect(exact.grants(b)).toBe(a.toLowerCase() === b.toLowerCase());
      }),
    );
  });
});

describe('bearer parsing', () => {
  const anyBearer: BearerPolicy = { mode: 'any-bearer', tokenKey: Buffer.alloc(32, 1), tenantId: 't', resource: 'https://vault.azure.net' };
  const strict: BearerPolicy = { ...anyBearer, mode: 'strict' };
  const b64token = /^[A-Za-z0-9\-._~+/]+=*$/;

  it('is total on any header value, in both modes', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }), (scheme, token) => {
        for (const header of [`${scheme} ${token}`, `Bearer ${token}`, token]) {
          const strictResult = authenticate(header, strict);
          expect(strictResult.ok).toBe(false);
          const any = authenticate(header, anyBearer);
          expect(typeof any.ok).toBe('boolean');
        }
      }),
    );
  });

  it('any-bearer accepts exactly the RFC 6750 b64tokens and names the JWT oid, else sub', () => {
    fc.assert(
      // Whitespace ends the token in the header grammar: tokens here have none.
      fc.property(fc.string({ minLength: 1, maxLength: 200 }).filter((t) => !/\s/.test(t)), fc.option(fc.string({ minLength: 1, maxLength: 20 })), (token, oid) => {
        const result = authenticate(`Bearer ${token}`, anyBearer);
        expect(result.ok).toBe(b64token.test(token));
        const claims = oid === null ? { sub: 'the-sub' } : { oid, sub: 'the-sub' };
        const jwt = `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
        expect(authenticate(`Bearer ${jwt}`, anyBearer)).toEqual({ ok: true, principal: oid ?? 'the-sub' });
      }),
    );
  });
});
