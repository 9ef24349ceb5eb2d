import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArtifactKind, ArtifactRef, StageContext, StageDefinition } from '../../src/engine/contract.js';
import { validateStageParams } from '../../src/engine/params.js';
import { UserError } from '../../src/core/errors.js';

/** A fresh temp directory for one test. */
export function tempDir(prefix = 'pp-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** An ArtifactRef for a directory a test made itself. */
export function artifact(kind: ArtifactKind, dir: string, stageId: string = kind, upstream: ArtifactRef[] = []): ArtifactRef {
  return { stageId, type: stageId, kind, dir, digest: `test-digest-${stageId}`, key: `test-key-${stageId}`, upstream };
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
  const inputs: Record<string, ArtifactRef> = {};
  for (const ref of options.inputs ?? []) inputs[ref.stageId] = ref;
  const run: TestStageRun<P> = { ctx: undefined as never, outDir, progress: [], logs: [], provenance: {} };
  const find = (kind: ArtifactKind, transitive: boolean): ArtifactRef[] => {
    let frontier = Object.values(inputs);
    while (frontier.length > 0) {
      const hits = frontier.filter((r) => r.kind === kind);
      if (hits.length > 0 || !transitive) return hits;
      frontier = frontier.flatMap((r) => r.upstream);
    }
    return [];
  };
  run.ctx = {
    stageId: definition.type,
    params: validated.params,
    inputs,
    input(kind, opts) {
      const hits = find(kind, opts?.transitive ?? false);
      if (hits.length !== 1) throw new UserError('stage-input', `stage "${definition.type}" needs exactly one "${kind}" input, found ${hits.length}`);
      return hits[0]!;
    },
    optionalInput(kind, opts) {
      const hits = find(kind, opts?.transitive ?? false);
      if (hits.length > 1) throw new UserError('stage-input', `stage "${definition.type}" needs at most one "${kind}" input, found ${hits.length}`);
      return hits[0];
    },
    outDir,
    workDir,
    pipelineDir: options.pipelineDir ?? root,
    seed: options.seed ?? 7,
    threads: options.threads ?? 1,
    progress: (done, total, note) => run.progress.push([done, total, note]),
    log: { info: (m) => run.logs.push(`info: ${m}`), warn: (m) => run.logs.push(`warn: ${m}`), debug: (m) => run.logs.push(`debug: ${m}`) },
    signal: options.signal ?? new AbortController().signal,
    recordProvenance: (fields) => Object.assign(run.provenance, fields),
  };
  return run;
}
