import { defineConfig } from 'vitest/config';

/**
 * The interop suite (`npm run test:interop`): checks against Python transformers / PEFT in a
 * venv that test/interop/global-setup.ts makes once and caches. Not part of `npm test`
 * (vitest.config.ts only includes *.test.ts; these files end in .interop.test.ts under
 * test/interop/, which vitest.config.ts excludes).
 */
export default defineConfig({
  test: {
    include: ['test/interop/**/*.interop.test.ts'],
    globalSetup: ['test/interop/global-setup.ts'],
    // A cold venv install is ~1 min; each Python script imports torch + transformers (~5 s).
    testTimeout: 300_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // One file at a time: each drives Python and ONNX Runtime, and the machine has 2 cores.
    poolOptions: { forks: { singleFork: true } },
    fileParallelism: false,
  },
});
