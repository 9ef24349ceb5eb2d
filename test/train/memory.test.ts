import { describe, expect, it } from 'vitest';
import { presetConfig } from '../../src/model/presets.js';
import { UserError } from '../../src/core/errors.js';
import { estimateTrainingMemory, requireTrainingMemory } from '../../src/train/memory.js';
import { resolveTargetModules } from '../../src/train/lora.js';
import { parseModelConfig } from '../../src/model/config.js';

const GiB = 2 ** 30;
const tinyllama = presetConfig('tinyllama-1.1b');
const recipe = { r: 16, dropout: true, blockSize: 32 };

describe('training memory estimate', () => {
  it('is the sum of its parts, grows with the batch and the sequence, and is smaller for a 4-bit base', () => {
    const e = estimateTrainingMemory(tinyllama, { ...recipe, batchSize: 4, seqLength: 256, quantizedBits: 4 });
    expect(e.totalBytes).toBe(Math.round(1.1 * (e.weightBytes + e.activationBytes + e.lossBytes + e.workingBytes)));
    const b2 = estimateTrainingMemory(tinyllama, { ...recipe, batchSize: 2, seqLength: 256, quantizedBits: 4 });
    const t128 = estimateTrainingMemory(tinyllama, { ...recipe, batchSize: 4, seqLength: 128, quantizedBits: 4 });
    expect(b2.totalBytes).toBeLessThan(e.totalBytes);
    expect(t128.totalBytes).toBeLessThan(e.totalBytes);
    expect(b2.weightBytes).toBe(e.weightBytes);
    const fp32 = estimateTrainingMemory(tinyllama, { ...recipe, batchSize: 4, seqLength: 256 });
    expect(fp32.weightBytes).toBeGreaterThan(2 * e.weightBytes);
  });

  it('counts only the adapted modules and dropout masks only with dropout', () => {
    const all = estimateTrainingMemory(tinyllama, { ...recipe, batchSize: 4, seqLength: 256, quantizedBits: 4 });
    const qv = estimateTrainingMemory(tinyllama, { ...recipe, batchSize: 4, seqLength: 256, quantizedBits: 4, targetModules: ['q_proj', 'v_proj'] });
    const noDrop = estimateTrainingMemory(tinyllama, { ...recipe, dropout: false, batchSize: 4, seqLength: 256, quantizedBits: 4 });
    expect(qv.activationBytes).toBeLessThan(all.activationBytes);
    expect(qv.workingBytes).toBeLessThan(all.workingBytes);
    // masks: one byte per token, layer and adapted input feature (Σ in = 17,920 for all seven)
    expect(all.activationBytes - noDrop.activationBytes).toBe(4 * 256 * 22 * 17_920);
  });

  it('stays at or above the peak RSS measured by `npm run bench -- train` (TinyLlama-1.1B shape, int4, batch 4 × 256), within 25 %', () => {
    // Measured 2026-11-26 with `POLYPERSONA_BENCH_STEPS=2 npm run bench -- train` (docs/training.md, Benchmark): 5.06–5.23 GiB.
    const measured = MEASURED_INT4_PEAK_GIB * GiB;
    const e = estimateTrainingMemory(tinyllama, { ...recipe, batchSize: 4, seqLength: 256, quantizedBits: 4 });
    expect(e.totalBytes).toBeGreaterThanOrEqual(measured);
    expect(e.totalBytes).toBeLessThan(1.25 * measured);
  });
});

const MEASURED_INT4_PEAK_GIB = 5.23;

describe('training memory estimate of a small model (the whole-model step)', () => {
  const small = presetConfig('small-25m');
  // Peak RSS measured 2026-12-03 with `POLYPERSONA_BENCH_STEPS=2 npm run bench -- train step tiny small-25m` (docs/training.md).
  const cases = [
    { label: 'LoRA fp32', opts: {}, measuredGB: 1.6 },
    { label: 'LoRA int4', opts: { quantizedBits: 4 }, measuredGB: 1.64 },
    { label: 'full fp32', opts: { trainable: 'full' as const }, measuredGB: 1.55 },
  ];
  for (const c of cases)
    it(`stays at or above the peak RSS measured for small-25m at batch 4 × 256 (${c.label}), within 30 %`, () => {
      const e = estimateTrainingMemory(small, { ...recipe, batchSize: 4, seqLength: 256, ...c.opts });
      expect(e.totalBytes).toBeGreaterThanOrEqual(c.measuredGB * 1e9);
      expect(e.totalBytes).toBeLessThan(1.3 * c.measuredGB * 1e9);
    });

  it('counts the whole-model run only where the step runs one (a long context runs layer by layer)', () => {
    const at = (T: number) => estimateTrainingMemory(small, { ...recipe, batchSize: 1, seqLength: T });
    // 8 layers × 8 heads × T² × 4 bytes ≤ 64 MB up to T = 511 (maxPositions T + 1 = 512)
    expect(at(511).workingBytes - at(512).workingBytes).toBeGreaterThan(0);
  });
});

describe('training memory check', () => {
  const opts = { ...recipe, quantizedBits: 4 };
  const args = { per_device_train_batch_size: 4, gradient_accumulation_steps: 4 };
  const need = (b: number, t: number) => estimateTrainingMemory(tinyllama, { ...opts, batchSize: b, seqLength: t }).totalBytes;

  it('returns the estimate when it fits', () => {
    expect(requireTrainingMemory(tinyllama, opts, args, 256, need(4, 256))).toEqual(estimateTrainingMemory(tinyllama, { ...opts, batchSize: 4, seqLength: 256 }));
  });

  it('proposes the largest batch that fits with the accumulation that keeps the effective batch, in the pipeline\'s parameter names', () => {
    const check = () => requireTrainingMemory(tinyllama, opts, args, 256, need(2, 256));
    expect(check).toThrow(UserError);
    expect(check).toThrow(/per_device_train_batch_size 4 × 256 tokens needs about [\d.]+ GB, more than the [\d.]+ GB available \(max_memory_gb\)\. Fits: per_device_train_batch_size 2 with gradient_accumulation_steps 8 \(same effective batch ≈ 16\)/);
  });

  it('then a shorter max_seq_length at batch 1, then fewer adapted modules (4-bit base) or a quantized base (float base)', () => {
    expect(() => requireTrainingMemory(tinyllama, opts, args, 256, need(1, 64))).toThrow(/Fits: per_device_train_batch_size 1, gradient_accumulation_steps 16, max_seq_length 64/);
    expect(() => requireTrainingMemory(tinyllama, opts, args, 256, 1)).toThrow(/Even batch 1 with 8 tokens does not fit on this 4-bit base: adapt fewer modules \(target_modules; the LoRA tensors and their optimizer state take about 0\.282 GB\)/);
    expect(() => requireTrainingMemory(tinyllama, { ...opts, quantizedBits: undefined }, args, 256, 1)).toThrow(/Even batch 1 with 8 tokens does not fit: use a quantized base/);
  });
});

describe('training memory of the paper\'s other shapes', () => {
  const moe = presetConfig('qwen1.5-moe-a2.7b');
  const qlora = { r: 16, dropout: true, blockSize: 64, quantizedBits: 4, targetModules: resolveTargetModules(moe, 'all-linear') };

  it('Qwen1.5-MoE-A2.7B, QLoRA with the paper\'s recipe on all linears (int4 block 64): the figures docs/training.md states', () => {
    const at = (batchSize: number, seqLength: number) => estimateTrainingMemory(moe, { ...qlora, batchSize, seqLength });
    const b4 = at(4, 512), b1 = at(1, 512);
    expect(b4.totalBytes / GiB).toBeCloseTo(40.3, 1);
    expect(b4.weightBytes / GiB).toBeCloseTo(19.0, 1); // 14.3 B parameters: int4 codes twice (host, ORT's prepacked), one layer dequantized
    expect(b4.activationBytes / GiB).toBeCloseTo(6.37, 1);
    expect(b1.totalBytes / GiB).toBeCloseTo(32.8, 1);
    // Of the working set, the adapter: 255.6 M LoRA parameters (every expert's three projections), × 6 float32 buffers.
    expect(b4.workingBytes / GiB).toBeGreaterThan((6 * 4 * 255_613_824) / GiB);
  });

  it('on a 23 GB machine the stage refuses up front and says what to cut on a 4-bit base', () => {
    const args = { per_device_train_batch_size: 4, gradient_accumulation_steps: 4 };
    expect(() => requireTrainingMemory(moe, qlora, args, 512, 0.9 * 23 * 1e9)).toThrow(/needs about 40\.3 GB, more than the 19\.3 GB available \(max_memory_gb\)\. Even batch 1 with 8 tokens does not fit on this 4-bit base: adapt fewer modules \(target_modules; the LoRA tensors and their optimizer state take about 5\.71 GB\) or use a machine with more memory\./);
  });

  it('stays at or above the peak RSS measured for a 474 M-parameter MoE (8 layers × 32 experts, top 4), int4, LoRA on all linears, within 25 %', () => {
    // Measured 2026-12-02 with /usr/bin/time -v on `polypersona run --stage adapter` (docs/training.md): 2.26 GiB at batch 1, 3.04 GiB at batch 4, longest example 291 tokens.
    const cfg = parseModelConfig({
      model_type: 'qwen2_moe', vocab_size: 1024, hidden_size: 1024, intermediate_size: 2816, num_hidden_layers: 8, num_attention_heads: 16, num_key_value_heads: 2,
      rms_norm_eps: 1e-5, num_experts: 32, num_experts_per_tok: 4, moe_intermediate_size: 512, shared_expert_intermediate_size: 2048, max_position_embeddings: 1024,
    }, 'cal/config.json');
    const opts = { r: 16, dropout: true, blockSize: 64, quantizedBits: 4, targetModules: resolveTargetModules(cfg, 'all-linear') };
    for (const [batchSize, measuredGiB] of [[1, 2.258], [4, 3.040]] as const) {
      const e = estimateTrainingMemory(cfg, { ...opts, batchSize, seqLength: 291 });
      expect(e.totalBytes / GiB, `batch ${batchSize}`).toBeGreaterThanOrEqual(measuredGiB);
      expect(e.totalBytes / GiB, `batch ${batchSize}`).toBeLessThan(1.25 * measuredGiB);
    }
  });

  it('Phi-2, QLoRA on q, k, v, dense, fc1, fc2 at batch 4 × 512', () => {
    const phi = presetConfig('phi-2');
    expect(estimateTrainingMemory(phi, { r: 16, dropout: true, blockSize: 64, quantizedBits: 4, batchSize: 4, seqLength: 512 }).totalBytes / GiB).toBeCloseTo(15.2, 1);
  });
});
