/**
 * KeyVaultKek through the real @azure/keyvault-keys clients, with a scripted `httpClient` that
 * plays a tiny vault: it counts every request, so "nothing was sent" is checked exactly.
 */
import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { createHttpHeaders, type HttpClient, type PipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import type { KeyVaultKey } from '@azure/keyvault-keys';
import { beforeEach, describe, expect, it } from 'vitest';
import { KeyVaultKek } from '../../src/azure/index.js';
import { EnvelopeClient, EnvelopeError } from '../../src/index.js';

const VAULT = 'https://unit.vault.test';
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = publicKey.export({ format: 'jwk' });
const credential = { getToken: async () => ({ token: 'a.b.c', expiresOnTimestamp: Date.now() + 3_600_000 }) };

interface Version { version: string; enabled: boolean; created: number; exp?: number }
type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

class ScriptedVault implements HttpClient {
  readonly requests: string[] = [];
  versions: Version[] = [{ version: 'v1', enabled: true, created: 1 }];
  kty = 'RSA';
  /** Replies to use before the normal ones, one per authorised request. */
  script: Reply[] = [];
  delayMs = 0;

  async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
    const url = new URL(request.url);
    this.requests.push(`${request.method} ${url.pathname}`);
    if (this.delayMs > 0) await new Promise((r, j) => {
      const t = setTimeout(r, this.delayMs);
      request.abortSignal?.addEventListener('abort', () => { clearTimeout(t); j(Object.assign(new Error('aborted'), { name: 'AbortError' })); });
    });
    const reply = request.headers.get('authorization') === undefined
      ? { status: 401, headers: { 'www-authenticate': 'Bearer authorization="https://login.example/tenant", resource="https://vault.azure.net"' } }
      : (this.script.shift() ?? this.#answer(request.method, url.pathname, request.body as string | undefined));
    return {
      request, status: reply.status,
      headers: createHttpHeaders({ 'content-type': 'application/json', ...reply.headers }),
      bodyAsText: reply.body === undefined ? '' : JSON.stringify(reply.body),
    };
  }

  #bundle(v: Version): unknown {
    const ops = this.kty.startsWith('EC') ? ['sign', 'verify'] : ['wrapKey', 'unwrapKey', 'encrypt', 'decrypt'];
    return { key: { kid: `${VAULT}/keys/kek/${v.version}`, kty: this.kty, key_ops: ops, n: jwk.n, e: jwk.e }, attributes: { enabled: v.enabled, created: v.created, updated: v.created, exp: v.exp } };
  }

  #answer(method: string, path: string, body: string | undefined): Reply {
    const parts = path.split('/');
    const latest = this.versions[this.versions.length - 1]!;
    if (method === 'GET' && path === '/keys/kek/versions') {
      return { status: 200, body: { value: this.versions.map((v) => ({ kid: `${VAULT}/keys/kek/${v.version}`, attributes: { enabled: v.enabled, created: v.created } })), nextLink: null } };
    }
    if (method === 'GET' && parts[1] === 'keys') {
      const v = parts[3] ? this.versions.find((x) => x.version === parts[3]) : latest;
      return v ? { status: 200, body: this.#bundle(v) } : { status: 404, body: { error: { code: 'KeyNotFound', message: 'not found' } } };
    }
    if (method === 'POST' && parts[4] === 'unwrapkey') {
      const { value } = JSON.parse(body!) as { value: string };
      try {
        const dek = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(value, 'base64url'));
        return { status: 200, body: { kid: `${VAULT}/keys/kek/${parts[3]}`, value: dek.toString('base64url') } };
      } catch {
        return { status: 400, body: { error: { code: 'BadParameter', message: 'bad ciphertext' } } };
      }
    }
    return { status: 400, body: { error: { code: 'BadParameter', message: `unexpected ${method} ${path}` } } };
  }
}

let vault: ScriptedVault;
const fast = { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 5 };
function kek(extra: Partial<ConstructorParameters<typeof KeyVaultKek>[0]> = {}): KeyVaultKek {
  return new KeyVaultKek({ vaultUrl: VAULT, keyName: 'kek', credential, clientOptions: { httpClient: vault, disableChallengeResourceVerification: true }, retry: fast, ...extra });
}

beforeEach(() => {
  vault = new ScriptedVault();
});

describe('KeyVaultKek options', () => {
  it('takes vaultUrl + keyName, keyId, or key, and reports a versionless id', () => {
    expect(kek().id).toBe(`${VAULT}/keys/kek`);
    expect(new KeyVaultKek({ keyId: 'https://UNIT.vault.test:443/keys/kek', credential }).id).toBe(`${VAULT}/keys/kek`);
    expect(new KeyVaultKek({ keyId: `${VAULT}/keys/kek/v9`, credential }).id).toBe(`${VAULT}/keys/kek/v9`);
  });

  it('refuses ambiguous or invalid options, naming them', () => {
    expect(() => new KeyVaultKek({ credential } as never)).toThrow(/exactly one way/);
    expect(() => new KeyVaultKek({ keyId: `${VAULT}/keys/kek`, keyName: 'kek', credential })).toThrow(/exactly one way/);
    expect(() => new KeyVaultKek({ vaultUrl: 'http://v', keyName: 'kek', credential })).toThrow(/options\.vaultUrl/);
    expect(() => new KeyVaultKek({ vaultUrl: VAULT, keyName: 'a/b', credential })).toThrow(/options\.keyName/);
    expect(() => new KeyVaultKek({ vaultUrl: VAULT, keyName: 'kek', credential: {} as never })).toThrow(/options\.credential/);
    expect(() => kek({ allowedKeys: [`${VAULT}/keys/kek/v1`] })).toThrow(/options\.allowedKeys\[0\]/);
    expect(() => kek({ timeoutMs: 0 })).toThrow(/options\.timeoutMs/);
    expect(() => kek({ refreshInterval: -1 })).toThrow(/options\.refreshInterval/);
    expect(() => kek({ retry: { maxRetries: 99 } })).toThrow(/maxRetries/);
  });

  it('refuses an EC key object at construction, saying EC keys can only sign', () => {
    const ec = { name: 'sig', id: `${VAULT}/keys/sig/v1`, keyType: 'EC', properties: { name: 'sig', vaultUrl: VAULT } } as KeyVaultKey;
    expect(() => new KeyVaultKek({ key: ec, credential })).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_KEY_TYPE', message: expect.stringMatching(/can only sign/) }));
  });

  it('prints no credential', () => {
    const k = kek();
    expect(inspect(k)).not.toContain('getToken');
    expect(JSON.stringify(k)).toBe(`{"id":"${VAULT}/keys/kek","allowedKeys":["${VAULT}/keys/kek"]}`);
  });
});

describe('KeyVaultKek wrap', () => {
  it('resolves the latest version once, then wraps locally with 0 vault calls', async () => {
    const k = kek();
    const first = await k.wrap(randomBytes(32));
    expect(first).toMatchObject({ kekId: `${VAULT}/keys/kek/v1`, alg: 'RSA-OAEP-256' });
    expect(vault.requests).toEqual(['GET /keys/kek/', 'GET /keys/kek/']); // 401 challenge + getKey
    for (let i = 0; i < 100; i++) await k.wrap(randomBytes(32));
    expect(vault.requests).toHaveLength(2);
    const dek = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, first.bytes);
    expect(dek).toHaveLength(32);
  });

  it('shares one resolution between concurrent first wraps', async () => {
    const k = kek();
    await Promise.all(Array.from({ length: 50 }, () => k.wrap(randomBytes(32))));
    expect(vault.requests.filter((r) => r === 'GET /keys/kek/')).toHaveLength(2);
  });

  it('falls back to the newest enabled version when the latest is disabled', async () => {
    vault.versions = [{ version: 'v1', enabled: true, created: 1 }, { version: 'v2', enabled: true, created: 2 }, { version: 'v3', enabled: false, created: 3 }];
    const k = kek();
    expect((await k.wrap(randomBytes(32))).kekId).toBe(`${VAULT}/keys/kek/v2`);
    expect(vault.requests.slice(2)).toEqual(['GET /keys/kek/versions', 'GET /keys/kek/v2']);
  });

  it('throws KeyDisabledError naming the key when no version is usable', async () => {
    vault.versions = [{ version: 'v1', enabled: false, created: 1 }];
    await expect(kek().wrap(randomBytes(32))).rejects.toMatchObject({ code: 'ERR_KEY_DISABLED', message: expect.stringContaining(`${VAULT}/keys/kek`) });
  });

  it('refuses an EC key at first use', async () => {
    vault.kty = 'EC';
    await expect(kek().wrap(randomBytes(32))).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_KEY_TYPE', message: expect.stringMatching(/EC keys can only sign/) });
  });

  it('picks up a rotation on refresh()', async () => {
    const k = kek();
    expect((await k.wrap(randomBytes(32))).kekId).toMatch(/\/v1$/);
    vault.versions.push({ version: 'v2', enabled: true, created: 2 });
    expect((await k.wrap(randomBytes(32))).kekId).toMatch(/\/v1$/);
    expect(await k.refresh()).toBe(`${VAULT}/keys/kek/v2`);
    expect((await k.wrap(randomBytes(32))).kekId).toMatch(/\/v2$/);
    expect(k.currentKeyId).toBe(`${VAULT}/keys/kek/v2`);
  });

  it('re-resolves after refreshInterval, and keeps the old version while the vault is unavailable', async () => {
    let now = 1_000_000;
    const k = kek({ refreshInterval: 1000, now: () => now, retry: { maxRetries: 0 } });
    await k.wrap(randomBytes(32));
    vault.versions.push({ version: 'v2', enabled: true, created: 2 });
    now += 1001;
    vault.script = [{ status: 503 }];
    expect((await k.wrap(randomBytes(32))).kekId).toMatch(/\/v1$/); // stale but working
    now += 30_001;
    expect((await k.wrap(randomBytes(32))).kekId).toMatch(/\/v2$/);
  });
});

describe('KeyVaultKek unwrap', () => {
  const wrappedBy = async (k: KeyVaultKek) => k.wrap(randomBytes(32));

  it('matches any versioned Key Vault key id, allowed or not', () => {
    const k = kek();
    const bytes = new Uint8Array(256);
    expect(k.matches({ kekId: `${VAULT}/keys/kek/v1`, alg: 'RSA-OAEP-256', bytes })).toBe(true);
    expect(k.matches({ kekId: 'https://evil.example/keys/kek/v1', alg: 'RSA-OAEP-256', bytes })).toBe(true);
    expect(k.matches({ kekId: `${VAULT}/keys/kek`, alg: 'RSA-OAEP-256', bytes })).toBe(false);
    expect(k.matches({ kekId: 'local/aes/1', alg: 'A256KW', bytes })).toBe(false);
    expect(k.matches(null as never)).toBe(false);
  });

  it.each([
    ['another host', 'https://evil.example/keys/kek/v1'],
    ['another port', 'https://unit.vault.test:8443/keys/kek/v1'],
    ['another key', `${VAULT}/keys/other/v1`],
    ['a suffix host', 'https://unit.vault.test.evil.example/keys/kek/v1'],
    ['plain http', 'http://unit.vault.test/keys/kek/v1'],
    ['a query string', `${VAULT}/keys/kek/v1?x=1`],
  ])('refuses a kid naming %s with ERR_KEY_NOT_ALLOWED, sending nothing', async (_why, kekId) => {
    const k = kek();
    await expect(k.unwrap({ kekId, alg: 'RSA-OAEP-256', bytes: new Uint8Array(256) })).rejects.toMatchObject({ code: 'ERR_KEY_NOT_ALLOWED', kekId });
    expect(vault.requests).toEqual([]);
  });

  it('allows extra keys and vaults from allowedKeys', async () => {
    const k = kek({ allowedKeys: ['https://dr.example'] });
    vault.script = [];
    const wrapped = { kekId: 'https://DR.example/keys/any/v1', alg: 'RSA-OAEP-256', bytes: new Uint8Array(256) };
    await expect(k.unwrap(wrapped)).rejects.toBeInstanceOf(EnvelopeError);
    expect(vault.requests[0]).toBe('GET /keys/any/v1');
  });

  it.each([
    ['RSA1_5', 256], ['RSA-OAEP', 256], ['dir', 256], ['constructor', 256], ['RSA-OAEP-256', 255], ['A256KW', 30],
  ])('refuses alg %s / %i bytes with ERR_DECRYPTION_FAILED, sending nothing', async (alg, n) => {
    await expect(kek().unwrap({ kekId: `${VAULT}/keys/kek/v1`, alg, bytes: new Uint8Array(n) })).rejects.toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
    expect(vault.requests).toEqual([]);
  });

  it('unwraps through the versioned kid; the cold client GETs once', async () => {
    const k = kek();
    const wrapped = await Promise.all([1, 2, 3].map(() => wrappedBy(k)));
    vault.requests.length = 0;
    const deks = await Promise.all(wrapped.map((w) => k.unwrap(w)));
    expect(deks.map((d) => d.length)).toEqual([32, 32, 32]);
    expect(vault.requests).toEqual(['GET /keys/kek/v1', 'POST /keys/kek/v1/unwrapkey', 'POST /keys/kek/v1/unwrapkey', 'POST /keys/kek/v1/unwrapkey']);
  });

  it('unwraps with an expired version (Key Vault allows it; the SDK pre-check would not) through a remote-only client', async () => {
    const bytes = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32));
    vault.versions[0]!.exp = Math.floor(Date.now() / 1000) - 60;
    const k = kek();
    const w = { kekId: `${VAULT}/keys/kek/v1`, alg: 'RSA-OAEP-256', bytes };
    expect(await k.unwrap(w)).toHaveLength(32);
    expect(vault.requests).toEqual(['GET /keys/kek/v1', 'GET /keys/kek/v1', 'POST /keys/kek/v1/unwrapkey', 'POST /keys/kek/v1/unwrapkey']);
    expect(await k.unwrap(w)).toHaveLength(32);
    expect(vault.requests.slice(4)).toEqual(['POST /keys/kek/v1/unwrapkey']);
    await expect(k.wrap(randomBytes(32))).rejects.toMatchObject({ code: 'ERR_KEY_DISABLED' }); // but never wraps with it
  });

  it('maps a 400 to ERR_DECRYPTION_FAILED', async () => {
    const k = kek();
    await expect(k.unwrap({ kekId: `${VAULT}/keys/kek/v1`, alg: 'RSA-OAEP-256', bytes: new Uint8Array(256) })).rejects.toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
  });

  it('retries 429 without Retry-After and 503 itself, and the pipeline does not retry on its own', async () => {
    const k = kek();
    const w = await wrappedBy(k);
    vault.requests.length = 0;
    vault.script = [{ status: 429 }, { status: 503, headers: { 'retry-after': '0' } }];
    expect(await k.unwrap(w)).toHaveLength(32);
    // 429 (GET), 503 (GET), 200 (GET), unwrap
    expect(vault.requests).toEqual(['GET /keys/kek/v1', 'GET /keys/kek/v1', 'GET /keys/kek/v1', 'POST /keys/kek/v1/unwrapkey']);
  });

  it('stops after maxRetries with ERR_KEK_UNAVAILABLE naming the kid', async () => {
    const k = kek();
    const w = await wrappedBy(k);
    vault.requests.length = 0;
    vault.script = Array.from({ length: 10 }, () => ({ status: 429, body: { error: { code: 'Throttled', message: 'slow down' } } }));
    await expect(k.unwrap(w)).rejects.toMatchObject({ code: 'ERR_KEK_UNAVAILABLE', message: expect.stringContaining(w.kekId) });
    expect(vault.requests).toHaveLength(4);
  });

  it('times out with ERR_KEK_UNAVAILABLE, and an abort rejects with the caller reason', async () => {
    const k = kek({ timeoutMs: 50 });
    const w = await wrappedBy(k);
    vault.delayMs = 10_000;
    await expect(k.unwrap(w)).rejects.toMatchObject({ code: 'ERR_KEK_UNAVAILABLE', message: expect.stringMatching(/timed out after 50 ms/) });
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const p = kek().unwrap(w, { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 20);
    await expect(p).rejects.toBe(reason);
  });

  it('decrypts its own envelopes through EnvelopeClient (cold cache)', async () => {
    const k = kek();
    const envelope = await new EnvelopeClient({ keks: k }).encrypt(Buffer.from('hello'));
    const { plaintext } = await new EnvelopeClient({ keks: k }).decrypt(envelope);
    expect(Buffer.from(plaintext).toString()).toBe('hello');
  });
});
