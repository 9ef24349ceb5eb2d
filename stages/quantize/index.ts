import type { StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';

export interface QuantizeParams {
  bits: 4 | 8;
  block_size: 16 | 32 | 64 | 128 | 256;
  sym: boolean;
  accuracy_level: 0 | 1 | 2 | 3 | 4;
  eval_rows: number;
  eval_tokens: number;
}

const stage: StageDefinition<QuantizeParams> = {
  type: 'quantize',
  version: 2, // 2: quantize-report.json without the onnxruntime-measured logit error (provenance holds it)
  description: 'Block-wise 4/8-bit weight quantization of every linear layer (ONNX MatMulNBits); reports size and logit error',
  produces: 'model',
  consumes: { model: { kinds: ['model'] } },
  paramsSchema: readJsonAsset(import.meta.url, 'params.schema.json'),
  exclusive: true,
  async run(ctx) {
    const { join } = await import('node:path');
    const { writeFileAtomic } = await import('../../src/core/atomic.js');
    const { quantizeModelDir } = await import('../../src/model/quantize/model.js');
    const p = ctx.params;
    const source = ctx.input('model');
    ctx.progress(0, 2, 'quantizing');
    const started = performance.now();
    const report = await quantizeModelDir(
      source.dir,
      ctx.outDir,
      { bits: p.bits, blockSize: p.block_size, symmetric: p.sym, accuracyLevel: p.accuracy_level },
      { threads: ctx.threads, seed: ctx.seed, evalRows: p.eval_rows, evalTokens: p.eval_tokens, scratchDir: ctx.workDir },
    );
    ctx.signal.throwIfAborted();
    // The artifact holds results only: the logit-error figures come from onnxruntime float
    // reductions (they differ in the last bits on another CPU or thread count), so they go to
    // provenance (stage.json) and the content-hashed outputs stay bitwise reproducible.
    const { evaluation: _measured, ...results } = report;
    writeFileAtomic(join(ctx.outDir, 'quantize-report.json'), `${JSON.stringify(results, null, 2)}\n`);
    ctx.progress(2, 2, 'done');
    ctx.log.info(`quantized ${report.quantizedParameters} parameters to ${p.bits} bits: ${report.onnxFile} ${report.onnxBytes} bytes, max relative logit error ${report.evaluation.maxRelativeError.toExponential(2)}, top-1 agreement ${(100 * report.evaluation.top1Agreement).toFixed(1)}%`);
    ctx.recordProvenance({
      quantize: {
        source: source.dir,
        onnxFile: report.onnxFile,
        onnxBytes: report.onnxBytes,
        linearBytesFloat32: report.linearBytesFloat32,
        linearBytesQuantized: report.linearBytesQuantized,
        evaluation: report.evaluation,
        seconds: (performance.now() - started) / 1000,
        threads: ctx.threads,
        note: 'The outputs (quantized weights, quantize-report.json) are pure JS and bitwise reproducible on any machine; evaluation (logit error) is measured with onnxruntime float reductions and may differ in the last bits with another CPU or thread count, so it is kept here only.',
      },
    });
  },
};

export default stage;
