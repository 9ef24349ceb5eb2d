import { isAbsolute, resolve } from 'node:path';
import type { StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';
import type { LoraTrainParams } from './params.js';

const stage: StageDefinition<LoraTrainParams> = {
  type: 'lora-train',
  version: 4, // 2: per-layer training engine (float sums in another order than the single graph of version 1); 3: loss_curve.svg has step ticks; 4: a 4-bit base's forward is Gemm on host-dequantized weights (was MatMulNBits: last-bit differences)
  description: 'LoRA / QLoRA fine-tuning of a llama-family model on chatml data, on ONNX Runtime; writes a PEFT adapter (trainable: full trains every weight and writes a model)',
  reproducibility: 'float',
  produces: 'adapter',
  producesFor: (params) => (params.trainable === 'full' ? 'model' : 'adapter'),
  consumes: { model: { kinds: ['model'], transitive: true }, chatml: { kinds: ['chatml'] } },
  paramsSchema: readJsonAsset(import.meta.url, 'params.schema.json'),
  exclusive: true,
  fileDeps(params, pipelineDir) {
    if (!params.init_adapter) return [];
    return [isAbsolute(params.init_adapter) ? params.init_adapter : resolve(pipelineDir, params.init_adapter)];
  },
  async run(ctx) {
    const { runLoraTrain } = await import('./run.js');
    await runLoraTrain(ctx);
  },
};

export default stage;
