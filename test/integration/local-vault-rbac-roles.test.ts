/**
 * RBAC beyond the built-in matrix, through the real KeyClient / CryptographyClient /
 * SecretClient: custom role definitions in Azure's JSON shape with notDataActions, the
 * certificate roles' key and secret data actions, the propagation delay of new assignments,
 * the service's ForbiddenByRbac text, and a token whose payload is not an object.
 *
 * Adversaries: a principal whose custom role excludes an action (notDataActions) and tries it
 * anyway; one that calls right after being assigned, before the assignment propagated; a
 * token signed with the vault's own key whose payload is `null` (was a 500).
 */
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken, type TokenClaims } from '../../src/local-vault/auth/tokens.js';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { vaultSecrets } from '../../src/local-vault/secrets.js';
import { expectRestError, ManualClock, rawRequest, TRANSPORTS } from '../helpers/local-vault.js';

const WRAPPER = {
  roleName: 'Wrap Only',
  permissions: [
    {
      dataActions: ['Microsoft.KeyVault/vaults/keys/*'],
      notDataActions: ['Microsoft.KeyVault/vaults/keys/unwrap/action', 'Microsoft.KeyVault/vaults/keys/delete'],
    },
  ],
};
// `az role definition list` prints definitions under `properties`.
const UNWRAPPER = { properties: { roleName: 'Unwrap Only', permissions: [{ dataActions: ['Microsoft.KeyVault/vaults/keys/unwrap/action'] }] } };

function innerCode(error: { details?: unknown }): string | undefined {
  return (error.details as { error?: { innerError?: { code?: string } } }).error?.innerError?.code;
}

describe.each(TRANSPORTS)('local vault custom roles and propagation (%s)', (transport) => {
  let vault: LocalKeyVault;
  let admin: KeyClient;
  let kekId: string;
  const clock = new ManualClock();

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport, roleDefinitions: [WRAPPER, UNWRAPPER], roleAssignmentDelayMs: 5 * 60_000, clock: clock.now });
    admin = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    kekId = (await admin.createRsaKey('kek')).id ?? '';
  });
  afterAll(() => vault.close());

  it('a custom role grants its dataActions minus its notDataActions; another role may grant the excluded action', async () => {
    vault.assignRole('wrapper', 'Wrap Only');
    clock.ms += 5 * 60_000;
    const crypto = new CryptographyClient(kekId, vault.credential('wrapper'), vault.clientOptions);
    const wrapped = await crypto.wrapKey('RSA-OAEP-256', randomBytes(32));
    const error = await expectRestError(crypto.unwrapKey('RSA-OAEP-256', wrapped.result), 403, 'Forbidden');
    expect(innerCode(error)).toBe('ForbiddenByRbac');
    expect(error.message).toContain("Action: 'Microsoft.KeyVault/vaults/keys/unwrap/action'");
    await expectRestError(new KeyClient(vault.url, vault.credential('wrapper'), vault.clientOptions).beginDeleteKey('kek'), 403, 'Forbidden');
    // notDataActions exclude, they do not deny: a second role grants unwrap.
    vault.assignRole('wrapper', 'unwrap only');
    clock.ms += 5 * 60_000;
    expect((await crypto.unwrapKey('RSA-OAEP-256', wrapped.result)).result).toHaveLength(32);
  });

  it('a new assignment does not apply until the propagation delay has passed', async () => {
    vault.assignRole('late', 'Key Vault Crypto User');
    const client = new KeyClient(vault.url, vault.credential('late'), vault.clientOptions);
    const error = await expectRestError(client.getKey('kek'), 403, 'Forbidden');
    expect(error.message).toContain('please observe propagation time');
    clock.ms += 4 * 60_000;
    await expectRestError(client.getKey('kek'), 403, 'Forbidden');
    clock.ms += 60_000;
    expect((await client.getKey('kek')).name).toBe('kek');
  });

  it('the 403 reads like the service: caller, action, resource, decision reason', async () => {
    const error = await expectRestError(new KeyClient(vault.url, vault.credential('nobody'), vault.clientOptions).getKey('kek'), 403, 'Forbidden');
    const lines = error.message.split('\r\n');
    expect(lines[0]).toBe('Caller is not authorized to perform action on resource.');
    expect(lines).toContain('Caller: oid=nobody');
    expect(lines).toContain("Action: 'Microsoft.KeyVault/vaults/keys/read'");
    expect(lines.find((l) => l.startsWith('Resource: '))).toMatch(/^Resource: '\/subscriptions\/.*\/providers\/microsoft\.keyvault\/vaults\/.*\/keys\/kek'$/);
    expect(lines).toContain("DecisionReason: 'DeniedWithNoValidRBAC' ");
  });

  it('refuses an assignment of a role the vault does not define, and invalid definitions at start', async () => {
    expect(() => vault.assignRole('x', 'Key Vault Superuser')).toThrow(TypeError);
    await expect(LocalKeyVault.start({ roleDefinitions: [{ roleName: 'Key Vault Reader', permissions: [] }] })).rejects.toThrow(TypeError);
    await expect(LocalKeyVault.start({ roleDefinitions: [{ roleName: 'r', permissions: [{ dataActions: [1] }] }] })).rejects.toThrow(TypeError);
    await expect(LocalKeyVault.start({ roleDefinitions: [{ permissions: [] }] })).rejects.toThrow(TypeError);
    await expect(LocalKeyVault.start({ roleAssignmentDelayMs: -1 })).rejects.toThrow(RangeError);
  });
});

describe('local vault built-in certificate roles (in-process)', () => {
  it('Certificate User reads keys and secret values; Certificates Officer reaches neither', async () => {
    const vault = await LocalKeyVault.start();
    try {
      await new KeyClient(vault.url, vault.credential(), vault.clientOptions).createEcKey('cert-key');
      await new SecretClient(vault.url, vault.credential(), vault.clientOptions).setSecret('cert-secret', 'pem');
      vault.assignRole('cert-user', 'Key Vault Certificate User');
      vault.assignRole('cert-officer', 'Key Vault Certificates Officer');
      const as = (p: string) => ({ keys: new KeyClient(vault.url, vault.credential(p), vault.clientOptions), secrets: new SecretClient(vault.url, vault.credential(p), vault.clientOptions) });
      expect((await as('cert-user').keys.getKey('cert-key')).name).toBe('cert-key');
      expect((await as('cert-user').secrets.getSecret('cert-secret')).value).toBe('pem');
      await expectRestError(as('cert-user').secrets.setSecret('cert-secret', 'x'), 403, 'Forbidden');
      await expectRestError(as('cert-officer').keys.getKey('cert-key'), 403, 'Forbidden');
      await expectRestError(as('cert-officer').secrets.getSecret('cert-secret'), 403, 'Forbidden');
    } finally {
      await vault.close();
    }
  });
});

describe('custom-role assignments survive a restart on the state file', () => {
  it('are persisted with their start time and apply again when the role is defined', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kv-rbac-'));
    const stateFile = join(dir, 'vault.json');
    try {
      const first = await LocalKeyVault.start({ stateFile, roleDefinitions: [WRAPPER] });
      await new KeyClient(first.url, first.credential(), first.clientOptions).createEcKey('k');
      first.assignRole('wrapper', 'Wrap Only');
      await first.close();
      const second = await LocalKeyVault.start({ stateFile, roleDefinitions: [WRAPPER] });
      try {
        expect((await new KeyClient(second.url, second.credential('wrapper'), second.clientOptions).getKey('k')).name).toBe('k');
      } finally {
        await second.close();
      }
      // Started without the definition, the assignment grants nothing (and is kept).
      const third = await LocalKeyVault.start({ stateFile });
      try {
        await expectRestError(new KeyClient(third.url, third.credential('wrapper'), third.clientOptions).getKey('k'), 403, 'Forbidden');
      } finally {
        await third.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.each(TRANSPORTS)('a bearer token whose payload is not a JSON object (%s)', (transport) => {
  it('is 401 Unauthorized, even with the vault’s own valid signature', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kv-token-'));
    const stateFile = join(dir, 'vault.json');
    const vault = await LocalKeyVault.start({ transport, stateFile });
    try {
      const secret = (JSON.parse(await readFile(stateFile, 'utf8')) as { vault: { secret: string } }).vault.secret;
      const { tokenKey } = vaultSecrets(Buffer.from(secret, 'base64url'));
      for (const payload of [null, 42, 'oid', [1]]) {
        const token = signToken(tokenKey, payload as unknown as TokenClaims);
        const response = await rawRequest(vault, 'GET', '/keys?api-version=2025-07-01', { token });
        expect(response.status, JSON.stringify(payload)).toBe(401);
        expect(response.json.error.code).toBe('Unauthorized');
        expect(response.json.error.message).toBe('The bearer token payload is not a JSON object.');
        expect(response.headers['www-authenticate']).toMatch(/^Bearer /);
      }
    } finally {
      await vault.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
