// A small HTTP service storing customers in PostgreSQL with the SSN and email encrypted
// (kv-envelope FieldEncryptor, keys in a PostgresKeyStore, KEK in Key Vault), searchable by
// email through a blind index, with an admin route that rotates the KEK and re-wraps the key
// store (no row changes). Two data layers: plain `pg` SQL (this file) and Drizzle (drizzle.mjs).
import { createServer } from 'node:http';
import { FieldEncryptor, planBlindIndex } from 'kv-envelope';
import { PostgresKeyStore } from 'kv-envelope/postgres';
import { rewrapKeyStore } from 'kv-envelope/rewrap';

// 16 bits suits ~100k+ distinct emails; planBlindIndex({ rows, distinctValues }) says why.
export const EMAIL_INDEX = { name: 'customers.email', bits: 16, transform: ['trim', 'lowercase'] };

/** Creates the tables (idempotent) and returns the service's pieces. */
export async function setUp({ db, kek, schema = 'public' }) {
  const keyStore = new PostgresKeyStore({ client: db, schema });
  await keyStore.migrate();
  await db.query(`CREATE TABLE IF NOT EXISTS "${schema}".customers (
    id uuid PRIMARY KEY, ssn bytea NOT NULL, email bytea NOT NULL, email_bidx integer NOT NULL)`);
  await db.query(`CREATE INDEX IF NOT EXISTS customers_email_bidx ON "${schema}".customers (email_bidx)`);
  const fields = new FieldEncryptor({ keks: kek, keyStore });
  return { db, kek, keyStore, fields, table: `"${schema}".customers` };
}

/** The plain-SQL data layer. */
export function sqlCustomers({ db, fields, table }) {
  const aad = (column, id) => `customers.${column}#${id}`; // bind each value to its row and column
  const decryptRow = async (r) => ({
    id: r.id,
    ssn: new TextDecoder().decode(await fields.decrypt(r.ssn, { aad: aad('ssn', r.id) })),
    email: new TextDecoder().decode(await fields.decrypt(r.email, { aad: aad('email', r.id) })),
  });
  return {
    async create({ ssn, email }) {
      const id = crypto.randomUUID(); // known before the insert, so it can be bound into the aad
      await db.query(`INSERT INTO ${table} (id, ssn, email, email_bidx) VALUES ($1, $2, $3, $4)`, [
        id, await fields.encrypt(ssn, { aad: aad('ssn', id) }), await fields.encrypt(email, { aad: aad('email', id) }),
        await fields.blindIndex(email, EMAIL_INDEX),
      ]);
      return id;
    },
    async get(id) {
      const { rows } = await db.query(`SELECT * FROM ${table} WHERE id = $1`, [id]);
      return rows[0] === undefined ? undefined : decryptRow(rows[0]);
    },
    async findByEmail(email) {
      const { rows } = await db.query(`SELECT * FROM ${table} WHERE email_bidx = $1`, [await fields.blindIndex(email, EMAIL_INDEX)]);
      const wanted = email.trim().toLowerCase();
      const out = [];
      for (const r of rows) {
        const c = await decryptRow(r); // candidates: drop the bucket's false positives
        if (c.email.trim().toLowerCase() === wanted) out.push(c);
      }
      return { customers: out, candidates: rows.length };
    },
  };
}

/** Rotation: a new KEK version, then every key-store record re-wrapped under it. Rows never change. */
export async function rotate({ keyClient, keyName, kek, keyStore }) {
  await keyClient.rotateKey(keyName);
  let rewrapped = 0;
  for await (const r of rewrapKeyStore(keyStore, { to: kek })) if (r.status === 'rewrapped') rewrapped++;
  return { rewrapped, kekId: kek.currentKeyId };
}

/** The HTTP layer over either data layer. */
export function createApp({ customers, admin }) {
  return createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      if (req.method === 'POST' && url.pathname === '/customers') {
        let body = '';
        for await (const chunk of req) body += chunk;
        const { ssn, email } = JSON.parse(body);
        if (typeof ssn !== 'string' || typeof email !== 'string') return send(400, { error: 'ssn and email are required strings' });
        return send(201, { id: await customers.create({ ssn, email }) });
      }
      if (req.method === 'GET' && url.pathname === '/customers') return send(200, await customers.findByEmail(url.searchParams.get('email') ?? ''));
      const m = /^\/customers\/([0-9a-f-]{36})$/.exec(url.pathname);
      if (req.method === 'GET' && m) {
        const c = await customers.get(m[1]);
        return c === undefined ? send(404, { error: 'not found' }) : send(200, c);
      }
      if (req.method === 'POST' && url.pathname === '/admin/rotate') return send(200, await admin.rotate());
      return send(404, { error: 'not found' });
    } catch (err) {
      // Typed errors carry a stable code and never a secret; log the code, answer 500.
      return send(500, { error: err?.code ?? 'internal error' });
    }
  });
}

export { planBlindIndex };
