/**
 * `kv-envelope vault time | role`: the local vault's clock (time travel) and its role
 * assignments, changed on the home's state file, which a running `vault serve` reloads before
 * its next request.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LocalKeyVault } from '../../local-vault/index.js';
import { positionals } from '../args.js';
import { UsageError } from '../errors.js';
import type { Output } from '../output.js';

/** The options `vault role` accepts. */
export const ROLE_OPTIONS = { scope: { type: 'string' }, 'role-definitions': { type: 'string' } } as const;

/** Reads `--role-definitions FILE`: one role definition or an array of them. */
export async function roleDefinitions(file: string | undefined): Promise<Record<string, unknown>[] | undefined> {
  if (file === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--role-definitions ${file}: ${(err as Error).message}`);
  }
  return (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[];
}

/** `vault role assign PRINCIPAL ROLE [--scope S] [--role-definitions FILE]`. */
export async function roleCommand(pos: string[], values: Record<string, unknown>, dir: string, out: Output): Promise<number> {
  const [action, ...args] = pos;
  if (action !== 'assign') throw new UsageError(`vault role is "assign PRINCIPAL ROLE", got ${action === undefined ? 'nothing' : `"${action}"`} (see: kv-envelope vault --help)`);
  const [principal, roleName] = positionals(args, ['principal', 'role'], 'vault role assign');
  const definitions = await roleDefinitions(values['role-definitions'] as string | undefined);
  const scope = values.scope as string | undefined;
  let vault: LocalKeyVault;
  try {
    vault = await LocalKeyVault.start({ stateFile: resolve(dir, 'vault.json'), events: { scanIntervalMs: 0 }, ...(definitions ? { roleDefinitions: definitions } : {}) });
  } catch (err) {
    if (err instanceof TypeError) throw new UsageError(err.message);
    throw err;
  }
  try {
    try {
      vault.assignRole(principal!, roleName!, scope);
    } catch (err) {
      throw new UsageError(`vault role assign: ${(err as Error).message}`);
    }
  } finally {
    await vault.close();
  }
  out.result(`assigned "${roleName}" to ${principal} on ${scope ?? 'the vault'}`, { principal, role: roleName, scope: scope ?? null });
  return 0;
}

/** `vault time show` and `vault time advance DURATION`. */
export async function timeCommand(pos: string[], dir: string, out: Output): Promise<number> {
  const [action, ...args] = pos;
  if (action !== 'show' && action !== 'advance') throw new UsageError(`vault time is "show" or "advance DURATION", got ${action === undefined ? 'nothing' : `"${action}"`} (see: kv-envelope vault --help)`);
  const [duration] = positionals(args, action === 'advance' ? ['duration'] : [], `vault time ${action}`);
  const vault = await LocalKeyVault.start({ stateFile: resolve(dir, 'vault.json'), events: { scanIntervalMs: 0 } });
  try {
    let clock;
    try {
      clock = action === 'advance' ? await vault.advanceTime(duration ?? '') : await vault.readClock();
    } catch (err) {
      throw new UsageError(`vault time advance: ${(err as Error).message}`);
    }
    const ahead = clock.offsetMs === 0 ? 'real time' : `${(clock.offsetMs / 86_400_000).toFixed(3).replace(/\.?0+$/, '')} days ahead of real time`;
    out.result(`vault clock: ${clock.now} (${ahead})`, clock);
  } finally {
    await vault.close();
  }
  return 0;
}
