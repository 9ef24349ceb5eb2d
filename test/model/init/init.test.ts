import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.js';
import { expectedWeights } from '../../../src/model/architectures/index.js';
import { parseModelConfig, toHfConfigJson } from '../../../src/model/config.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fillNormal, initLlamaWeight, initLlamaWeights, lazyLlamaWeights } from '../../../src/model/init/index.js';
import { writeModelDir } from '../../../src/model/model-dir.js';
import { byteLevelTokenizerFiles } from '../../../src/model/tokenizer/index.js';
import { tempDir } from '../../helpers/stage-context.js';
import { parameterCount, presetConfig } from '../../../src/model/presets.js';
import { numel, toFloat32 } from '../../../src/model/tensor.js';

/** xoshiro128** and the polar method written out plainly, in float64, as the reference stream. */
function referenceNormals(seed: number, count: number, std: number): number[] {
  const p = new Prng(seed);
  const s = [p.nextU32(), p.nextU32(), p.nextU32(), p.nextU32()];
  const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;
  const next = () => {
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2] = (s[2]! ^ s[0]!) >>> 0; s[3] = (s[3]! ^ s[1]!) >>> 0; s[1] = (s[1]! ^ s[2]!) >>> 0; s[0] = (s[0]! ^ s[3]!) >>> 0;
    s[2] = (s[2]! ^ t) >>> 0; s[3] = rotl(s[3]!, 11);
    return result;
  };
  const out: number[] = [];
  while (out.length < count) {
    const u = (next() / 2 ** 32) * 2 - 1;
    const v = (next() / 2 ** 32) * 2 - 1;
    const r = u * u + v * v;
    if (r >= 1 || r === 0) continue;
    const m = Math.sqrt((-2 * Math.log(r)) / r) * std;
    out.push(u * m, v * m);
  }
  return out.slice(0, count);
}

describe('fillNormal', () => {
  it('matches a plain xoshiro128** + polar-method reference exactly (to float32)', () => {
    const values = new Float32Array(1001);
    fillNormal(values, new Prng(99), 0.02);
    expect(Array.from(values)).toEqual(referenceNormals(99, 1001, 0.02).map((x) => Math.fround(x)));
  });

  it('draws N(0, std²): mean, variance and tail mass within sampling error', () => {
    const n = 200_000;
    const values = new Float32Array(n);
    fillNormal(values, new Prng(5), 2);
    let sum = 0, sq = 0, beyond2 = 0;
    for (const x of values) { sum += x; sq += x * x; if (Math.abs(x) > 4) beyond2++; }
    const mean = sum / n, variance = sq / n - mean * mean;
    expect(Math.abs(mean)).toBeLessThan(5 * 2 / Math.sqrt(n)); // 5 standard errors
    expect(Math.abs(variance / 4 - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(beyond2 / n - 0.0455)).toBeLessThan(0.003); // P(|z| > 2) = 4.55 %
  });
});

describe('initLlamaWeights', () => {
  it('makes every expected weight with its shape, norms 1, biases 0 (qwen2)', () => {
    const cfg = { ...presetConfig('tiny'), architecture: 'qwen2' as const, attentionBias: true, tieWordEmbeddings: true };
    const weights = initLlamaWeights(cfg, 3);
    const expected = expectedWeights(cfg);
    expect([...weights.keys()]).toEqual([...expected.keys()]);
    for (const [name, shape] of expected) expect(weights.get(name)!.shape, name).toEqual(shape);
    expect(weights.has('lm_head.weight')).toBe(false);
    expect(Array.from(weights.get('model.norm.weight')!.data as Float32Array).every((x) => x === 1)).toBe(true);
    expect(Array.from(weights.get('model.layers.1.self_attn.k_proj.bias')!.data as Float32Array).every((x) => x === 0)).toBe(true);
    let total = 0;
    for (const t of weights.values()) total += numel(t.shape);
    expect(total).toBe(parameterCount(cfg));
  });

  it('is reproducible, seed-dependent, and a tensor does not depend on the rest of the model', () => {
    const cfg = presetConfig('tiny');
    const a = initLlamaWeights(cfg, 11).get('model.layers.0.mlp.up_proj.weight')!;
    const b = initLlamaWeights({ ...cfg, numHiddenLayers: 1 }, 11).get('model.layers.0.mlp.up_proj.weight')!;
    const c = initLlamaWeights(cfg, 12).get('model.layers.0.mlp.up_proj.weight')!;
    expect(Array.from(b.data as Float32Array)).toEqual(Array.from(a.data as Float32Array));
    expect(Array.from(c.data as Float32Array)).not.toEqual(Array.from(a.data as Float32Array));
  });

  it('stores BF16 weights that equal the F32 ones rounded', () => {
    const f = initLlamaWeight('model.embed_tokens.weight', [7, 5], 1);
    const h = initLlamaWeight('model.embed_tokens.weight', [7, 5], 1, { dtype: 'BF16' });
    expect(h.dtype).toBe('BF16');
    const back = toFloat32(h);
    const orig = f.data as Float32Array;
    for (let i = 0; i < orig.length; i++) expect(Math.abs(back[i]! - orig[i]!)).toBeLessThanOrEqual(Math.abs(orig[i]!) * 2 ** -8);
  });
});

describe('lazyLlamaWeights', () => {
  it('writes the same bytes as the in-memory weights, sharded or not, loading each tensor once', () => {
    const cfg = { ...presetConfig('tiny'), hiddenSize: 32, intermediateSize: 40, headDim: 8 };
    for (const maxShardBytes of [undefined, 30_000]) {
      const eager = tempDir();
      const lazy = tempDir();
      const files = writeModelDir(eager, cfg, initLlamaWeights(cfg, 9, { dtype: 'BF16' }), byteLevelTokenizerFiles({}), { maxShardBytes });
      const loads = new Map<string, number>();
      const source = lazyLlamaWeights(cfg, 9, { dtype: 'BF16' });
      for (const [name, t] of source) {
        const load = t.load;
        t.load = () => { loads.set(name, (loads.get(name) ?? 0) + 1); return load(); };
      }
      expect(writeModelDir(lazy, cfg, source, byteLevelTokenizerFiles({}), { maxShardBytes })).toEqual(files);
      for (const f of files) expect(readFileSync(join(lazy, f)).equals(readFileSync(join(eager, f))), f).toBe(true);
      expect([...loads.values()].every((n) => n === 1)).toBe(true);
      expect(loads.size).toBe(source.size);
    }
  });
});

describe('presets', () => {
  it('tinyllama-1.1b has TinyLlama-1.1B-Chat-v1.0 shape and parameter count', () => {
    const cfg = presetConfig('tinyllama-1.1b');
    expect(parameterCount(cfg)).toBe(1_100_048_384);
    const hf = toHfConfigJson(cfg);
    expect(hf).toMatchObject({ vocab_size: 32000, hidden_size: 2048, intermediate_size: 5632, num_hidden_layers: 22, num_attention_heads: 32, num_key_value_heads: 4, rope_theta: 10000, rms_norm_eps: 1e-5, max_position_embeddings: 2048 });
    expect(parseModelConfig(hf, 'config.json')).toEqual(cfg);
  });

  it('small-25m has 23.9 M parameters with the byte-level vocabulary and round-trips through config.json', () => {
    const cfg = presetConfig('small-25m');
    // 8 layers × (attention 512·(512+256+256) + 512·512, MLP 3·512·1408, 2 norms 512) + embed and LM head 259·512 each + norm 512.
    expect(parameterCount(cfg)).toBe(8 * (512 * 1024 + 512 * 512 + 3 * 512 * 1408 + 2 * 512) + 2 * 259 * 512 + 512);
    expect(parameterCount(cfg)).toBe(23_866_880);
    expect(parseModelConfig(toHfConfigJson(cfg), 'config.json')).toEqual(cfg);
  });

  it('tiny is small, uses GQA and round-trips through config.json', () => {
    const cfg = presetConfig('tiny');
    expect(cfg.numAttentionHeads / cfg.numKeyValueHeads).toBe(2);
    expect(parameterCount(cfg)).toBeLessThan(5_000_000);
    expect(parseModelConfig(toHfConfigJson(cfg), 'config.json')).toEqual(cfg);
  });
});
