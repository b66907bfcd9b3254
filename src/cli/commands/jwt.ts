/** `kv-envelope jwt sign|verify|jwks`: JWTs signed by a vault key (it never leaves the vault). */
import { readFile } from 'node:fs/promises';
import { type JwsAlgorithm, JwtSigner, createVerifier } from '../../jwt/index.js';
import { ALGORITHM_NAMES } from '../../jwt/internal/algorithms.js';
import { escapeUntrusted } from '../../internal/escape.js';
import { durationOption, keyValues, parse, positionals } from '../args.js';
import { UsageError } from '../errors.js';
import type { Output } from '../output.js';
import type { VaultContext } from '../vault-context.js';

export const JWT_HELP = `Usage: kv-envelope jwt <command> --key NAME [options]

Commands:
  sign [--claim k=v ...] [--claims JSON|@FILE] [--sub S] [--aud A] [--iss I] [--expires-in 15m]
                 sign a JWT with vault key NAME (EC or RSA); prints the token
  verify TOKEN|- --aud A|--any-audience [--iss I]
                 verify a token locally against NAME's JWKS; prints the payload (exit 1 if invalid)
  jwks           print NAME's JWKS (every published version)

Options: --key NAME, --alg ES256|ES384|ES512|ES256K|RS256|RS384|RS512|PS256|PS384|PS512
(default: from the key — EC P-256 → ES256, P-384 → ES384, P-521 → ES512, P-256K → ES256K,
RSA → RS256), --lead-time 0s (how long a new key version is published before it signs;
default 0 here, the library's default for services is safer), --json`;

/** The algorithm a key signs with when --alg is not given (RS256: what every verifier accepts). */
const ALG_BY_CURVE: Readonly<Record<string, JwsAlgorithm>> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512', 'P-256K': 'ES256K' };

const OPTIONS = {
  key: { type: 'string' }, alg: { type: 'string' }, claim: { type: 'string', multiple: true }, claims: { type: 'string' },
  sub: { type: 'string' }, aud: { type: 'string' }, 'any-audience': { type: 'boolean' }, iss: { type: 'string' }, 'expires-in': { type: 'string' }, 'lead-time': { type: 'string' },
} as const;

export async function jwtCommand(argv: string[], vault: () => Promise<VaultContext>, out: Output): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    process.stdout.write(`${JWT_HELP}\n`);
    return sub === undefined ? 2 : 0;
  }
  const { values, positionals: pos } = parse(rest, OPTIONS, `jwt ${sub}`);
  if (values.help) {
    process.stdout.write(`${JWT_HELP}\n`);
    return 0;
  }
  if (!['sign', 'verify', 'jwks'].includes(sub)) throw new UsageError(`unknown jwt command "${sub}" (see: kv-envelope jwt --help)`);
  if (values.key === undefined) throw new UsageError(`jwt ${sub} needs --key NAME`);
  if (values.alg !== undefined && !(ALGORITHM_NAMES as readonly string[]).includes(values.alg)) {
    throw new UsageError(`--alg is one of ${ALGORITHM_NAMES.join(', ')}, got "${escapeUntrusted(values.alg)}"`);
  }
  // A token for another service must not verify here: the audience is checked unless waived on purpose.
  if (sub === 'verify' && values.aud === undefined && values['any-audience'] !== true) {
    throw new UsageError('jwt verify needs --aud AUDIENCE (or --any-audience to accept any audience on purpose)');
  }
  const expiresIn = durationOption(values['expires-in'], 'expires-in') ?? '15m';
  const leadTime = durationOption(values['lead-time'], 'lead-time') ?? '0s';
  const claims = sub === 'sign' ? await readClaims(values.claims, values.claim) : undefined;
  const token = sub === 'verify' ? await readToken(positionals(pos, ['token'], 'jwt verify')[0]!) : undefined;
  if (sub !== 'verify') positionals(pos, [], `jwt ${sub}`);
  const v = await vault();
  const algorithm = (values.alg as JwsAlgorithm | undefined) ?? (await inferAlgorithm(v, values.key));
  const signer = new JwtSigner({
    vaultUrl: v.url, keyName: values.key, credential: v.credential, clientOptions: v.clientOptions, algorithm,
    publishLeadTime: leadTime as never,
  });
  if (sub === 'sign') {
    const jwt = await signer.sign(claims!, {
      subject: values.sub, audience: values.aud, issuer: values.iss, expiresIn: expiresIn as never,
    });
    out.result(jwt, { token: jwt });
    return 0;
  }
  if (sub === 'jwks') {
    const jwks = await signer.jwks();
    out.result(JSON.stringify(jwks, null, 2), jwks);
    return 0;
  }
  const verifier = createVerifier({ signer, algorithms: [algorithm], issuer: values.iss, audience: values.aud ?? false });
  const { payload, protectedHeader } = await verifier.verify(token!);
  out.result(JSON.stringify(payload, null, 2), { valid: true, payload, protectedHeader });
  return 0;
}

async function readClaims(json: string | undefined, pairs: string[] | undefined): Promise<Record<string, unknown>> {
  let claims: unknown = {};
  if (json !== undefined) {
    const text = json.startsWith('@') ? await readFile(json.slice(1), 'utf8') : json;
    try {
      claims = JSON.parse(text);
    } catch {
      throw new UsageError('--claims is not JSON (give a JSON object, or @FILE)');
    }
    if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw new UsageError('--claims must be a JSON object');
  }
  return { ...(claims as Record<string, unknown>), ...keyValues(pairs, 'claim') };
}

async function readToken(arg: string): Promise<string> {
  if (arg !== '-') return arg.trim();
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

async function inferAlgorithm(v: VaultContext, name: string): Promise<JwsAlgorithm> {
  const key = await v.keyClient.getKey(name);
  const kty = key.keyType ?? '';
  if (kty.startsWith('RSA')) return 'RS256';
  const alg = kty.startsWith('EC') ? ALG_BY_CURVE[key.key?.crv ?? ''] : undefined;
  if (alg === undefined) throw new UsageError(`key ${name} (${kty}) cannot sign JWTs: use an EC or RSA key`);
  return alg;
}
