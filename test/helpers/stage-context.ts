import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArtifactKind, ArtifactRef, StageContext, StageDefinition } from '../../src/engine/contract.js';
import { buildStageContext } from '../../src/engine/executor.js';
import { validateStageParams } from '../../src/engine/params.js';
import { UserError } from '../../src/core/errors.js';
import { testDigest, testKey } from './fingerprints.js';

const made: string[] = [];

/** A fresh temp directory for one test (removed by removeTempDirs). */
export function tempDir(prefix = 'pp-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes every directory tempDir (and so makeStageContext) made in this test file so far. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** An ArtifactRef for a directory a test made itself. */
export function artifact(kind: ArtifactKind, dir: string, stageId: string = kind, upstream: ArtifactRef[] = []): ArtifactRef {
  return { stageId, type: stageId, kind, dir, digest: testDigest(stageId), key: testKey(stageId), upstream };
}

export interface TestStageRun<P> {
  ctx: StageContext<P>;
  outDir: string;
  progress: Array<[number, number | undefined, string | undefined]>;
  logs: string[];
  provenance: Record<string, unknown>;
}

/**
 * Builds a StageContext the way the engine does (params validated against the stage's schema
 * with defaults filled), for calling `definition.run(ctx)` directly in a test. Throws a
 * UserError with the ajv issues when `rawParams` is invalid, so tests can assert on bad params.
 */
export function makeStageContext<P>(
  definition: StageDefinition<P>,
  rawParams: unknown,
  options: { inputs?: ArtifactRef[]; seed?: number; pipelineDir?: string; signal?: AbortSignal; threads?: number } = {},
): TestStageRun<P> {
  const validated = validateStageParams(definition, rawParams);
  if (!validated.ok) {
    throw new UserError('invalid-params', validated.issues.map((i) => `${i.pointer || '/'}: ${i.message}`).join('; '));
  }
  const root = tempDir();
  const outDir = join(root, 'out');
  const workDir = join(root, 'work');
  mkdirSync(outDir);
  mkdirSync(workDir);
  const run: TestStageRun<P> = { ctx: undefined as never, outDir, progress: [], logs: [], provenance: {} };
  // The engine's own context builder, so tests see exactly what a pipeline run gives a stage.
  run.ctx = buildStageContext(
    {
      stageId: definition.type,
      type: definition.type,
      params: validated.params as Record<string, unknown>,
      inputs: options.inputs ?? [],
      outDir,
      workDir,
      pipelineDir: options.pipelineDir ?? root,
      seed: options.seed ?? 7,
      threads: options.threads ?? 1,
    },
    {
      progress: (done, total, note) => run.progress.push([done, total, note]),
      log: (level, message) => run.logs.push(`${level}: ${message}`),
    },
    options.signal ?? new AbortController().signal,
    run.provenance,
  ) as StageContext<P>;
  return run;
}
