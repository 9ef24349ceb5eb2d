import { describe, expect, it } from 'vitest';
import { buildStageContext, type StageJob } from '../../src/engine/executor.js';
import type { ArtifactRef } from '../../src/engine/contract.js';
import { testDigest, testKey } from '../helpers/fingerprints.js';

const ref = (stageId: string, kind: string, upstream: ArtifactRef[] = []): ArtifactRef => ({ stageId, type: stageId, kind, dir: `/x/${stageId}`, digest: testDigest(stageId), key: testKey(stageId), upstream });

function ctxWith(inputs: ArtifactRef[]) {
  const job: StageJob = { stageId: 'gen', type: 'generate', params: {}, inputs, outDir: '/o', workDir: '/w', pipelineDir: '/p', seed: 1, threads: 1 };
  return buildStageContext(job, { progress: () => {}, log: () => {} }, new AbortController().signal, {});
}

describe('StageContext input lookup', () => {
  // base → quantized → adapter; base → chatml (for its chat template): generate needs [adapter, chatml].
  const base = ref('base', 'model');
  const quantized = ref('quantized', 'model', [base]);
  const chatml = ref('chatml', 'chatml', [ref('dataset', 'responses'), base]);
  const adapter = ref('adapter', 'adapter', [quantized, chatml]);

  it('finds a direct input by kind, and says which stage lacks it', () => {
    const ctx = ctxWith([adapter, chatml]);
    expect(ctx.input('chatml').stageId).toBe('chatml');
    expect(() => ctx.input('predictions')).toThrow(/stage "gen" needs a "predictions" input/);
    expect(ctx.optionalInput('predictions')).toBeUndefined();
  });

  it('transitive lookups are breadth first and refuse ambiguity', () => {
    const ctx = ctxWith([adapter, chatml]);
    // At depth 2 both quantized (behind adapter) and base (behind chatml) are models.
    expect(() => ctx.input('model', { transitive: true })).toThrow(/several "model" inputs \(quantized, base\)/);
  });

  it('`via` descends only through the named kinds', () => {
    const ctx = ctxWith([adapter, chatml]);
    expect(ctx.input('model', { transitive: true, via: ['adapter', 'model'] }).stageId).toBe('quantized');
    // A direct model input wins at depth 1 whatever `via` says.
    expect(ctxWith([quantized, chatml]).input('model', { transitive: true, via: ['adapter'] }).stageId).toBe('quantized');
  });

  it('records provenance as a copy', () => {
    const provenance: Record<string, unknown> = {};
    const job: StageJob = { stageId: 's', type: 't', params: {}, inputs: [], outDir: '/o', workDir: '/w', pipelineDir: '/p', seed: 1, threads: 1 };
    const ctx = buildStageContext(job, { progress: () => {}, log: () => {} }, new AbortController().signal, provenance);
    const fields = { files: ['a'] };
    ctx.recordProvenance(fields);
    fields.files.push('b');
    expect(provenance).toEqual({ files: ['a'] });
  });
});
