// Worker entry for fuzz.test.ts: a worker's first module is loaded before `--import` hooks apply
// to it, so the TypeScript worker is loaded through tsx's API.
import { tsImport } from 'tsx/esm/api';

await tsImport('./fuzz-worker.ts', import.meta.url);
