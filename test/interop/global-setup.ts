import type { TestProject } from 'vitest/node';
import { ensurePythonEnv, type PythonEnv } from './python-env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    interopPython: PythonEnv;
  }
}

/**
 * Makes (or finds) the cached venv once for the whole interop run and hands it to the test files.
 * Where Python or the packages are missing, every interop test is skipped and this says why —
 * unless POLYPERSONA_INTEROP_REQUIRED=1, where a missing environment fails the run.
 */
export default async function setup(project: TestProject): Promise<void> {
  const env = await ensurePythonEnv();
  if ('skip' in env) {
    const message = `interop suite skipped: ${env.skip}`;
    if (process.env.POLYPERSONA_INTEROP_REQUIRED === '1') throw new Error(`${message} (POLYPERSONA_INTEROP_REQUIRED=1)`);
    console.warn(`\n${message}\n`);
  } else {
    const versions = Object.entries(env.versions).map(([n, v]) => `${n} ${v}`).join(', ');
    console.log(`\ninterop venv ${env.created ? `created in ${env.seconds.toFixed(1)} s` : `reused (verified in ${env.seconds.toFixed(1)} s)`}: ${env.python} (${versions})\n`);
  }
  project.provide('interopPython', env);
}
