import { describe, it } from 'vitest';
import { crossEntropyBackward, crossEntropyForward, IGNORE_INDEX } from '../../../src/model/blocks/cross-entropy.js';
import { checkBlock } from './block-check.js';

const N = 6, V = 11;
const LABELS = [3, IGNORE_INDEX, 0, 10, IGNORE_INDEX, 7];

/** Σ over labelled rows of −log softmax(logits)[label], float64 (a scalar as [1]). */
function crossEntropy64(logits: Float64Array, labels: Float64Array): Float64Array {
  let loss = 0;
  for (let n = 0; n < N; n++) {
    if (labels[n] === IGNORE_INDEX) continue;
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[n * V + v]!);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[n * V + v]! - max);
    loss += max + Math.log(sum) - logits[n * V + labels[n]!]!;
  }
  return Float64Array.of(loss);
}

describe('cross-entropy block', () => {
  it('loss_sum equals the float64 reference (ignored rows take no loss); rowWeight ⊙ dLogits matches central finite differences', async () => {
    await checkBlock({
      inputs: { logits: { dims: [N, V] }, labels: { dims: [N], data: Float64Array.from(LABELS), constant: true, type: 'int64' } },
      outDims: [1],
      build(g, i) {
        const f = crossEntropyForward(g, i.logits!, i.labels!);
        return {
          y: g.reshape(f.lossSum, [1]),
          backward(dy) {
            const b = crossEntropyBackward(g, f.saved);
            return { logits: g.mul(g.mul(b.dLogits, b.rowWeight), dy) }; // d(w·loss) = w · d loss
          },
        };
      },
      reference: (v) => crossEntropy64(v.logits!, v.labels!),
    }, 9, { forward: 1e-6, gradient: 1e-5 });
  });
});
