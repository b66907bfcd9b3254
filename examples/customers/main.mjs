// Runs the example service: the local Key Vault in-process, PostgreSQL from DATABASE_URL or
// PGlite in memory. `node examples/customers/main.mjs [--drizzle]`, then:
//   curl -XPOST localhost:3000/customers -d '{"ssn":"078-05-1120","email":"ada@example.com"}'
//   curl 'localhost:3000/customers?email=ADA@example.com'
//   curl -XPOST localhost:3000/admin/rotate
import { KeyClient } from '@azure/keyvault-keys';
import { KeyVaultKek } from 'kv-envelope/azure';
import { LocalKeyVault } from 'kv-envelope/local-vault';
import { createApp, rotate, setUp, sqlCustomers } from './app.mjs';

const vault = await LocalKeyVault.start();
const keyClient = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
await keyClient.createRsaKey('customers-kek', { keySize: 3072 });
const kek = new KeyVaultKek({ vaultUrl: vault.url, keyName: 'customers-kek', credential: vault.credential(), clientOptions: vault.clientOptions });
const db = process.env.DATABASE_URL
  ? new (await import('pg')).default.Pool({ connectionString: process.env.DATABASE_URL })
  : new (await import('@electric-sql/pglite')).PGlite();
const service = await setUp({ db, kek });
const customers = process.argv.includes('--drizzle')
  ? (await import('./drizzle.mjs')).drizzleCustomers({ orm: (await import(process.env.DATABASE_URL ? 'drizzle-orm/node-postgres' : 'drizzle-orm/pglite')).drizzle({ client: db }), fields: service.fields })
  : sqlCustomers(service);
const server = createApp({ customers, admin: { rotate: () => rotate({ keyClient, keyName: 'customers-kek', kek, keyStore: service.keyStore }) } });
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => console.log(`customers service on http://127.0.0.1:${server.address().port}`));
