/**
 * `npm run bench -- NAME [args]`: runs bench/NAME.ts, whose default export is an async function
 * taking the remaining arguments. Benchmarks print their figures beside a ceiling measured in
 * the same run; they are never part of `npm test`.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here).filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_')).map((f) => f.slice(0, -3));
const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- NAME [args]\nbenchmarks: ${available.join(', ') || '(none yet)'}`);
  process.exit(2);
}
const mod = (await import(pathToFileURL(`${here}/${name}.ts`).href)) as { default: (args: string[]) => Promise<void> };
await mod.default(args);
