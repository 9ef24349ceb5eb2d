/**
 * The project's BERTScore against the bert-score algorithm (py/bertscore_ref.py, re-implemented
 * from bert-score's source) on a small random BERT that transformers wrote with save_pretrained:
 * several layers, idf on and off, baseline rescaling, empty and whitespace-only texts, batches
 * that pad differently. Tolerance 1e-6 absolute on P, R and F (scores lie in [−1, 1] before
 * rescaling).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interopPython, makeTempDir, readJson, runPython } from './harness.js';
import { projectBertScore } from './project.js';

interface Setting {
  name: string;
  num_layers: number;
  idf: boolean;
  baseline: [number, number, number] | null;
  P: number[];
  R: number[];
  F: number[];
  negative_similarities: number;
}
interface Reference {
  dir: string;
  candidates: string[];
  references: string[];
  files: string[];
  settings: Setting[];
}

const TOLERANCE = 1e-6;
const { python, skipReason } = interopPython();

describe.skipIf(!python)(`BERTScore against the bert-score algorithm on transformers' BertModel ${skipReason}`, () => {
  const tmp = makeTempDir('bertscore');
  let ref: Reference;
  const measured: string[] = [];

  beforeAll(async () => {
    await runPython(python!, 'bertscore_ref.py', [tmp.dir], tmp.dir);
    ref = readJson<Reference>(join(tmp.dir, 'result.json'));
  });
  afterAll(() => {
    if (measured.length) console.log(`BERTScore, max |ours − bert-score| over P, R, F (tolerance ${TOLERANCE}):\n  ${measured.join('\n  ')}`);
    tmp.remove();
  });

  it('the BERT dir is what save_pretrained writes (config, model.safetensors, tokenizer files)', () => {
    expect(ref.files).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']));
  });

  for (const name of ['layer2', 'layer2-idf', 'layer4', 'layer1-idf', 'layer3-idf-baseline']) {
    it(`${name}: P, R, F match to ${TOLERANCE}`, async () => {
      const s = ref.settings.find((x) => x.name === name)!;
      const ours = await projectBertScore(ref.dir, ref.candidates, ref.references, { numLayers: s.num_layers, idf: s.idf, baseline: s.baseline ?? undefined });
      let worst = 0;
      ours.forEach((o, i) => {
        worst = Math.max(worst, Math.abs(o.precision - s.P[i]!), Math.abs(o.recall - s.R[i]!), Math.abs(o.f1 - s.F[i]!));
      });
      measured.push(`${name}: ${worst.toExponential(2)} (${ref.candidates.length} pairs; bert-score met ${s.negative_similarities} negative token similarities)`);
      expect(worst).toBeLessThan(TOLERANCE);
      // Not vacuous: the pairs score differently from one another.
      expect(new Set(s.F.map((f) => f.toFixed(3))).size).toBeGreaterThan(5);
    });
  }
});
