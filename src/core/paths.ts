import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InternalError } from './errors.js';

let cachedRoot: string | undefined;

/**
 * The package root (the folder with polypersona's package.json), found from this file whether
 * it runs from sources (src/core) or from the build (dist/src/core).
 */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'schemas'))) return (cachedRoot = dir);
    const up = dirname(dir);
    if (up === dir) throw new InternalError('polypersona: cannot find the package root (package.json + schemas/)');
    dir = up;
  }
}

/**
 * The path of a non-TypeScript asset (a JSON schema, a data table) that sits beside a module in
 * the source tree. `moduleUrl` is the caller's `import.meta.url`; from the build (dist/...) it maps
 * back to the source folder, so assets are never copied into dist.
 */
export function assetPath(moduleUrl: string, name: string): string {
  const root = packageRoot();
  let rel = relative(root, dirname(fileURLToPath(moduleUrl)));
  if (rel === 'dist' || rel.startsWith(`dist${sep}`)) rel = rel.slice('dist'.length + 1);
  return join(root, rel, name);
}

/** Reads and parses a JSON asset beside a module (see assetPath). */
export function readJsonAsset<T = unknown>(moduleUrl: string, name: string): T {
  const path = assetPath(moduleUrl, name);
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
