import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { FileKeyStore } from '../../src/store/file.js';
import { MemoryKeyStore } from '../../src/store/memory.js';
import { describeKeyStoreContract } from './key-store.contract.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describeKeyStoreContract('MemoryKeyStore', () => new MemoryKeyStore());

describeKeyStoreContract('FileKeyStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kv-envelope-store-'));
  dirs.push(dir);
  return new FileKeyStore({ directory: join(dir, 'keys') });
});
