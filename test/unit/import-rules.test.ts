import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] as string);
}

describe('architecture', () => {
  it('the engine imports only the domain, itself and node:net — so it stays pure', () => {
    const engineDir = path.resolve('src/engine');
    const domainDir = path.resolve('src/domain');
    const offending: string[] = [];
    for (const file of sourceFiles(engineDir)) {
      for (const specifier of importsOf(file)) {
        if (specifier === 'node:net') continue;
        const target = specifier.startsWith('.') ? path.resolve(path.dirname(file), specifier) : specifier;
        const allowed = target.startsWith(engineDir + path.sep) || target.startsWith(domainDir + path.sep);
        if (!allowed) offending.push(`${path.relative('.', file)} imports ${specifier}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
