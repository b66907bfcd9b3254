/**
 * Where the conformance suite runs: the local vault (in-process and HTTPS) in every `npm test`,
 * and a real Azure Key Vault when `AZURE_KEYVAULT_URL` is set (with `DefaultAzureCredential`
 * from @azure/identity: `az login`, environment variables, managed identity, ...). Every test
 * talks to its target through the public Azure clients (or, for wire-level checks, through a
 * plain HTTP request carrying the same credential's token), so a behaviour that differs between
 * the local vault and Azure fails here the first time someone has a vault.
 *
 * Tests that need the vault clock or local-only knobs take a `local` target only; they say so
 * in their names ("(local only)").
 */
import type { TokenCredential } from '@azure/core-auth';
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient,
  type HttpMethods,
  type PipelinePolicy,
} from '@azure/core-rest-pipeline';
import type { CertificateClient } from '@azure/keyvault-certificates';
import type { KeyClient } from '@azure/keyvault-keys';
import type { SecretClient } from '@azure/keyvault-secrets';
import { randomBytes } from 'node:crypto';
import { it } from 'vitest';
import { LocalKeyVault, type LocalKeyVaultOptions } from '../../src/local-vault/index.js';

/** The real vault's URL, when the suite should also run against Azure. */
export const AZURE_VAULT_URL = process.env.AZURE_KEYVAULT_URL ?? '';

/** Why the Azure runs are skipped, printed in their describe names. */
export const AZURE_SKIP_REASON = 'skipped: set AZURE_KEYVAULT_URL (and az login or AZURE_* credentials) to run against Azure Key Vault';

/** Without AZURE_KEYVAULT_URL: one skipped test per file saying why Azure was not a target. */
export function noticeAzureSkipped(suite: string): void {
  if (!AZURE_VAULT_URL) it.skip(`${suite} (azure): ${AZURE_SKIP_REASON}`, () => undefined);
}

/** A vault under test. */
export interface Target {
  /** `local in-process`, `local https`, or `azure`. */
  readonly name: string;
  readonly url: string;
  readonly credential: TokenCredential;
  /** Options for every Azure client (plus `additionalPolicies` of a test's own). */
  readonly clientOptions: Record<string, unknown>;
  /** The local vault (clock, stats, knobs), `undefined` against Azure. */
  readonly local: LocalKeyVault | undefined;
  /** A fresh object name, unique per run (Azure vaults are shared and keep names 90 days). */
  unique(prefix: string): string;
  /** Names this run created (the Azure run deletes and purges them at the end). */
  readonly created: Set<string>;
  close(): Promise<void>;
}

/** The kinds of target a describe block can run on. */
export type TargetKind = 'in-process' | 'https' | 'azure';

/** The targets of this run: the two local transports, plus Azure when configured. */
export const TARGET_KINDS: readonly TargetKind[] = AZURE_VAULT_URL ? ['in-process', 'https', 'azure'] : ['in-process', 'https'];

function uniqueNames(created: Set<string>): (prefix: string) => string {
  const run = randomBytes(3).toString('hex');
  return (prefix) => {
    const name = `${prefix}-${run}-${created.size}`;
    created.add(name);
    return name;
  };
}

/** Starts (local) or connects to (azure) a target. `local` options apply to local targets only. */
export async function openTarget(kind: TargetKind, local: LocalKeyVaultOptions = {}): Promise<Target> {
  const created = new Set<string>();
  if (kind === 'azure') {
    const { DefaultAzureCredential } = await import('@azure/identity');
    return { name: 'azure', url: AZURE_VAULT_URL.replace(/\/$/, ''), credential: new DefaultAzureCredential(), clientOptions: {}, local: undefined, unique: uniqueNames(created), created, close: async () => undefined };
  }
  const vault = await LocalKeyVault.start({ transport: kind, ...local });
  return {
    name: `local ${kind}`,
    url: vault.url,
    credential: vault.credential(),
    clientOptions: { ...vault.clientOptions },
    local: vault,
    unique: uniqueNames(created),
    created,
    close: () => vault.close(),
  };
}

/** Client options of `target` with `policy` added on every request (e.g. to count polls). */
export function withPolicy(target: Target, policy: PipelinePolicy): Record<string, unknown> {
  return { ...target.clientOptions, additionalPolicies: [{ policy, position: 'perCall' }] };
}

/** A policy that records `METHOD path` of every request it sees. */
export function recordingPolicy(log: string[]): PipelinePolicy {
  return {
    name: 'conformance-recorder',
    async sendRequest(request, next) {
      log.push(`${request.method} ${new URL(request.url).pathname}`);
      return next(request);
    },
  };
}

/** A response of {@link rawRequest}. */
export interface RawResponse {
  status: number;
  json: any;
}

/**
 * One request outside the SDK (for wire-level checks: api-version, raw paths), with the
 * target's credential. `path` includes the query.
 */
export async function rawRequest(target: Target, method: HttpMethods, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  const token = await target.credential.getToken('https://vault.azure.net/.default');
  const request = createPipelineRequest({
    url: `${target.url}${path}`,
    method,
    headers: createHttpHeaders({ 'content-type': 'application/json', authorization: `Bearer ${token?.token ?? ''}`, ...headers }),
  });
  if (body !== undefined) request.body = JSON.stringify(body);
  const options = target.clientOptions as { httpClient?: HttpClient; tlsOptions?: { ca: string } };
  if (options.tlsOptions) request.tlsSettings = { ca: options.tlsOptions.ca };
  const response = await (options.httpClient ?? createDefaultHttpClient()).sendRequest(request);
  const text = response.bodyAsText ?? '';
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

/**
 * Deletes and purges every object this run created on Azure (best effort; the local vault is
 * simply closed). Objects already gone are skipped.
 */
export async function cleanUp(target: Target, clients: { keys?: KeyClient; secrets?: SecretClient; certificates?: CertificateClient }): Promise<void> {
  if (target.local === undefined) {
    for (const name of target.created) {
      const { keys, secrets, certificates } = clients;
      if (certificates) await certificates.beginDeleteCertificate(name).then((p) => p.pollUntilDone()).catch(() => undefined);
      if (certificates) await certificates.purgeDeletedCertificate(name).catch(() => undefined);
      if (keys) await keys.beginDeleteKey(name).then((p) => p.pollUntilDone()).catch(() => undefined);
      if (keys) await keys.purgeDeletedKey(name).catch(() => undefined);
      if (secrets) await secrets.beginDeleteSecret(name).then((p) => p.pollUntilDone()).catch(() => undefined);
      if (secrets) await secrets.purgeDeletedSecret(name).catch(() => undefined);
    }
  }
  await target.close();
}
