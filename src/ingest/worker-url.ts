import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const srcRoot = new URL('../', import.meta.url);
const distRoot = new URL('../../dist/', import.meta.url);

/**
 * The URL of a worker script that sits next to `moduleUrl`. From compiled code that is simply the
 * sibling `.js` file. Under vitest the modules are `.ts` sources, which a worker thread cannot load
 * (Node 20 has no TypeScript loader and vitest's transform does not reach workers), so the compiled
 * twin in dist/ is used instead — `npm test` builds first. A missing or older-than-source twin is
 * refused loudly rather than silently running stale code.
 */
export function workerUrl(moduleUrl: string, workerFile: string): URL {
  const sibling = new URL(workerFile, moduleUrl);
  if (!moduleUrl.endsWith('.ts')) return sibling;
  const compiled = new URL(sibling.href.slice(srcRoot.href.length), distRoot);
  const source = new URL(workerFile.replace(/\.js$/, '.ts'), moduleUrl);
  const compiledPath = fileURLToPath(compiled);
  if (!fs.existsSync(compiledPath)) {
    throw new Error(`worker ${compiledPath} is not built: run \`npm run build\` first`);
  }
  if (fs.statSync(compiledPath).mtimeMs < fs.statSync(source).mtimeMs) {
    throw new Error(`worker ${compiledPath} is older than its source: run \`npm run build\` first`);
  }
  return compiled;
}
