/** Pieces of `kv-envelope key`: key creation by type, display, a 404 test, waiting out a purge, and a TTY confirmation. */
import { createInterface } from 'node:readline/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KeyClient, KeyVaultKey } from '@azure/keyvault-keys';
import { intOption } from '../args.js';
import { CommandError, UsageError } from '../errors.js';

/** Creates NAME (or a new version of it) with the requested type and size or curve. */
export async function createKey(keys: KeyClient, name: string, kty: string, size: number | undefined, curve: string | undefined): Promise<KeyVaultKey> {
  switch (kty) {
    case 'RSA':
    case 'RSA-HSM':
      if (curve !== undefined) throw new UsageError('--curve applies to EC keys');
      if (size !== undefined && ![2048, 3072, 4096].includes(size)) throw new UsageError('--size for RSA is 2048, 3072 or 4096');
      return keys.createRsaKey(name, { keySize: size ?? 3072, hsm: kty === 'RSA-HSM' });
    case 'EC':
    case 'EC-HSM': {
      if (size !== undefined) throw new UsageError('--size applies to RSA and oct-HSM keys; use --curve for EC');
      const crv = curve ?? 'P-256';
      if (!['P-256', 'P-384', 'P-521', 'P-256K'].includes(crv)) throw new UsageError('--curve is P-256, P-384, P-521 or P-256K');
      return keys.createEcKey(name, { curve: crv, hsm: kty === 'EC-HSM' });
    }
    case 'oct-HSM':
      if (size !== undefined && ![128, 192, 256].includes(size)) throw new UsageError('--size for oct-HSM is 128, 192 or 256');
      return keys.createOctKey(name, { keySize: size ?? 256, hsm: true });
    default:
      throw new UsageError(`--kty is RSA, RSA-HSM, EC, EC-HSM or oct-HSM, got "${kty}"`);
  }
}

/** Checks --kty/--size/--curve before any vault call. */
export function checkCreateOptions(kty: string | undefined, size: string | undefined): void {
  if (kty !== undefined && !['RSA', 'RSA-HSM', 'EC', 'EC-HSM', 'oct-HSM'].includes(kty)) throw new UsageError(`--kty is RSA, RSA-HSM, EC, EC-HSM or oct-HSM, got "${kty}"`);
  intOption(size, 'size');
}

/** `undefined` for a 404 (the key is not there); rethrows anything else. */
export function notFound(err: unknown): undefined {
  if ((err as { statusCode?: unknown })?.statusCode === 404) return undefined;
  throw err;
}

/**
 * Waits until a purge has completed: Azure keeps the deleted object (and its name) for a few
 * seconds after answering the purge, and a re-create or restore meanwhile fails with 409
 * ObjectIsBeingDeleted. Polls `getDeleted` until it answers 404, for at most `timeoutMs`.
 */
export async function waitUntilPurged(getDeleted: () => Promise<unknown>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await getDeleted().catch(notFound)) !== undefined) {
    if (Date.now() > deadline) throw new CommandError('PURGE_PENDING', `${what} was purged but the vault still lists it after ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

/** Asks on the terminal whether the answer is `expected`; `undefined` when there is no terminal (then the caller requires --yes). */
export async function confirm(question: string, expected: string): Promise<boolean | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim() === expected;
  } finally {
    rl.close();
  }
}

/**
 * Before a purge without `--yes`: asks on the terminal for the object's name.
 *
 * @throws {UsageError} when there is no terminal to ask on, or the answer is not `name`.
 */
export async function confirmPurge(command: string, name: string, question: string): Promise<void> {
  const answer = await confirm(question, name);
  if (answer === undefined) throw new UsageError(`${command} is permanent: give --yes (there is no terminal to ask on)`);
  if (!answer) throw new UsageError(`not confirmed (the answer was not "${name}"): nothing purged`);
}

export function summary(key: KeyVaultKey) {
  return {
    name: key.name,
    id: key.id,
    version: key.properties.version,
    kty: key.keyType,
    curve: key.key?.crv,
    size: key.key?.n === undefined ? undefined : key.key.n.length * 8,
    keyOps: key.keyOperations,
    enabled: key.properties.enabled,
    createdOn: key.properties.createdOn,
  };
}

export function describe(key: KeyVaultKey): string {
  const s = summary(key);
  const shape = s.curve ?? (s.size === undefined ? '' : `${s.size}`);
  return `${s.name} ${s.kty} ${shape} version ${s.version}${s.enabled === false ? ' (disabled)' : ''}\n  id: ${s.id}\n  ops: ${(s.keyOps ?? []).join(', ')}`;
}
