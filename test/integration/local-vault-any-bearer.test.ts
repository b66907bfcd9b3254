/**
 * The any-bearer auth mode, through the real KeyClient with credentials that are not the
 * vault's (as another SDK's or tool's credential would be): a hand-made unsigned JWT naming an
 * oid, and an opaque token. Every data action is allowed until a role is assigned; then RBAC
 * applies to the principal the token names. The strict default refuses the same tokens.
 *
 * Adversaries: a malformed Authorization header (must stay 401, not become a principal); a
 * token whose principal has a read-only role trying to create; a hand-made token claiming the
 * administrator's oid at the admin endpoint (which only takes the vault's own tokens).
 */
import type { TokenCredential } from '@azure/core-auth';
import { KeyClient } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { expectRestError, rawRequest, TRANSPORTS } from '../helpers/local-vault.js';

/** An unsigned JWT (alg none), shaped like an Entra ID access token. */
function handMadeJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ aud: 'https://vault.azure.net', iat: now, exp: now + 3600, ...claims })}.`;
}

function staticCredential(token: string): TokenCredential {
  return { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
}

describe.each(TRANSPORTS)('any-bearer auth mode (%s)', (transport) => {
  let vault: LocalKeyVault;
  let strict: LocalKeyVault;
  const app = staticCredential(handMadeJwt({ oid: 'app-1', sub: 'ignored' }));
  const bySub = staticCredential(handMadeJwt({ sub: 'app-2' }));
  const opaque = staticCredential('opaque.token-from_another~SDK+/==');

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport, auth: 'any-bearer' });
    strict = await LocalKeyVault.start({ transport });
  });
  afterAll(async () => {
    await vault.close();
    await strict.close();
  });

  it('accepts JWT-shaped and opaque tokens it did not sign; all data actions allowed while no role is assigned', async () => {
    for (const [i, credential] of [app, bySub, opaque].entries()) {
      const client = new KeyClient(vault.url, credential, vault.clientOptions);
      const key = await client.createEcKey(`k${i}`);
      expect((await client.getKey(`k${i}`)).id).toBe(key.id);
    }
    await expectRestError(new KeyClient(strict.url, app, strict.clientOptions).createEcKey('k'), 401, 'Unauthorized');
  });

  it('refuses a malformed bearer token with 401', async () => {
    for (const token of ['not"a,token', 'x'.repeat(9000)]) {
      const response = await rawRequest(vault, 'GET', '/keys?api-version=2025-07-01', { token });
      expect(response.status).toBe(401);
      expect(response.json.error.code).toBe('Unauthorized');
    }
  });

  it('once a role is assigned, RBAC applies to the oid (else sub) the token names', async () => {
    vault.assignRole('app-1', 'Key Vault Reader');
    vault.assignRole('app-2', 'Key Vault Crypto Officer');
    const reader = new KeyClient(vault.url, app, vault.clientOptions);
    expect((await reader.getKey('k0')).name).toBe('k0');
    const error = await expectRestError(reader.createEcKey('nope'), 403, 'Forbidden');
    expect(error.message).toContain('Caller: oid=app-1');
    expect((await new KeyClient(vault.url, bySub, vault.clientOptions).createEcKey('yes')).name).toBe('yes');
    // An opaque token names no one: the anonymous principal has no role.
    await expectRestError(new KeyClient(vault.url, opaque, vault.clientOptions).getKey('k0'), 403, 'Forbidden');
  });

  it('the admin endpoint still takes only the vault’s own administrator token', async () => {
    const claimed = handMadeJwt({ oid: 'local-vault-admin' });
    const refused = await rawRequest(vault, 'POST', '/admin/clock', { token: claimed, body: { advance: 'P1D' } });
    expect(refused.status).toBe(401);
    const accepted = await rawRequest(vault, 'POST', '/admin/clock', { body: { advance: 'P1D' } });
    expect(accepted.status).toBe(200);
  });

  it('validates the option', async () => {
    await expect(LocalKeyVault.start({ auth: 'anything' as never })).rejects.toThrow(TypeError);
  });
});
