import { describe, expect, it } from 'vitest';
import { compareStage, TENSOR_TOLERANCE } from '../../src/engine/compare-outputs.js';
import { flattenMetrics, summarisePredictions, summariseTensor } from '../../src/engine/store/output-summary.js';
import type { StageCheck } from '../../src/engine/store/index.js';
import { Prng } from '../../src/core/prng.js';

const FLOAT = { float: true, propagated: false, strict: false };
const BITWISE = { float: false, propagated: false, strict: false };

function weights(n: number, seed: number): Float32Array {
  const prng = new Prng(seed);
  return Float32Array.from({ length: n }, () => prng.normal() * 0.02);
}

function check(w: Float32Array, extra: Partial<StageCheck> = {}, sha = 'a'): StageCheck {
  return {
    files: { 'adapter_model.safetensors': sha.repeat(64), 'trainer_state.json': sha.repeat(64), ...(extra.files ?? {}) },
    tensors: { 'adapter_model.safetensors': { 'layers.0.q_proj.lora_A.weight': summariseTensor('layers.0.q_proj.lora_A.weight', [16, 64], w) } },
    ...(extra.metrics ? { metrics: extra.metrics } : {}),
  };
}

describe('tensor summaries', () => {
  it('norm is the L2 norm in float64; the projection moves by about the size of an element-wise change', () => {
    const w = weights(1024, 1);
    const s = summariseTensor('t', [1024], w);
    let sq = 0;
    for (const x of w) sq += x * x;
    expect(s.norm).toBeCloseTo(Math.sqrt(sq), 15);
    // Swapping two elements keeps the norm; the projection sees it unless their signs agree.
    let moved = 0;
    for (let i = 0; i + 1 < 64; i += 2) {
      const t = Float32Array.from(w);
      [t[i], t[i + 1]] = [t[i + 1]!, t[i]!];
      if (summariseTensor('t', [1024], t).proj !== s.proj) moved++;
    }
    expect(moved).toBeGreaterThan(8);
    // The same values give the same bits; another tensor name draws other signs.
    expect(summariseTensor('t', [1024], Float32Array.from(w))).toEqual(s);
    expect(summariseTensor('u', [1024], w).proj).not.toBe(s.proj);
  });
});

describe('compareStage', () => {
  it('identical when every file hash matches', () => {
    const w = weights(1024, 1);
    expect(compareStage(check(w), check(w), FLOAT)).toEqual({ verdict: 'identical' });
  });

  it('float weights off in the last bits: within tolerance, naming the worst tensor and the derived files', () => {
    const w = weights(1024, 1);
    const noisy = w.map((x, i) => (i % 7 === 0 ? x * (1 + 3e-7) : x));
    const c = compareStage(check(w), check(noisy, {}, 'b'), FLOAT);
    expect(c.verdict).toBe('within-tolerance');
    expect(c.largestDeviation).toMatch(/adapter_model\.safetensors: worst tensor layers\.0\.q_proj\.lora_A\.weight, relative deviation \d\.\d\de-[78]/);
    expect(c.derivedFiles).toEqual(['trainer_state.json']);
  });

  it('over the tolerance, or in a bitwise stage, or with --strict: different, with the first difference', () => {
    const w = weights(1024, 1);
    const moved = w.map((x, i) => (i === 5 ? x + 50 * TENSOR_TOLERANCE.rtol : x));
    expect(compareStage(check(w), check(moved, {}, 'b'), FLOAT)).toMatchObject({ verdict: 'different', firstDifference: expect.stringMatching(/tensor layers\.0\.q_proj\.lora_A\.weight deviates by .* over the tolerance/) });
    const noisy = w.map((x) => x * (1 + 1e-7));
    expect(compareStage(check(w), check(noisy, {}, 'b'), BITWISE)).toMatchObject({ verdict: 'different', firstDifference: expect.stringMatching(/bitwise-reproducible output whose inputs are identical/) });
    expect(compareStage(check(w), check(noisy, {}, 'b'), { ...FLOAT, strict: true })).toMatchObject({ verdict: 'different', firstDifference: expect.stringMatching(/^adapter_model\.safetensors: sha256/) });
    // ...but a bitwise stage downstream of a deviation is compared within tolerance (propagated).
    expect(compareStage(check(w), check(noisy, {}, 'b'), { ...BITWISE, propagated: true }).verdict).toBe('within-tolerance');
  });

  it('a derived file that differs while no compared output moved is different', () => {
    const w = weights(64, 2);
    const b = check(w);
    b.files['trainer_state.json'] = 'c'.repeat(64);
    expect(compareStage(check(w), b, FLOAT)).toMatchObject({ verdict: 'different', firstDifference: expect.stringMatching(/trainer_state\.json: .*no compared output of this stage moved/) });
  });

  it('a new or missing output file, a renamed or reshaped tensor are different', () => {
    const w = weights(64, 2);
    expect(compareStage(check(w), check(w, { files: { 'extra.txt': 'e'.repeat(64) } }), FLOAT).firstDifference).toMatch(/extra\.txt: not in the lock file/);
    const renamed = check(w, {}, 'b');
    renamed.tensors!['adapter_model.safetensors'] = { other: renamed.tensors!['adapter_model.safetensors']!['layers.0.q_proj.lora_A.weight']! };
    expect(compareStage(check(w), renamed, FLOAT).firstDifference).toMatch(/tensor layers\.0\.q_proj\.lora_A\.weight is missing|tensor other is new/);
    const reshaped = check(w, {}, 'b');
    reshaped.tensors!['adapter_model.safetensors']!['layers.0.q_proj.lora_A.weight']!.shape = '64x16';
    expect(compareStage(check(w), reshaped, FLOAT).firstDifference).toMatch(/shape 16x64 -> 64x16/);
  });

  it('metrics: within a per-metric tolerance, else the metric is named with both values', () => {
    const files = { 'metrics.json': 'a'.repeat(64) };
    const a: StageCheck = { files, metrics: { 'metrics.json': flattenMetrics({ overall: { bleu: 0.2, bertscore_f1: 0.85 } }) } };
    const near: StageCheck = { files: { 'metrics.json': 'b'.repeat(64) }, metrics: { 'metrics.json': flattenMetrics({ overall: { bleu: 0.2, bertscore_f1: 0.85003 } }) } };
    const far: StageCheck = { files: { 'metrics.json': 'b'.repeat(64) }, metrics: { 'metrics.json': flattenMetrics({ overall: { bleu: 0.21, bertscore_f1: 0.85 } }) } };
    expect(compareStage(a, near, FLOAT)).toMatchObject({ verdict: 'within-tolerance', largestDeviation: expect.stringMatching(/overall\.bertscore_f1 3\.00e-5/) });
    expect(compareStage(a, far, FLOAT)).toMatchObject({ verdict: 'different', firstDifference: expect.stringMatching(/metric overall\.bleu 0\.2 -> 0\.21/) });
  });

  it('predictions: the share of identical texts; other record ids are different', () => {
    const rows = (texts: string[]) => texts.map((t, i) => JSON.stringify({ id: `r${i}`, prediction: t })).join('\n');
    const p = (texts: string[], sha: string): StageCheck => ({ files: { 'predictions.jsonl': sha.repeat(64) }, predictions: { 'predictions.jsonl': summarisePredictions(rows(texts)) } });
    const c = compareStage(p(['a', 'b', 'c', 'd'], 'a'), p(['a', 'b', 'c', 'x'], 'b'), FLOAT);
    expect(c).toMatchObject({ verdict: 'within-tolerance', largestDeviation: 'predictions.jsonl: 3 of 4 texts identical (75.0 %)' });
    const other = p(['a', 'b', 'c', 'd'], 'b');
    other.predictions!['predictions.jsonl']!.ids = 'f'.repeat(16);
    expect(compareStage(p(['a', 'b', 'c', 'd'], 'a'), other, FLOAT).firstDifference).toMatch(/record ids differ/);
  });
});
