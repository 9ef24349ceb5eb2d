import { defineConfig } from 'vitest/config';

/**
 * The other-CPU check (`npm run test:cross-cpu`): the reduced smoke chain locked on this machine
 * and verified under qemu-x86_64 -cpu Haswell. Emulation makes one training step take about a
 * minute, so it is not part of `npm test` (vitest.config.ts excludes *.cross-cpu.test.ts); the
 * thread-count check that is (test/pipelines/reproducibility.test.ts) runs natively.
 */
export default defineConfig({
  test: {
    include: ['test/cross-cpu/**/*.cross-cpu.test.ts'],
    setupFiles: ['test/setup/private-tmpdir.ts'],
    testTimeout: 3_600_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    fileParallelism: false,
  },
});
