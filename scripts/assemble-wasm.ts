/**
 * `npm run wasm`: assembles each .wat of WASM_MODULES (WebAssembly text, the readable source:
 * src/train/optimizer-kernels.wat, src/model/quantize/dequant-kernels.wat) into the .wasm.ts beside
 * it (the bytes, base64, committed), so that neither the build nor an install needs an assembler.
 * test/train/optimizer-wasm.test.ts and test/model/quantize/dequant-wasm.test.ts check they agree.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assembleWat, kernelsModuleText, WASM_MODULES } from './wat.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const m of WASM_MODULES) {
  const target = join(root, m.target);
  const bytes = await assembleWat(m.wat.split('/').pop()!, readFileSync(join(root, m.wat), 'utf8'));
  writeFileSync(`${target}.tmp`, kernelsModuleText(m, bytes));
  renameSync(`${target}.tmp`, target);
  console.log(`${m.target}: ${bytes.length} bytes`);
}
