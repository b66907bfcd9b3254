/**
 * Property: vaults sharing one state file behave like one vault. For any batch of creates,
 * rotates, deletes and role assignments issued concurrently through any of three vaults on one
 * file (the adversary: several writers each holding an older view), a vault started afterwards
 * from the file holds exactly the model's keys, version counts, deleted keys and roles.
 */
import { KeyClient } from '@azure/keyvault-keys';
import fc from 'fast-check';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { FAST_RETRY } from '../helpers/local-vault.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kv-state-prop-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const BASE = ['b0', 'b1', 'b2'];
type Op = { vault: number; kind: 'create'; name: string } | { vault: number; kind: 'rotate' | 'delete'; base: number } | { vault: number; kind: 'role'; principal: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ vault: fc.nat(2), kind: fc.constant('create' as const), name: fc.constant('') }),
  fc.record({ vault: fc.nat(2), kind: fc.constant('rotate' as const), base: fc.nat(2) }),
  fc.record({ vault: fc.nat(2), kind: fc.constant('delete' as const), base: fc.nat(2) }),
  fc.record({ vault: fc.nat(2), kind: fc.constant('role' as const), principal: fc.constantFrom('p1', 'p2', 'p3') }),
);

const client = (v: LocalKeyVault): KeyClient => new KeyClient(v.url, v.credential(), { ...v.clientOptions, ...FAST_RETRY });

describe('local vault state file shared by concurrent vaults (property)', () => {
  it('ends in the model state for any concurrent batch', { timeout: 300_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 10 }), async (ops) => {
        const file = join(dir, `vault-${n++}.json`);
        const vaults = await Promise.all([0, 1, 2].map(() => LocalKeyVault.start({ stateFile: file, operationDelayMs: 0 })));
        const clients = vaults.map(client);
        for (const name of BASE) await clients[0]!.createEcKey(name);
        // Model. A delete and a rotate of the same key do not commute: delete only keys nobody rotates.
        const rotated = new Set(ops.flatMap((o) => (o.kind === 'rotate' ? [o.base] : [])));
        const runnable = ops.filter((o) => o.kind !== 'delete' || !rotated.has(o.base));
        const deleted = new Set(runnable.flatMap((o) => (o.kind === 'delete' ? [BASE[o.base]!] : [])));
        const versions = new Map(BASE.map((b) => [b, 1]));
        const created: string[] = [];
        const roles = new Set<string>();
        runnable.forEach((o, i) => {
          if (o.kind === 'create') created.push(`c${i}`);
          if (o.kind === 'rotate') versions.set(BASE[o.base]!, versions.get(BASE[o.base]!)! + 1);
          if (o.kind === 'role') roles.add(o.principal);
        });
        const deletedOnce = new Set<string>();
        await Promise.all(
          runnable.map(async (o, i) => {
            const c = clients[o.vault]!;
            if (o.kind === 'create') await c.createEcKey(`c${i}`);
            else if (o.kind === 'rotate') await c.rotateKey(BASE[o.base]!);
            else if (o.kind === 'role') vaults[o.vault]!.assignRole(o.principal, 'Key Vault Reader');
            else if (!deletedOnce.has(BASE[o.base]!)) {
              deletedOnce.add(BASE[o.base]!);
              await (await c.beginDeleteKey(BASE[o.base]!, { intervalInMs: 1 })).pollUntilDone();
            }
          }),
        );
        await Promise.all(vaults.map((v) => v.close()));
        const check = await LocalKeyVault.start({ stateFile: file });
        try {
          const c = client(check);
          const active: string[] = [];
          for await (const p of c.listPropertiesOfKeys()) active.push(p.name);
          const expected = [...BASE.filter((b) => !deleted.has(b)), ...created].sort();
          expect(active.sort()).toEqual(expected);
          for (const b of BASE.filter((x) => !deleted.has(x))) {
            let count = 0;
            for await (const _ of c.listPropertiesOfKeyVersions(b)) count++;
            expect(count, b).toBe(versions.get(b));
          }
          const gone: string[] = [];
          for await (const d of c.listDeletedKeys()) gone.push(d.name);
          expect(gone.sort()).toEqual([...deleted].sort());
          const state = JSON.parse(await readFile(file, 'utf8')) as { roleAssignments: { principal: string }[] };
          expect(new Set(state.roleAssignments.map((a) => a.principal))).toEqual(roles);
        } finally {
          await check.close();
        }
      }),
      { numRuns: 25 },
    );
  });

  it('reads a version 1 state file (written before generations) and writes it back as version 2', async () => {
    const file = join(dir, `v1-${n++}.json`);
    const first = await LocalKeyVault.start({ stateFile: file });
    await client(first).createEcKey('old');
    first.assignRole('dave', 'Key Vault Reader');
    await first.close();
    const v2 = JSON.parse(await readFile(file, 'utf8')) as { vault: Record<string, unknown>; roleAssignments: unknown[]; objects: { keys: unknown[] } };
    const v1 = { format: 'kv-envelope/local-vault-state', version: 1, ...v2.vault, keys: v2.objects.keys, roleAssignments: v2.roleAssignments };
    await writeFile(file, JSON.stringify(v1), { mode: 0o600 });
    const second = await LocalKeyVault.start({ stateFile: file });
    try {
      expect((await client(second).getKey('old')).name).toBe('old');
      await client(second).createEcKey('new');
      const written = JSON.parse(await readFile(file, 'utf8')) as { version: number; objects: { keys: { name: string }[] }; roleAssignments: { principal: string }[] };
      expect(written.version).toBe(2);
      expect(written.objects.keys.map((k) => k.name).sort()).toEqual(['new', 'old']);
      expect(written.roleAssignments.map((a) => a.principal)).toEqual(['dave']);
    } finally {
      await second.close();
    }
  });
});
