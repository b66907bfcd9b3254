// Insert / select / lookup of bench/postgres.mjs: encrypted table vs the same table in plaintext,
// in interleaved rounds in one process. Both contestants use the same statements, the same
// batches, the same pool and the same pipelining:
//
//   insert: one multi-row statement per batch (--statement=values, the default: `INSERT …
//           VALUES ($1,…),(…)`, one parameter per cell, bytea sent binary; --statement=unnest:
//           `INSERT … SELECT * FROM unnest($1::uuid[], …)`, arrays sent as text, bytea as hex).
//           The next batch is prepared (for the encrypted table: encrypted and indexed) while
//           the previous statement runs.
//   select: `SELECT * … WHERE id = ANY($1::uuid[])` per batch; the next batch is fetched while
//           the previous one is decrypted.
//   lookup: `WHERE email = $1` (B-tree on the plaintext) vs `WHERE email_bidx = $1` + decrypt
//           the candidates' email and keep the match (+ a second figure that also decrypts the
//           found row's other two columns, as `SELECT *` on the plaintext returns them readable).
//
// Crypto on the encrypted side: --crypto=inline (FieldEncryptor in the main thread, while the
// statement runs) or --crypto=pool (FieldEncryptorPool worker threads for the three columns, a
// batch split evenly over them; blind indexes on the main thread meanwhile).
import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { markdownTable, summarize } from './lib.mjs';

export async function insertSelect({ db, schema, kv, pg, opts, results }) {
  const { PostgresKeyStore } = pg;
  const store = new PostgresKeyStore({ client: db, schema, table: 'dek_records' });
  await store.migrate();
  const fields = new kv.FieldEncryptor({ keks: new kv.LocalAesKek({ id: 'bench-kek', key: randomBytes(32) }), keyStore: store });
  const pool = opts.crypto === 'pool' ? new kv.FieldEncryptorPool({ fields, workers: opts.poolWorkers, chunkSize: Math.ceil((3 * opts.batch) / opts.poolWorkers) }) : undefined;
  const index = { name: 'people.email', bits: kv.planBlindIndex({ rows: opts.rows, distinctValues: opts.rows }).bits, transform: ['trim', 'lowercase'] };
  await db.query(`CREATE TABLE ${schema}.plain (id uuid PRIMARY KEY, ssn text, email text, phone text)`);
  await db.query(`CREATE INDEX ON ${schema}.plain (email)`);
  await db.query(`CREATE TABLE ${schema}.enc (id uuid PRIMARY KEY, ssn bytea, email bytea, phone bytea, email_bidx integer)`);
  await db.query(`CREATE INDEX ON ${schema}.enc (email_bidx)`);
  // Timed statements go through one checked-out connection (both contestants): pg.Pool#query
  // hands the statement to a client on a later tick, which a batch encrypted in resolved-promise
  // awaits would hold back, so the database would sit idle while the next batch is prepared.
  const conn = typeof db.connect === 'function' ? await db.connect() : db;
  const person = (i) => ({ id: randomUUID(), ssn: `078-05-${String(i % 10000).padStart(4, '0')}`, email: `person${i}@example.com`, phone: `+1 555 ${String(i).padStart(7, '0')}` });
  const people = Array.from({ length: opts.rows }, (_, i) => person(i));
  const aad = (column, id) => `people.${column}#${id}`;

  const insertSql = (table, types, n) => opts.statement === 'values'
    ? `INSERT INTO ${schema}.${table} VALUES ${Array.from({ length: n }, (_, r) => `(${types.map((_, c) => `$${r * types.length + c + 1}`).join(', ')})`).join(', ')}`
    : `INSERT INTO ${schema}.${table} SELECT * FROM unnest(${types.map((t, c) => `$${c + 1}::${t}[]`).join(', ')})`;
  const params = (columns) => (opts.statement === 'values' ? columns[0].flatMap((_, r) => columns.map((col) => col[r])) : columns);
  const PLAIN_TYPES = ['uuid', 'text', 'text', 'text'];
  const ENC_TYPES = ['uuid', 'bytea', 'bytea', 'bytea', 'int'];

  /** The statement for a batch: [sql, params]. Encrypted: the three columns and the blind index. */
  const prepare = {
    plain: async (rows) => [insertSql('plain', PLAIN_TYPES, rows.length), params([rows.map((p) => p.id), rows.map((p) => p.ssn), rows.map((p) => p.email), rows.map((p) => p.phone)])],
    enc: async (rows) => {
      const ids = rows.map((p) => p.id);
      let cols;
      let bidx;
      if (pool !== undefined) {
        const items = [];
        for (const p of rows) items.push({ value: p.ssn, aad: aad('ssn', p.id) }, { value: p.email, aad: aad('email', p.id) }, { value: p.phone, aad: aad('phone', p.id) });
        const sealing = pool.encryptMany(items);
        bidx = [];
        for (const p of rows) bidx.push(await fields.blindIndex(p.email, index)); // meanwhile, on this thread
        const out = (await sealing).map(unwrapResult);
        cols = [0, 1, 2].map((c) => rows.map((_, r) => out[r * 3 + c]));
      } else {
        cols = [[], [], []];
        bidx = [];
        for (const p of rows) {
          cols[0].push(await fields.encrypt(p.ssn, { aad: aad('ssn', p.id) }));
          cols[1].push(await fields.encrypt(p.email, { aad: aad('email', p.id) }));
          cols[2].push(await fields.encrypt(p.phone, { aad: aad('phone', p.id) }));
          bidx.push(await fields.blindIndex(p.email, index));
        }
      }
      return [insertSql('enc', ENC_TYPES, rows.length), params([ids, ...cols.map((c) => c.map(asBuffer)), bidx])];
    },
  };
  const decode = {
    plain: async () => undefined,
    enc: async (rows) => {
      if (pool !== undefined) {
        const items = [];
        for (const row of rows) items.push({ value: row.ssn, aad: aad('ssn', row.id) }, { value: row.email, aad: aad('email', row.id) }, { value: row.phone, aad: aad('phone', row.id) });
        for (const r of await pool.decryptMany(items)) unwrapResult(r);
        return;
      }
      for (const row of rows) {
        await fields.decrypt(row.ssn, { aad: aad('ssn', row.id) });
        await fields.decrypt(row.email, { aad: aad('email', row.id) });
        await fields.decrypt(row.phone, { aad: aad('phone', row.id) });
      }
    },
  };

  async function insert(which, slice) {
    const start = performance.now();
    let pending;
    for (let b = 0; b < slice.length; b += opts.batch) {
      const statement = await prepare[which](slice.slice(b, b + opts.batch)); // while the previous statement runs
      await pending;
      pending = conn.query(...statement);
    }
    await pending;
    return performance.now() - start;
  }
  async function select(which, slice) {
    const start = performance.now();
    const fetch = (b) => (b < slice.length ? conn.query(`SELECT * FROM ${schema}.${which} WHERE id = ANY($1::uuid[])`, [slice.slice(b, b + opts.batch).map((p) => p.id)]) : undefined);
    let next = fetch(0);
    for (let b = 0; b < slice.length; b += opts.batch) {
      const { rows } = await next;
      next = fetch(b + opts.batch); // streams while this batch is decrypted
      await decode[which](rows);
    }
    return performance.now() - start;
  }

  // Warm-up (not counted): a batch each way, so DEK creation and JIT are not in round 1.
  const warm = Array.from({ length: opts.batch }, (_, i) => person(opts.rows + i));
  for (const w of ['plain', 'enc']) {
    await insert(w, warm);
    await select(w, warm);
    await db.query(`DELETE FROM ${schema}.${w}`);
  }

  const perRound = Math.ceil(opts.rows / opts.rounds);
  const t = { plainInsert: 0, encInsert: 0, plainSelect: 0, encSelect: 0 };
  const ratios = { insert: [], select: [] };
  for (let r = 0; r < opts.rounds; r++) {
    const slice = people.slice(r * perRound, (r + 1) * perRound);
    const order = r % 2 === 0 ? ['plain', 'enc'] : ['enc', 'plain'];
    const ms = {};
    for (const which of order) ms[`${which}Insert`] = await insert(which, slice);
    for (const which of order) ms[`${which}Select`] = await select(which, slice);
    for (const k of Object.keys(ms)) t[k] += ms[k];
    ratios.insert.push(ms.plainInsert / ms.encInsert);
    ratios.select.push(ms.plainSelect / ms.encSelect);
  }
  // Correctness: one encrypted row round trips, and the table holds every row.
  const check = people[Math.floor(people.length / 2)];
  const { rows: [row] } = await db.query(`SELECT * FROM ${schema}.enc WHERE id = $1`, [check.id]);
  if (new TextDecoder().decode(await fields.decrypt(row.email, { aad: aad('email', check.id) })) !== check.email) throw new Error('bench: encrypted round trip disagrees');
  const { rows: [{ n }] } = await db.query(`SELECT count(*)::int AS n FROM ${schema}.enc`);
  if (n !== opts.rows) throw new Error(`bench: ${n} encrypted rows, expected ${opts.rows}`);

  // Lookups, interleaved one by one (order alternating).
  const plainMs = [], encMs = [], encRowMs = [], queryMs = [], candidates = [];
  const dec = async (bytes, col, id) => new TextDecoder().decode(await fields.decrypt(bytes, { aad: aad(col, id) }));
  for (let i = 0; i < opts.lookups; i++) {
    const p = people[(i * 7919) % people.length];
    const plainLookup = async () => {
      const a = performance.now();
      const { rows: pr } = await conn.query(`SELECT * FROM ${schema}.plain WHERE email = $1`, [p.email]);
      plainMs.push(performance.now() - a);
      if (pr.length !== 1) throw new Error('bench: plaintext lookup disagrees');
    };
    const encLookup = async () => {
      const a = performance.now();
      const bidx = await fields.blindIndex(p.email, index);
      const q0 = performance.now();
      const { rows: er } = await conn.query(`SELECT * FROM ${schema}.enc WHERE email_bidx = $1`, [bidx]);
      queryMs.push(performance.now() - q0);
      candidates.push(er.length);
      const hits = [];
      for (const r of er) if ((await dec(r.email, 'email', r.id)) === p.email) hits.push(r);
      const b = performance.now();
      await dec(hits[0].ssn, 'ssn', hits[0].id);
      await dec(hits[0].phone, 'phone', hits[0].id);
      const c = performance.now();
      if (hits.length !== 1) throw new Error('bench: blind index lookup disagrees');
      encMs.push(b - a);
      encRowMs.push(c - a);
    };
    if (i % 2 === 0) { await plainLookup(); await encLookup(); } else { await encLookup(); await plainLookup(); }
  }
  await pool?.close();
  if (conn !== db) conn.release();

  const q = (xs, f) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length * f)];
  const rate = (ms) => opts.rows / (ms / 1000);
  const range = (xs) => { const s = summarize(xs); return `${s.median.toFixed(2)}x (${s.min.toFixed(2)}–${s.max.toFixed(2)})`; };
  // The best ratio any client could reach with the crypto on one thread, if each value cost only
  // the bare node:crypto floor (no format, no API): plaintext time / (plaintext time + floor work).
  const floor = cryptoFloor();
  const perRow = (ms) => (ms * 1000) / opts.rows; // µs
  const bound = {
    insert: perRow(t.plainInsert) / (perRow(t.plainInsert) + 3 * floor.seal + floor.hmac),
    select: perRow(t.plainSelect) / (perRow(t.plainSelect) + 3 * floor.open),
    // The blind index query itself returns every candidate row (a heap page each): measured.
    lookup: (q(queryMs, 0.5) * 1000 + floor.hmac + q(candidates, 0.5) * floor.open) / (q(plainMs, 0.5) * 1000),
  };
  const table = [
    ['insert 3 encrypted columns + blind index', `${fmt(rate(t.encInsert))} rows/s`, `${fmt(rate(t.plainInsert))} rows/s`, range(ratios.insert), `${bound.insert.toFixed(2)}x`, '≥ 0.7x'],
    ['select + decrypt 3 columns', `${fmt(rate(t.encSelect))} rows/s`, `${fmt(rate(t.plainSelect))} rows/s`, range(ratios.select), `${bound.select.toFixed(2)}x`, '≥ 0.7x'],
    ['equality lookup p50 (blind index + decrypt candidates)', `${q(encMs, 0.5).toFixed(3)} ms`, `${q(plainMs, 0.5).toFixed(3)} ms`, `${(q(encMs, 0.5) / q(plainMs, 0.5)).toFixed(2)}x time`, `${bound.lookup.toFixed(2)}x time`, '≤ 1.3x'],
    ['  of which the blind index query alone', `${q(queryMs, 0.5).toFixed(3)} ms`, `${q(plainMs, 0.5).toFixed(3)} ms`, `${(q(queryMs, 0.5) / q(plainMs, 0.5)).toFixed(2)}x time`, '', ''],
    ['equality lookup p90', `${q(encMs, 0.9).toFixed(3)} ms`, `${q(plainMs, 0.9).toFixed(3)} ms`, `${(q(encMs, 0.9) / q(plainMs, 0.9)).toFixed(2)}x time`, '', ''],
    ['lookup p50 + decrypt the row\'s other 2 columns', `${q(encRowMs, 0.5).toFixed(3)} ms`, `${q(plainMs, 0.5).toFixed(3)} ms`, `${(q(encRowMs, 0.5) / q(plainMs, 0.5)).toFixed(2)}x time`, '', ''],
  ];
  console.log(`\n${opts.rows.toLocaleString('en')} rows, ${results.database}; batches of ${opts.batch} rows per ${opts.statement === 'values' ? 'INSERT … VALUES (…),(…) (one parameter per cell, bytea binary)' : 'INSERT … SELECT FROM unnest(arrays)'} for both tables, ` +
    `pipelined (next batch prepared while the statement runs; select: next batch fetched while decrypting); crypto ${opts.crypto === 'pool' ? `on ${opts.poolWorkers} FieldEncryptorPool threads (+ blind index on the main thread)` : 'on the main thread'}; ` +
    `${opts.rounds} interleaved rounds (ratio = median of per-round throughput ratios, min–max); blind index ${index.bits} bits; ${opts.lookups} lookups interleaved`);
  console.log(markdownTable(['case', 'encrypted', 'plaintext', 'ratio', 'bound at the floor', 'target'], table, ['l', 'r', 'r', 'r', 'r', 'l']));
  console.log(`bound at the floor: the ratio if each value cost only bare node:crypto on this thread (${floor.seal.toFixed(2)} µs per GCM seal, ${floor.open.toFixed(2)} µs per open, ` +
    `${floor.hmac.toFixed(2)} µs per HMAC-SHA-256, 100 B, median of batches; lookup: the measured query returning ${q(candidates, 0.5)} candidate rows at p50, then the floor) with nothing else added`);
  results.insertSelect = { ms: t, ratios, floorUs: floor, bound, lookupMs: { encP50: q(encMs, 0.5), plainP50: q(plainMs, 0.5), encRowP50: q(encRowMs, 0.5), queryP50: q(queryMs, 0.5) }, table };
}

/** µs per 100-byte AES-256-GCM seal and open (21-byte AAD) and per HMAC-SHA-256: median of 51 batches of 2,000. */
function cryptoFloor() {
  const key = randomBytes(32), nonce = randomBytes(12), aad = randomBytes(21), pt = randomBytes(100);
  const seal = () => { const c = createCipheriv('aes-256-gcm', key, nonce); c.setAAD(aad); const b = c.update(pt); c.final(); return [b, c.getAuthTag()]; };
  const [body, tag] = seal();
  const open = () => { const d = createDecipheriv('aes-256-gcm', key, nonce); d.setAuthTag(tag); d.setAAD(aad); const p = d.update(body); d.final(); return p; };
  const hmac = () => createHmac('sha256', key).update(pt.subarray(0, 24)).digest();
  const ops = { seal, open, hmac };
  const batches = { seal: [], open: [], hmac: [] };
  for (let r = 0; r < 51; r++) {
    for (const [name, op] of Object.entries(ops)) {
      const start = performance.now();
      for (let i = 0; i < 2000; i++) op();
      batches[name].push(((performance.now() - start) * 1000) / 2000);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  return { seal: median(batches.seal), open: median(batches.open), hmac: median(batches.hmac) };
}

function unwrapResult(r) {
  if (!r.ok) throw r.error;
  return r.value;
}

function asBuffer(u8) {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

export function fmt(n) {
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0);
}
