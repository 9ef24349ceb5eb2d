/**
 * Seeded random BERT weights (HF names) for tests and benchmarks: a tiny encoder made by code,
 * never downloaded. Normal(0, scale) entries from Prng; LayerNorm gains around 1.
 */
import { Prng } from '../../core/prng.js';
import type { HostTensor } from '../tensor.js';
import type { BertEncoderConfig } from './encoder.js';

export function randomBertWeights(config: BertEncoderConfig, sizes: { vocab: number; positions: number; layers?: number }, seed: number): Map<string, HostTensor> {
  const rng = new Prng(seed);
  const w = new Map<string, HostTensor>();
  const t = (name: string, shape: number[], scale = 0.2, base = 0): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = base + scale * rng.normal();
    w.set(name, { dtype: 'F32', shape, data });
  };
  const H = config.hiddenSize;
  t('embeddings.word_embeddings.weight', [sizes.vocab, H], 1);
  t('embeddings.position_embeddings.weight', [sizes.positions, H], 0.5);
  t('embeddings.token_type_embeddings.weight', [2, H], 0.5);
  t('embeddings.LayerNorm.weight', [H], 0.1, 1);
  t('embeddings.LayerNorm.bias', [H], 0.1);
  for (let l = 0; l < (sizes.layers ?? config.layers); l++) {
    const p = `encoder.layer.${l}`;
    for (const m of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      t(`${p}.${m}.weight`, [H, H], 0.3);
      t(`${p}.${m}.bias`, [H], 0.1);
    }
    t(`${p}.intermediate.dense.weight`, [config.intermediateSize, H], 0.3);
    t(`${p}.intermediate.dense.bias`, [config.intermediateSize], 0.1);
    t(`${p}.output.dense.weight`, [H, config.intermediateSize], 0.3);
    t(`${p}.output.dense.bias`, [H], 0.1);
    for (const ln of ['attention.output.LayerNorm', 'output.LayerNorm']) {
      t(`${p}.${ln}.weight`, [H], 0.1, 1);
      t(`${p}.${ln}.bias`, [H], 0.1);
    }
  }
  return w;
}
