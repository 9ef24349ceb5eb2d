import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assembleWat, kernelsModuleText, WASM_MODULES } from '../../scripts/wat.js';

describe('the committed WebAssembly kernels', () => {
  it('lists both kernel modules', () => {
    expect(WASM_MODULES.map((m) => m.constant).sort()).toEqual(['DEQUANT_KERNELS_WASM', 'OPTIMIZER_KERNELS_WASM']);
  });

  it.each(WASM_MODULES)('$target holds the bytes of $wat (npm run wasm regenerates them)', async (m) => {
    const wat = readFileSync(new URL(`../../${m.wat}`, import.meta.url), 'utf8');
    const committed = readFileSync(new URL(`../../${m.target}`, import.meta.url), 'utf8');
    expect(committed).toBe(kernelsModuleText(m, await assembleWat(m.wat.split('/').pop()!, wat)));
  });
});
