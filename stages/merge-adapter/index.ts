import type { StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';

const stage: StageDefinition<Record<string, never>> = {
  type: 'merge-adapter',
  version: 1,
  description: 'Merges a PEFT LoRA adapter into its base model (W + lora_alpha/r · B·A); writes a float model dir',
  produces: 'model',
  consumes: { model: { kinds: ['model'], transitive: true }, adapter: { kinds: ['adapter'] } },
  paramsSchema: readJsonAsset(import.meta.url, 'params.schema.json'),
  async run(ctx) {
    const { readPeftAdapter } = await import('../../src/model/generate/adapter.js');
    const { inspectModelDir } = await import('../../src/model/model-dir.js');
    const { mergeAdapterIntoModelDir } = await import('../../src/train/merge.js');
    const base = ctx.input('model', { transitive: true });
    const adapterRef = ctx.input('adapter');
    const adapter = readPeftAdapter(adapterRef.dir, inspectModelDir(base.dir).config); // checks shapes against the base
    ctx.progress(0, 1, 'merging');
    const merged = mergeAdapterIntoModelDir(base.dir, adapter, ctx.outDir);
    ctx.progress(1, 1, 'done');
    ctx.recordProvenance({ mergeAdapter: { base: base.dir, adapter: adapterRef.dir, scaling: adapter.scaling, mergedTensors: merged.length } });
  },
};

export default stage;
