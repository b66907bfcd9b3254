import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Precondition: the root export must not load @azure/*, the local vault or the CLI (DESIGN.md). */
describe('export boundaries', () => {
  const dist = new URL('../../dist/', import.meta.url);

  function closure(entry: string): string[] {
    const seen = new Set<string>();
    const todo = [entry];
    while (todo.length > 0) {
      const file = todo.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const text = readFileSync(new URL(file, dist), 'utf8');
      for (const m of text.matchAll(/from\s*["'](\.\/[^"']+)["']|import\(["'](\.\/[^"']+)["']\)/g)) todo.push((m[1] ?? m[2])!.slice(2));
    }
    return [...seen];
  }

  it('the root ESM entry and its chunks import nothing from @azure or the local vault', () => {
    const files = closure('index.js');
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const text = readFileSync(new URL(f, dist), 'utf8');
      expect(text, f).not.toMatch(/["']@azure\//);
      expect(text, f).not.toMatch(/local-vault|LocalKeyVault/);
    }
  });

  it('the azure entry does import the Azure SDK (the check above can fail)', () => {
    const text = closure('azure.js').map((f) => readFileSync(new URL(f, dist), 'utf8')).join('\n');
    expect(text).toMatch(/["']@azure\/keyvault-keys["']/);
    expect(readdirSync(dist)).toContain('azure.cjs');
  });
});
