/**
 * The project's BERTScore against the bert-score algorithm (py/bertscore_ref.py, re-implemented
 * from bert-score's source) on a small random BERT and a small random RoBERTa that transformers wrote with save_pretrained:
 * several layers, idf on and off, baseline rescaling, empty and whitespace-only texts, batches
 * that pad differently. Tolerance 1e-6 absolute on P, R and F (scores lie in [−1, 1] before
 * rescaling; the rescaled scores to 1e-6 / (1 − b)).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interopPython, makeTempDir, readJson, runPython, StepTimes } from './harness.js';
import { projectBertScore } from './project.js';

interface Setting {
  name: string;
  model: 'bert' | 'roberta';
  num_layers: number;
  idf: boolean;
  baseline: [number, number, number] | null;
  P: number[];
  R: number[];
  F: number[];
  negative_similarities: number;
}
interface Reference {
  dirs: Record<'bert' | 'roberta', string>;
  candidates: string[];
  references: string[];
  files: string[];
  settings: Setting[];
}

const TOLERANCE = 1e-6;
const { python, skipReason } = interopPython();

describe.skipIf(!python)(`BERTScore against the bert-score algorithm on transformers' BertModel and RobertaModel ${skipReason}`, () => {
  const tmp = makeTempDir('bertscore');
  let ref: Reference;
  const measured: string[] = [];
  const times = new StepTimes();

  beforeAll(async () => {
    await times.time('bertscore_ref.py', () => runPython(python!, 'bertscore_ref.py', [tmp.dir], tmp.dir));
    ref = readJson<Reference>(join(tmp.dir, 'result.json'));
  });
  afterAll(() => {
    if (measured.length) console.log(`BERTScore, max |ours − bert-score| over P, R, F (tolerance ${TOLERANCE}):\n  ${measured.join('\n  ')}\n  wall time: ${times}`);
    tmp.remove();
  });

  it('the BERT dir is what save_pretrained writes (config, model.safetensors, tokenizer files)', () => {
    expect(ref.files).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']));
  });

  const names = ['bert-layer2', 'bert-layer2-idf', 'bert-layer4', 'bert-layer1-idf', 'bert-layer3-idf-baseline', 'roberta-layer2', 'roberta-layer3-idf-baseline'];
  for (const name of names) {
    it(`${name}: P, R, F match to ${TOLERANCE} (before rescaling)`, async () => {
      const s = ref.settings.find((x) => x.name === name)!;
      // Rescaling (x − b)/(1 − b) multiplies any difference by 1/(1 − b) (5.9 for RoBERTa-large's
      // b ≈ 0.83): the raw scores must agree to TOLERANCE, so the rescaled ones to TOLERANCE/(1 − b).
      const tolerance = TOLERANCE / Math.min(...(s.baseline ?? [0]).map((b) => 1 - b));
      const ours = await projectBertScore(ref.dirs[s.model], ref.candidates, ref.references, { numLayers: s.num_layers, idf: s.idf, baseline: s.baseline ?? undefined });
      let worst = 0;
      ours.forEach((o, i) => {
        worst = Math.max(worst, Math.abs(o.precision - s.P[i]!), Math.abs(o.recall - s.R[i]!), Math.abs(o.f1 - s.F[i]!));
      });
      measured.push(`${name}: ${worst.toExponential(2)}${s.baseline ? ` rescaled, ≈ ${(worst * Math.min(...s.baseline.map((b) => 1 - b))).toExponential(2)} before rescaling` : ''} (${ref.candidates.length} pairs; bert-score met ${s.negative_similarities} negative token similarities)`);
      expect(worst).toBeLessThan(tolerance);
      // Not vacuous: the pairs score differently from one another.
      expect(new Set(s.F.map((f) => f.toFixed(3))).size).toBeGreaterThan(5);
    });
  }
});
