// kv-envelope JWT benchmark: the BUILT package (../dist/jwt.js, ../dist/local-vault.js).
//
//   npm run build && node bench/jwt.mjs            (build first: dist/ must have the jwt entry)
//   node bench/jwt.mjs --quick                     (smoke run: seconds, numbers meaningless)
//
// 1. sign: JwtSigner.sign() against the local vault IN-PROCESS (the real @azure/keyvault-keys
//    pipeline, no network) for ES256 (P-256), RS256 and PS256 (RSA-2048). Key Vault's own
//    per-vault limit is printed next to each: a real vault allows 4,000 sign operations per
//    10 s for software RSA-2048 and EC keys (HSM: half), and a warm call takes ~90 ms, so in
//    production the budget, not this CPU, bounds signing.
// 2. verify: our verifier (node:crypto, keys imported once from the JWKS) side by side with
//    jose's jwtVerify of the SAME token against createLocalJWKSet of the same JWKS (and against a
//    pre-imported CryptoKey), and fast-jwt's verifier (node:crypto too; its key given as a PEM,
//    and as a key function that looks the kid up: its async mode), for ES256, RS256, PS256.
//    Two modes:
//    - in sequence: one caller awaits each verification before the next (a request handler
//      under light load; the latency view);
//    - 64 in flight: batches of 64 verifications started together and awaited with
//      Promise.all (a busy server). jose verifies with WebCrypto, whose work runs on libuv's
//      thread pool, so it gains from concurrency; ours and fast-jwt verify synchronously on the
//      calling thread (node:crypto), so they do not.
//    Ratios are ours ÷ theirs: > 1 means ours verifies more tokens per second.
//
// Before anything is timed, every contestant must accept the token and reject a tampered copy.
// Results: tables on stdout (and JSON with --json=path).
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createVerifier as createFastJwtVerifier } from 'fast-jwt';
import * as jose from 'jose';
import {
  assertRejects, consume, CONTENDED_CORES, environment, fmtCores, fmtOps, fmtRatio, fmtTime, markdownTable, parseArgs, printEnvironment,
  runCase, textTable,
} from './lib.mjs';

// 7 short interleaved rounds: the ratios below are medians of per-round ratios, so a disturbed round does not decide them.
const settings = parseArgs(process.argv.slice(2), { time: 3500, rounds: 7, warmupTime: 250, iterations: 14, batchTargetMs: 2, json: undefined });

const dist = (name) => new URL(`../dist/${name}.js`, import.meta.url);
for (const name of ['jwt', 'local-vault']) {
  if (!existsSync(dist(name))) {
    console.error(`bench: ${fileURLToPath(dist(name))} not found. Run \`npm run build\` in the repository root first (with the jwt entry in tsup.config.ts).`);
    process.exit(2);
  }
}
const { JwtSigner, createVerifier } = await import(dist('jwt').href);
const { LocalKeyVault } = await import(dist('local-vault').href);
// The Azure SDK is a (dev) dependency of the root package, resolved from there like dist/ resolves it.
const { KeyClient } = createRequire(fileURLToPath(dist('jwt')))('@azure/keyvault-keys');

/** Key Vault sign limits per vault per 10 s (service-limits; reference jwt.md §5). */
const BUDGET = [
  { key: 'RSA-2048', software: 4000, hsm: 2000 },
  { key: 'RSA-3072', software: 1000, hsm: 500 },
  { key: 'RSA-4096', software: 500, hsm: 250 },
  { key: 'EC (P-256/384/521/256K)', software: 4000, hsm: 2000 },
];
const CASES = [
  { alg: 'ES256', key: 'EC (P-256/384/521/256K)', label: 'EC P-256', create: (c, n) => c.createEcKey(n, { curve: 'P-256' }) },
  { alg: 'RS256', key: 'RSA-2048', label: 'RSA-2048', create: (c, n) => c.createRsaKey(n, { keySize: 2048 }) },
  { alg: 'PS256', key: 'RSA-2048', label: 'RSA-2048', create: (c, n) => c.createRsaKey(n, { keySize: 2048 }) },
];
const CLAIMS = { scope: 'orders:read orders:write', tenant: 'contoso', roles: ['reader', 'writer'] };
const SIGN_OPTIONS = { issuer: 'https://issuer.example', audience: 'orders', subject: 'user-42', expiresIn: '15m' };

const env = await environment();
for (const name of ['jose', 'fast-jwt']) {
  env.versions[name] = JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
}
/** Verifications started together in the concurrent mode. */
const IN_FLIGHT = 64;
const started = performance.now();
console.log('# kv-envelope JWT benchmark\n');
printEnvironment(env, settings);
if (settings.quick) console.log('\n*** --quick: smoke run, the numbers below are NOT meaningful ***');

const vault = await LocalKeyVault.start({ transport: 'in-process' });
const keyClient = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
const results = { environment: env, settings, sign: [], verify: [] };

// ---------- agreement, then sign ----------
const prepared = [];
for (const c of CASES) {
  const name = `bench-${c.alg.toLowerCase()}`;
  await c.create(keyClient, name);
  const signer = new JwtSigner({ vaultUrl: vault.url, keyName: name, credential: vault.credential(), clientOptions: vault.clientOptions, algorithm: c.alg });
  const token = await signer.sign(CLAIMS, SIGN_OPTIONS);
  const jwks = await signer.jwks();
  const ours = createVerifier({ jwks, algorithms: [c.alg], issuer: SIGN_OPTIONS.issuer, audience: SIGN_OPTIONS.audience });
  const localSet = jose.createLocalJWKSet(jwks);
  const cryptoKey = await jose.importJWK(jwks.keys[0], c.alg);
  const joseOptions = { algorithms: [c.alg], issuer: SIGN_OPTIONS.issuer, audience: SIGN_OPTIONS.audience };
  const pems = new Map(jwks.keys.map((k) => [k.kid, createPublicKey({ key: k, format: 'jwk' }).export({ type: 'spki', format: 'pem' })]));
  const fastOptions = { algorithms: [c.alg], allowedIss: SIGN_OPTIONS.issuer, allowedAud: SIGN_OPTIONS.audience, cache: false };
  const fastPem = createFastJwtVerifier({ ...fastOptions, key: pems.get(jwks.keys[0].kid) });
  const fastLookup = createFastJwtVerifier({ ...fastOptions, key: async ({ header }) => pems.get(header.kid) });
  // Every contestant as `verify(token) → Promise<claims>`.
  const verifiers = [
    { name: 'kv-envelope verify', verify: async (t) => (await ours.verify(t)).payload },
    { name: 'jose jwtVerify (local JWKS)', verify: async (t) => (await jose.jwtVerify(t, localSet, joseOptions)).payload },
    { name: 'jose jwtVerify (CryptoKey)', verify: async (t) => (await jose.jwtVerify(t, cryptoKey, joseOptions)).payload },
    { name: 'fast-jwt (PEM, sync)', verify: async (t) => fastPem(t) },
    { name: 'fast-jwt (kid lookup, async)', verify: (t) => fastLookup(t) },
  ];
  // Agreement: same claims out of every contestant; a token with a changed payload is refused by all.
  const [h, p, s] = token.split('.');
  const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url')), scope: 'admin' })).toString('base64url')}.${s}`;
  for (const k of verifiers) {
    const payload = await k.verify(token);
    if (payload.scope !== CLAIMS.scope || payload.sub !== 'user-42') throw new Error(`agreement: ${k.name} returned other claims`);
    await assertRejects(() => k.verify(tampered), `${k.name} ${c.alg}`);
  }
  const batch = Array.from({ length: IN_FLIGHT }, () => token);
  const modes = {
    sequence: verifiers.map((k) => ({ name: k.name, op: () => k.verify(token), async: true })),
    concurrent: verifiers.map((k) => ({ name: k.name, op: () => Promise.all(batch.map(k.verify)), async: true })),
  };
  prepared.push({ ...c, signer, modes });
}
console.log('\nagreement: every verifier accepts the signed tokens (same claims) and refuses tampered copies\n');

console.log('## sign: JwtSigner.sign() against the local vault, in-process (one caller, sequential)\n');
const signRows = [];
for (const c of prepared) {
  vault.stats.reset();
  const { rows, otherCores } = await runCase(settings, `sign ${c.alg}`, [{ name: `sign ${c.alg}`, op: () => c.signer.sign(CLAIMS, SIGN_OPTIONS), async: true }]);
  const r = rows[0];
  const calls = vault.stats.byOperation;
  if (Object.keys(calls).some((op) => op !== 'sign')) throw new Error(`budget: sign ${c.alg} made other vault calls: ${JSON.stringify(calls)}`);
  const budget = BUDGET.find((b) => b.key === c.key);
  results.sign.push({ alg: c.alg, key: c.label, ...r, vaultSignCalls: calls.sign, budgetPer10s: budget, otherCores });
  signRows.push([
    c.alg, c.label, fmtOps(r.opsPerSec), fmtTime(r.p50Ms), `${budget.software.toLocaleString('en')} / ${budget.hsm.toLocaleString('en')}`,
    `${fmtOps(budget.software / 10)} / ${fmtOps(budget.hsm / 10)}`, fmtCores(otherCores),
  ]);
}
const signHeader = ['alg', 'key', 'local ops/s', 'p50', 'Key Vault budget per 10 s (software / HSM)', '= ops/s', 'other CPU'];
console.log(textTable(signHeader, signRows, ['l', 'l', 'r', 'r', 'r', 'r', 'r']));
console.log('\nKey Vault sign budget per vault per 10 s, all key types (software / HSM):');
console.log(textTable(['key', 'software', 'HSM'], BUDGET.map((b) => [b.key, b.software.toLocaleString('en'), b.hsm.toLocaleString('en')]), ['l', 'r', 'r']));
console.log('Each token costs exactly one vault sign call (asserted from the vault\'s counters above).');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const MODE_LABEL = { sequence: 'in sequence', concurrent: `${IN_FLIGHT} in flight` };
console.log('\n## verify: the same token, ours vs jose and fast-jwt, in sequence and with 64 in flight\n');
console.log('tokens/s per verifier; "ours ÷ this" > 1 means kv-envelope verifies more tokens per second.\n');
const verifyRows = [];
const summary = [];
for (const mode of ['sequence', 'concurrent']) {
  for (const c of prepared) {
    const perOp = mode === 'concurrent' ? IN_FLIGHT : 1;
    const { rows, otherCores } = await runCase(settings, `verify ${c.alg} ${MODE_LABEL[mode]}`, c.modes[mode]);
    const tokensPerSec = (r) => r.opsPerSec * perOp;
    // ours ÷ this: the median over rounds of the ratio within each round (contestants of a round ran back to back).
    const oursOver = (r) => median(rows[0].roundsOpsPerSec.map((ours, i) => ours / r.roundsOpsPerSec[i]));
    for (const r of rows) {
      results.verify.push({ alg: c.alg, mode, inFlight: perOp, ...r, tokensPerSec: tokensPerSec(r), oursOverThis: oursOver(r), otherCores });
      verifyRows.push([
        MODE_LABEL[mode], c.alg, r.name, fmtOps(tokensPerSec(r)), fmtTime(r.meanMs / perOp), r === rows[0] ? '–' : fmtRatio(oursOver(r)),
        `±${r.spreadPct.toFixed(1)}%`,
      ]);
    }
    // Against the faster variant of each library (the lower ratio).
    const ratio = (prefix) => Math.min(...rows.filter((r) => r.name.startsWith(prefix)).map(oursOver));
    summary.push({ mode, alg: c.alg, jose: ratio('jose'), fastJwt: ratio('fast-jwt') });
    if (otherCores > CONTENDED_CORES) console.log(`(verify ${c.alg} ${MODE_LABEL[mode]}: other processes used ${fmtCores(otherCores)} — noisy)`);
  }
}
const verifyHeader = ['mode', 'alg', 'verifier', 'tokens/s', 'time per token', 'ours ÷ this', 'round spread'];
console.log(textTable(verifyHeader, verifyRows, ['l', 'l', 'l', 'r', 'r', 'r', 'r']));

// CPU cost per token: process CPU time (user + system, ALL threads: jose's WebCrypto work on the
// libuv pool is counted) per verified token. Wall-clock ratios on a busy machine depend on how the
// scheduler shares the cores; CPU per token barely does. Same interleaving: rotated order per
// round, median of per-round ratios.
async function cpuPerToken(op, perOp, budgetMs) {
  const start = process.cpuUsage();
  let n = 0;
  for (;;) {
    await op();
    n++;
    if (n % 8 === 0) {
      const u = process.cpuUsage(start);
      if ((u.user + u.system) / 1000 >= budgetMs) return (u.user + u.system) / (n * perOp);
    }
  }
}
const cpuRounds = settings.rounds;
const cpuBudgetMs = Math.max(20, settings.time / settings.rounds / 5);
const cpuRows = [];
for (const mode of ['sequence', 'concurrent']) {
  for (const c of prepared) {
    const perOp = mode === 'concurrent' ? IN_FLIGHT : 1;
    const contestants = c.modes[mode];
    const perRound = contestants.map(() => []);
    for (let round = 0; round < cpuRounds; round++) {
      for (let i = 0; i < contestants.length; i++) {
        const k = (i + round) % contestants.length;
        perRound[k].push(await cpuPerToken(contestants[k].op, perOp, cpuBudgetMs));
      }
    }
    const oursOver = (k) => median(perRound[k].map((us, r) => us / perRound[0][r])); // their CPU ÷ ours = ours ÷ theirs in tokens per CPU-second
    const best = (prefix) => Math.min(...contestants.map((x, k) => (x.name.startsWith(prefix) ? oursOver(k) : Infinity)));
    const entry = summary.find((x) => x.mode === mode && x.alg === c.alg);
    entry.joseCpu = best('jose');
    entry.fastJwtCpu = best('fast-jwt');
    contestants.forEach((x, k) => {
      const us = median(perRound[k]);
      results.verify.find((r) => r.alg === c.alg && r.mode === mode && r.name === x.name).cpuUsPerToken = us;
      cpuRows.push([MODE_LABEL[mode], c.alg, x.name, `${us.toFixed(1)} µs`, k === 0 ? '–' : fmtRatio(oursOver(k))]);
    });
  }
}
console.log('\n## verify: CPU time per token (all threads), same contestants\n');
console.log(textTable(['mode', 'alg', 'verifier', 'CPU per token', 'ours ÷ this'], cpuRows, ['l', 'l', 'l', 'r', 'r']));

results.verifySummary = summary;
console.log('\nours ÷ the faster variant of each library (median of per-round ratios; tokens/s, and tokens per CPU-second):');
const summaryRows = summary.map((x) => [MODE_LABEL[x.mode], x.alg, fmtRatio(x.jose), fmtRatio(x.fastJwt), fmtRatio(x.joseCpu), fmtRatio(x.fastJwtCpu)]);
const summaryHeader = ['mode', 'alg', 'vs jose', 'vs fast-jwt', 'vs jose (CPU)', 'vs fast-jwt (CPU)'];
console.log(textTable(summaryHeader, summaryRows, ['l', 'l', 'r', 'r', 'r', 'r']));
for (const mode of ['sequence', 'concurrent']) {
  const of = summary.filter((x) => x.mode === mode);
  const range = (key) => `${fmtRatio(Math.min(...of.map((x) => x[key])))}–${fmtRatio(Math.max(...of.map((x) => x[key])))}`;
  console.log(`${MODE_LABEL[mode]}: ours is ${range('jose')} jose and ${range('fastJwt')} fast-jwt in tokens/s; ` +
    `${range('joseCpu')} jose and ${range('fastJwtCpu')} fast-jwt in tokens per CPU-second`);
}
console.log('\nMarkdown:\n');
console.log(markdownTable(signHeader.slice(0, 6), signRows.map((r) => r.slice(0, 6)), ['l', 'l', 'r', 'r', 'r', 'r']));
console.log();
console.log(markdownTable(verifyHeader.slice(0, 6), verifyRows.map((r) => r.slice(0, 6)), ['l', 'l', 'l', 'r', 'r', 'r']));
console.log();
console.log(markdownTable(['mode', 'alg', 'ours ÷ jose', 'ours ÷ fast-jwt', 'ours ÷ jose (CPU)', 'ours ÷ fast-jwt (CPU)'], summaryRows, ['l', 'l', 'r', 'r', 'r', 'r']));

await vault.close();
consume();
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (settings.json) {
  writeFileSync(settings.json, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results written to ${settings.json}`);
}
