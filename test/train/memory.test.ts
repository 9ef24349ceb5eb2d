import { describe, expect, it } from 'vitest';
import { presetConfig } from '../../src/model/presets.js';
import { UserError } from '../../src/core/errors.js';
import { estimateTrainingMemory, requireTrainingMemory } from '../../src/train/memory.js';

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

  it('then a shorter max_seq_length at batch 1, then a quantized base', () => {
    expect(() => requireTrainingMemory(tinyllama, opts, args, 256, need(1, 64))).toThrow(/Fits: per_device_train_batch_size 1, gradient_accumulation_steps 16, max_seq_length 64/);
    expect(() => requireTrainingMemory(tinyllama, opts, args, 256, 1)).toThrow(/Even batch 1 with 8 tokens does not fit: use a quantized base/);
  });
});
