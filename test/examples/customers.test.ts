/**
 * The examples/customers service, as a user would call it over HTTP, on both data layers
 * (plain pg SQL and Drizzle), on PGlite or the real server: create, look up by email through
 * the blind index, rotate the KEK (records re-wrapped, rows untouched), and read everything back.
 */
import type { AddressInfo } from 'node:net';
import { KeyClient } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyVaultKek } from '../../src/azure/index.js';
import { LocalKeyVault } from '../../src/local-vault/index.js';
// @ts-expect-error -- plain JavaScript example, no types
import { createApp, rotate, setUp, sqlCustomers } from '../../examples/customers/app.mjs';
// @ts-expect-error -- plain JavaScript example, no types
import { drizzleCustomers } from '../../examples/customers/drizzle.mjs';
import { type TestDatabase, openTestDatabase } from '../helpers/database.js';

let db: TestDatabase;
let vault: LocalKeyVault;
beforeAll(async () => {
  db = await openTestDatabase();
  vault = await LocalKeyVault.start();
});
afterAll(async () => {
  await vault?.close();
  await db?.close();
});

describe.each(['sql', 'drizzle'] as const)('examples/customers (%s)', (layer) => {
  it('creates customers, finds one by email, rotates the KEK and still reads everything', async () => {
    const keyClient = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    const keyName = `customers-${layer}`;
    await keyClient.createRsaKey(keyName, { keySize: 2048 });
    const kek = new KeyVaultKek({ vaultUrl: vault.url, keyName, credential: vault.credential(), clientOptions: vault.clientOptions });
    const schema = `${db.schema}_${layer}`;
    await db.client.query(`CREATE SCHEMA "${schema}"`);
    const service = await setUp({ db: db.client, kek, schema });
    const orm = layer === 'drizzle'
      ? (await import(db.kind === 'pglite' ? 'drizzle-orm/pglite' : 'drizzle-orm/node-postgres')).drizzle({ client: db.client as never })
      : undefined;
    const customers = layer === 'sql' ? sqlCustomers(service) : drizzleCustomers({ orm, fields: service.fields, schema });
    const server = createApp({ customers, admin: { rotate: () => rotate({ keyClient, keyName, kek, keyStore: service.keyStore }) } });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) {
        const r = await fetch(`${base}/customers`, { method: 'POST', body: JSON.stringify({ ssn: `078-05-${1000 + i}`, email: `Person${i}@Example.com` }) });
        expect(r.status).toBe(201);
        ids.push(((await r.json()) as { id: string }).id);
      }
      const found = (await (await fetch(`${base}/customers?email=${encodeURIComponent(' person7@example.COM ')}`)).json()) as { customers: unknown[]; candidates: number };
      expect(found.customers).toEqual([{ id: ids[7], ssn: '078-05-1007', email: 'Person7@Example.com' }]);
      const rowsBefore = await db.client.query(`SELECT id, ssn FROM "${schema}".customers ORDER BY id`);
      const rotated = (await (await fetch(`${base}/admin/rotate`, { method: 'POST' })).json()) as { rewrapped: number };
      expect(rotated.rewrapped).toBeGreaterThanOrEqual(1);
      const rowsAfter = await db.client.query(`SELECT id, ssn FROM "${schema}".customers ORDER BY id`);
      expect(rowsAfter.rows).toEqual(rowsBefore.rows); // field mode: rotation never rewrites a row
      expect(await (await fetch(`${base}/customers/${ids[39]}`)).json()).toEqual({ id: ids[39], ssn: '078-05-1039', email: 'Person39@Example.com' });
      expect((await fetch(`${base}/customers`, { method: 'POST', body: '{"ssn":1}' })).status).toBe(400);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
