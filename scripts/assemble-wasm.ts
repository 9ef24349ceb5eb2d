/**
 * `npm run wasm`: assembles src/train/optimizer-kernels.wat (WebAssembly text, the readable source)
 * into src/train/optimizer-kernels.wasm.ts (the bytes, base64, committed), so that neither the build
 * nor an install needs an assembler. test/train/optimizer-wasm.test.ts checks the two agree.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assembleWat, optimizerKernelsModuleText } from './wat.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'src/train/optimizer-kernels.wasm.ts');
const bytes = await assembleWat('optimizer-kernels.wat', readFileSync(join(root, 'src/train/optimizer-kernels.wat'), 'utf8'));
writeFileSync(`${target}.tmp`, optimizerKernelsModuleText(bytes));
renameSync(`${target}.tmp`, target);
console.log(`src/train/optimizer-kernels.wasm.ts: ${bytes.length} bytes`);
