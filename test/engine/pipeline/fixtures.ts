import type { InputSpec, StageDefinition } from '../../../src/engine/contract.js';
import { StageRegistry } from '../../../src/engine/registry.js';
import command from '../../../stages/command/index.js';

/**
 * Stand-in stage definitions with the shapes the built-in stages declare (types, produces,
 * consumes, params schemas), so loader tests do not depend on any real stage.
 */
function stage(type: string, produces: string, properties: Record<string, unknown>, extra: Partial<StageDefinition> = {}, required: string[] = []): StageDefinition {
  return {
    type,
    version: 1,
    description: `test stand-in for ${type}`,
    produces,
    paramsSchema: { type: 'object', additionalProperties: false, required, properties },
    run: async () => {
      throw new Error('loader tests never run stages');
    },
    ...extra,
  };
}

const input = (kinds: string[], options: Omit<InputSpec, 'kinds'> = {}): InputSpec => ({ kinds, ...options });
const seed = { type: 'integer', minimum: 0, default: 0 };

export const testStages: StageDefinition[] = [
  stage('sample-personas', 'personas', { count: { type: 'integer', minimum: 1, default: 100 }, seed }),
  stage(
    'synthesize-responses',
    'responses',
    { teacher: { type: 'object', additionalProperties: false, properties: { kind: { enum: ['template', 'model'] } }, default: { kind: 'template' } } },
    { consumes: { personas: input(['personas']) } },
  ),
  stage(
    'build-chatml',
    'chatml',
    {
      split: {
        type: 'object',
        additionalProperties: false,
        properties: { train: { type: 'number' }, val: { type: 'number' }, test: { type: 'number' } },
        default: { train: 0.8, val: 0.1, test: 0.1 },
      },
    },
    { consumes: { responses: input(['responses']) } },
  ),
  stage('init-model', 'model', { preset: { enum: ['tiny', 'small'], default: 'tiny' }, seed }),
  stage('quantize', 'model', { bits: { enum: [4, 8], default: 4 }, block_size: { type: 'integer', default: 32 } }, { consumes: { model: input(['model']) } }),
  stage(
    'lora-train',
    'adapter',
    {
      model: { type: 'string' },
      r: { type: 'integer', minimum: 1, default: 8 },
      lora_alpha: { type: 'number', default: 16 },
      lora_dropout: { type: 'number', default: 0 },
      learning_rate: { type: 'number', default: 0.0002 },
      num_train_epochs: { type: 'number', default: 1 },
      target_modules: { type: 'array', items: { type: 'string' }, default: ['q_proj', 'v_proj'] },
    },
    { consumes: { model: input(['model']), data: input(['chatml']) }, exclusive: true },
  ),
  stage(
    'generate',
    'predictions',
    {
      split: { enum: ['train', 'val', 'test'], default: 'test' },
      temperature: { type: 'number', default: 1 },
      top_p: { type: 'number', default: 1 },
      max_new_tokens: { type: 'integer', default: 64 },
      seed,
    },
    { consumes: { adapter: input(['adapter']), data: input(['chatml']), base: input(['model'], { transitive: true }) }, exclusive: true },
  ),
  stage(
    'score',
    'scores',
    { metrics: { type: 'array', items: { enum: ['bleu', 'rouge', 'bertscore', 'distinct', 'survey'] }, default: ['bleu'] } },
    { consumes: { predictions: input(['predictions']) } },
  ),
  stage('report', 'report', { title: { type: 'string', default: 'Report' } }, { consumes: { scores: input(['scores']) } }),
  stage(
    'import-dataset',
    'responses',
    { path: { type: 'string' } },
    { fileDeps: (p: { path: string }) => [p.path] },
    ['path'],
  ),
  // The real command stage: its schema and its fileDeps (the `deps` list) are what the loader sees.
  command,
];

/** A trainer whose artifact kind follows its params (as lora-train with `trainable: full`). */
export const kindByParamsStage = stage('train-any', 'adapter', { trainable: { enum: ['lora', 'full'], default: 'lora' } }, {
  consumes: { model: input(['model']) },
  producesFor: (p: { trainable: string }) => (p.trainable === 'full' ? 'model' : 'adapter'),
});

export function testRegistry(): StageRegistry {
  const registry = new StageRegistry();
  for (const s of [...testStages, kindByParamsStage]) registry.register(s);
  return registry;
}

/** The example pipeline of DESIGN.md, verbatim. */
export const designExample = `version: 1
name: smoke
params: { seed: 7 }
stages:
  personas:
    uses: sample-personas
    with: { count: 40, seed: \${{ params.seed }} }
  dataset:
    uses: synthesize-responses
    needs: [personas]
    with: { teacher: { kind: template } }
  chatml:
    uses: build-chatml
    needs: [dataset]
    with: { split: { train: 0.8, val: 0.1, test: 0.1 } }
  base:
    uses: init-model
    with: { preset: tiny, seed: 7 }
  quantized:
    uses: quantize
    needs: [base]
    with: { bits: 4, block_size: 32 }
  adapter:
    uses: lora-train
    needs: [quantized, chatml]
    with: { r: 16, lora_alpha: 32, lora_dropout: 0.05, learning_rate: 2.0e-4, num_train_epochs: 3 }
  predictions:
    uses: generate
    needs: [adapter, chatml]
    with: { split: test, temperature: 0.7, top_p: 0.9, max_new_tokens: 128, seed: 7 }
  scores:
    uses: score
    needs: [predictions]
    with: { metrics: [bleu, rouge, bertscore, distinct, survey] }
  custom:
    uses: command            # any external tool, run through execa with \`sh -c\`, as GitHub Actions and DVC do
    run: python3 tools/extra.py --in \${{ stages.predictions.outputs.dir }} --out \${{ outputs.dir }}
    deps: [tools/extra.py]   # files whose content joins the stage key
`;
