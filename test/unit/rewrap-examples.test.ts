/**
 * The JSDoc examples of kv-envelope/rewrap, run: each block below is the example of one export
 * with its free names (sources, sinks, keys) bound to test fixtures.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvelopeClient, FieldEncryptor, FileKeyStore } from '../../src/index.js';
import {
  envelopeDigest, FileCheckpoint, replaceFileIfUnchanged, rewrapEnvelopes, rewrapKeyStore, rewrapResultToJSON, RewrapCheckpointError,
  verifyEnvelopes, type EnvelopeItem,
} from '../../src/rewrap/index.js';
import { aesKek } from '../helpers/keys.js';
import { makeEnvelopes, VersionedTestKek } from '../helpers/rewrap.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kv-envelope-rewrap-examples-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('kv-envelope/rewrap examples', () => {
  it('rewrapEnvelopes, rewrapResultToJSON and the module example', async () => {
    const kek = new VersionedTestKek();
    const blobs = new Map((await makeEnvelopes(kek, 30, 10)).map((i) => [i.id, i.envelope]));
    kek.rotate();
    const listBlobs = async function* (): AsyncGenerator<EnvelopeItem> {
      for (const [id, envelope] of [...blobs].sort(([a], [b]) => a.localeCompare(b))) yield { id, envelope };
    };
    const replaceBlob = async (id: string, envelope: Uint8Array) => void blobs.set(id, envelope);
    // A conditional write: only where the blob still holds the bytes the result came from.
    const replaceBlobIf = async (id: string, envelope: Uint8Array, sourceDigest: string) => {
      if (envelopeDigest(blobs.get(id)!) === sourceDigest) blobs.set(id, envelope);
    };
    const lines: string[] = [];
    const log = { log: (x: unknown) => lines.push(String(x)), error: (...x: unknown[]) => lines.push(x.join(' ')) };

    // --- example of rewrapEnvelopes ---
    const results = rewrapEnvelopes(listBlobs(), { to: [kek], checkpoint: join(root, 'rewrap.checkpoint.json'), onProgress: log.log });
    for await (const r of results) {
      if (r.status === 'rewrapped') await replaceBlobIf(r.id, r.envelope, r.sourceDigest); // durable before the next pull
      else if (r.status === 'failed') log.error(r.id, r.error.code);
    }
    // --- example of rewrapResultToJSON / the module ---
    for await (const result of rewrapEnvelopes(listBlobs(), { to: [kek] })) {
      if (result.status === 'rewrapped') await replaceBlob(result.id, result.envelope);
      log.log(JSON.stringify(rewrapResultToJSON(result)));
    }
    expect(lines.filter((l) => l.startsWith('{"id"'))).toHaveLength(30);
    expect(lines.every((l) => !l.includes('"failed"'))).toBe(true);
    const client = new EnvelopeClient({ keks: kek });
    for (const envelope of blobs.values()) await client.decrypt(envelope);
  });

  it('envelopeDigest, replaceFileIfUnchanged, verifyEnvelopes and the module example', async () => {
    const kek = new VersionedTestKek();
    const dir = join(root, 'files');
    await mkdir(dir);
    const paths: string[] = [];
    for (const item of await makeEnvelopes(kek, 4, 2)) {
      paths.push(join(dir, `${item.id}.kve`));
      await writeFile(paths.at(-1)!, item.envelope);
    }
    kek.rotate();
    const readEnvelopes = async function* (): AsyncGenerator<EnvelopeItem> {
      for (const id of paths) yield { id, envelope: await readFile(id) };
    };
    const warnings: string[] = [];
    const console = { warn: (x: string) => warnings.push(x), log: (...x: unknown[]) => warnings.push(x.join(' ')) };
    // --- example of replaceFileIfUnchanged ---
    for await (const r of rewrapEnvelopes(readEnvelopes(), { to: kek })) {
      if (r.status === 'rewrapped' && (await replaceFileIfUnchanged(r.id, r.envelope, r.sourceDigest)) !== 'replaced') {
        console.warn(`${r.id} changed while it was re-wrapped; left as it is`);
      }
    }
    expect(warnings).toEqual([]);
    // --- example of envelopeDigest ---
    const results = rewrapEnvelopes(readEnvelopes(), { to: kek });
    const readBlob = readFile;
    const writeBlob = writeFile;
    for await (const r of results) {
      if (r.status !== 'rewrapped') continue;
      if (envelopeDigest(await readBlob(r.id)) === r.sourceDigest) await writeBlob(r.id, r.envelope);
    }
    // --- example of verifyEnvelopes ---
    const listBlobs = readEnvelopes;
    const v = await verifyEnvelopes(listBlobs(), { to: kek });
    if (v.remaining === 0) console.log('old versions unused: safe to disable');
    else console.log(`${v.remaining} items still under`, v.byKekId);
    expect(warnings).toEqual(['old versions unused: safe to disable']);
    // --- the module example ---
    const { remaining } = await verifyEnvelopes(readEnvelopes(), { to: [kek] }); // 0: old versions unused
    expect(remaining).toBe(0);
  });

  it('rewrapKeyStore', async () => {
    const kek = aesKek('kek/v1');
    const store = new FileKeyStore({ directory: join(root, 'deks') });
    await new FieldEncryptor({ keks: kek, keyStore: store }).encryptText('x', { aad: 'a' });
    const newKek = aesKek('kek/v2');
    const errors: string[] = [];
    // --- example ---
    for await (const r of rewrapKeyStore(store, { to: [newKek], from: [kek], onProgress: () => undefined })) {
      if (r.status === 'failed') errors.push(`${r.id} ${r.error.code} ${r.error.message}`);
    }
    expect(errors).toEqual([]);
  });

  it('FileCheckpoint and RewrapCheckpointError', async () => {
    const kek = aesKek();
    const source = await makeEnvelopes(kek, 5, 5);
    const path = join(root, 'job-42.json');
    const stored: string[] = [];
    const store = async (r: { id: string }) => void stored.push(r.id);
    // --- example of FileCheckpoint ---
    const checkpoint = new FileCheckpoint(path);
    for await (const r of rewrapEnvelopes(source, { to: [aesKek()], from: [kek], checkpoint: { store: checkpoint } })) await store(r);
    expect((await checkpoint.load())?.complete).toBe(true);
    // --- example of RewrapCheckpointError (a checkpoint left half-way by other targets) ---
    await checkpoint.save({ ...(await checkpoint.load())!, complete: false, position: 1, lastId: source[0]!.id });
    let reported = '';
    try {
      for await (const r of rewrapEnvelopes(source, { to: [kek], checkpoint: path })) await store(r);
    } catch (err) {
      if (err instanceof RewrapCheckpointError) reported = `${err.message} (${err.code})`;
      else throw err;
    }
    expect(reported).toMatch(/ERR_REWRAP_CHECKPOINT/);
  });
});
