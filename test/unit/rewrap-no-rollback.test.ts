/**
 * Re-wrap never rolls data back. The adversary: a concurrent writer that replaces an envelope
 * file (atomically, by rename, as every careful writer does) after the re-wrap read it and
 * before the re-wrapped result is stored. Before results carried `sourceDigest`, the job (and
 * the CLI) renamed the re-wrapped OLD content over the writer's new file: the new data was
 * lost with no error. Now the result names the bytes it came from and
 * `replaceFileIfUnchanged` (what the CLI uses) leaves a changed file alone.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvelopeClient } from '../../src/index.js';
import {
  envelopeDigest, replaceFileIfUnchanged, rewrapEnvelopes, rewrapResultToJSON, verifyEnvelopes, type ConditionalReplace, type EnvelopeItem,
} from '../../src/rewrap/index.js';
import { aesKek } from '../helpers/keys.js';
import { splitEnvelope, str, text } from '../helpers/rewrap.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kv-envelope-rewrap-cas-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const oldKek = aesKek('kek/old');
const newKek = aesKek('kek/new');
const writer = new EnvelopeClient({ keks: oldKek }); // the application, still on the old key

/** Writes `n` envelope files; returns their paths. */
async function makeFiles(prefix: string, n: number): Promise<string[]> {
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const path = join(dir, `${prefix}-${i}.kve`);
    await writeFile(path, await writer.encrypt(text(`${prefix} ${i} v1`)));
    paths.push(path);
  }
  return paths;
}

/** Replaces a file the way a careful writer does: temp file, then rename. */
async function replaceByRename(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString('hex')}.writer`;
  await writeFile(temp, bytes);
  await rename(temp, path);
}

describe('re-wrap does not roll back a concurrent writer', () => {
  it('a file replaced between read and write keeps the new content; the result is reported as changed', async () => {
    const paths = await makeFiles('race', 6);
    const victims = new Set([paths[1]!, paths[4]!]);
    // A source whose read of a victim triggers the replacement, right after the bytes were read.
    async function* source(): AsyncGenerator<EnvelopeItem> {
      for (const id of paths) {
        const envelope = await readFile(id);
        if (victims.has(id)) await replaceByRename(id, await writer.encrypt(text(`${id} v2 (the writer)`)));
        yield { id, envelope };
      }
    }
    const outcomes = new Map<string, ConditionalReplace>();
    for await (const r of rewrapEnvelopes(source(), { to: [newKek], from: [oldKek], concurrency: 3 })) {
      expect(r.status).toBe('rewrapped');
      if (r.status !== 'rewrapped') continue;
      expect(rewrapResultToJSON(r).sourceDigest).toBe(r.sourceDigest);
      outcomes.set(r.id, await replaceFileIfUnchanged(r.id, r.envelope, r.sourceDigest));
    }
    const reader = new EnvelopeClient({ keks: [oldKek, newKek] });
    for (const [i, path] of paths.entries()) {
      const bytes = await readFile(path);
      const plaintext = str((await reader.decrypt(bytes)).plaintext);
      if (victims.has(path)) {
        expect(outcomes.get(path)).toBe('changed');
        expect(plaintext).toBe(`${path} v2 (the writer)`); // the new content survived
        expect(splitEnvelope(bytes).wrappedKeys[0]!.kekId).toBe('kek/old');
      } else {
        expect(outcomes.get(path)).toBe('replaced');
        expect(plaintext).toBe(`race ${i} v1`);
        expect(splitEnvelope(bytes).wrappedKeys[0]!.kekId).toBe('kek/new');
      }
    }
    // The verification pass sees exactly the two files the writer put back under the old key.
    const read = async function* () {
      for (const id of paths) yield { id, envelope: await readFile(id) };
    };
    const v = await verifyEnvelopes(read(), { to: newKek });
    expect(v).toMatchObject({ checked: 6, current: 4, remaining: 2, malformed: 0, byKekId: { 'kek/old': 2 } });
    expect([...v.remainingIds].sort()).toEqual([...victims].sort());
    // A rerun re-wraps the writer's new content: nothing was lost, nothing is left behind.
    for await (const r of rewrapEnvelopes(read(), { to: [newKek], from: [oldKek] })) {
      if (r.status === 'rewrapped') expect(await replaceFileIfUnchanged(r.id, r.envelope, r.sourceDigest)).toBe('replaced');
    }
    expect((await verifyEnvelopes(read(), { to: newKek })).remaining).toBe(0);
    expect(str((await reader.decrypt(await readFile(paths[1]!))).plaintext)).toBe(`${paths[1]} v2 (the writer)`);
  });

  it('a file written in place (same inode) or removed meanwhile is not overwritten or recreated', async () => {
    const [inPlace, removed] = await makeFiles('other', 2);
    const results = new Map<string, { envelope: Uint8Array; sourceDigest: string }>();
    for await (const r of rewrapEnvelopes([inPlace!, removed!].map((id) => ({ id, envelope: readFileSync(id) })), { to: [newKek], from: [oldKek] })) {
      if (r.status === 'rewrapped') results.set(r.id, r);
    }
    const newer = await writer.encrypt(text('written in place'));
    await writeFile(inPlace!, newer); // same inode, new bytes
    await unlink(removed!);
    const a = results.get(inPlace!)!;
    expect(await replaceFileIfUnchanged(inPlace!, a.envelope, a.sourceDigest)).toBe('changed');
    expect(Buffer.from(await readFile(inPlace!)).equals(Buffer.from(newer))).toBe(true);
    const b = results.get(removed!)!;
    expect(await replaceFileIfUnchanged(removed!, b.envelope, b.sourceDigest)).toBe('removed');
    await expect(readFile(removed!)).rejects.toMatchObject({ code: 'ENOENT' });
    // No temp file is left behind either way.
    expect((await readdir(dir)).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });

  it('sourceDigest is the SHA-256 of the source bytes on every status; bad arguments are TypeErrors', async () => {
    const [good] = await makeFiles('digest', 1);
    const bytes = await readFile(good!);
    const items = [{ id: 'good', envelope: bytes }, { id: 'bad', envelope: randomBytes(20) }];
    const results = [];
    for await (const r of rewrapEnvelopes(items, { to: [newKek], from: [oldKek] })) results.push(r);
    expect(results.map((r) => [r.status, r.sourceDigest])).toEqual([
      ['rewrapped', envelopeDigest(bytes)],
      ['failed', envelopeDigest(items[1]!.envelope)],
    ]);
    expect(envelopeDigest(bytes)).toMatch(/^[0-9a-f]{64}$/);
    expect(() => envelopeDigest('x' as unknown as Uint8Array)).toThrow(TypeError);
    await expect(replaceFileIfUnchanged(good!, bytes, 'not-a-digest')).rejects.toThrow(TypeError);
    await expect(replaceFileIfUnchanged(good!, 'x' as unknown as Uint8Array, envelopeDigest(bytes))).rejects.toThrow(TypeError);
  });
});
