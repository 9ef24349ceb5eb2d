import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every test file gets a private TMPDIR, removed when the file ends (no pp-* folders left behind).
    setupFiles: ['test/setup/private-tmpdir.ts'],
    // The interop suite needs Python; it has its own config (vitest.interop.config.ts, npm run test:interop).
    // The other-CPU check runs under qemu, ~1 min per training step: npm run test:cross-cpu.
    exclude: [...configDefaults.exclude, 'test/interop/**/*.interop.test.ts', 'test/cross-cpu/**/*.cross-cpu.test.ts'],
    // Model and training tests run ONNX Runtime sessions; the machine has 2 cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
