/**
 * lora-train's optional generation metrics during evaluation (`eval_metrics_samples` > 0): the
 * current adapter answers the first N val records greedily, and the answers are scored against
 * the references with the score stage's per-record BLEU and ROUGE-L (means over the sample, 0–1).
 * Each evaluation writes the adapter into the work dir and builds a generation graph with it, so
 * it costs a model load: meant for small models and small samples.
 */
import { join } from 'node:path';
import { GREEDY } from '../../src/model/generate/sampling.js';
import { TextGenerator } from '../../src/model/generate/generator.js';
import { chatmlPrompt, chatmlReference, readChatmlSplit } from '../../src/formats/chatml.js';
import { bleu } from '../../src/metrics/bleu.js';
import { rougeL, rougeTokenize } from '../../src/metrics/rouge.js';
import { writeAdapter } from '../../src/train/adapter.js';
import type { LoraConfig, LoraSite, LoraTensors } from '../../src/train/lora.js';

export interface EvalMetricsSetup {
  modelDir: string;
  valFile: string;
  samples: number;
  maxNewTokens: number;
  lora: LoraConfig;
  sites: LoraSite[];
  baseName: string;
  workDir: string;
  threads: number;
  seed: number;
}

export function generationMetrics(setup: EvalMetricsSetup): (params: LoraTensors[]) => Promise<Record<string, number>> {
  const sample = readChatmlSplit(setup.valFile)
    .map((r) => ({ id: r.id, prompt: chatmlPrompt(r), reference: chatmlReference(r) }))
    .filter((r): r is { id: string; prompt: typeof r.prompt; reference: string } => r.reference !== null)
    .slice(0, setup.samples);
  return async (params): Promise<Record<string, number>> => {
    if (sample.length === 0) return {};
    const dir = join(setup.workDir, 'eval-adapter');
    writeAdapter(dir, setup.lora, setup.sites, params, setup.baseName);
    const generator = await TextGenerator.load(setup.modelDir, { adapterDir: dir, threads: setup.threads });
    try {
      const answers = await generator.generate(
        sample.map((r) => ({ ids: generator.encodeChat(r.prompt), label: r.id })),
        { ...GREEDY, maxNewTokens: setup.maxNewTokens, seed: setup.seed },
      );
      let sumBleu = 0, sumRouge = 0;
      answers.forEach((a, i) => {
        const reference = sample[i]!.reference;
        sumBleu += bleu(a.text, reference);
        sumRouge += rougeL(rougeTokenize(reference), rougeTokenize(a.text)).fmeasure;
      });
      return { bleu: sumBleu / sample.length, rougeL: sumRouge / sample.length };
    } finally {
      await generator.release();
    }
  };
}
