/**
 * Checkpoints written by transformers itself (py/checkpoints.py: save_pretrained of small random
 * models of every architecture in architectures.json, float32 and bfloat16, tied and untied,
 * single file and shards + index, with a tokenizer trained by `tokenizers`) load in the project,
 * and the project's logits match transformers' to 1e-4 relative — full prefill, and prefill +
 * KV-cache step. Architectures the project does not build yet are skipped by name.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHITECTURES_FILE, interopPython, makeTempDir, maxRelativeError, readF32, readJson, runPython, StepTimes } from './harness.js';
import { projectLogits, projectTokenize, supportsModelType } from './project.js';

interface Manifest {
  input_ids: number[][];
  attention_mask: number[][];
  position_ids: number[][];
  vocab_size: number;
  texts: string[];
  text_ids: number[][];
  chats: Array<Array<{ role: string; content: string }>>;
  chat_ids: number[][];
  fixtures: Array<{ name: string; architecture: string; model_type: string; variant: string; dir: string; dims: [number, number, number]; files: string[]; torch_fp32_vs_fp64_max_rel: number | null }>;
}
interface ArchitectureList {
  architectures: Array<{ name: string; model_type: string }>;
  variants: Array<{ name: string; dtype: string; tie_word_embeddings: boolean; max_shard_size?: string }>;
}

const TOLERANCE = 1e-4;
const spec = readJson<ArchitectureList>(ARCHITECTURES_FILE);
const { python, skipReason } = interopPython();

describe.skipIf(!python)(`checkpoints written by transformers ${skipReason}`, () => {
  const tmp = makeTempDir('checkpoints');
  const out = join(tmp.dir, 'fixtures');
  let manifest: Manifest;
  const measured: string[] = [];
  const times = new StepTimes();

  beforeAll(async () => {
    await times.time('checkpoints.py', () => runPython(python!, 'checkpoints.py', [ARCHITECTURES_FILE, out], tmp.dir));
    manifest = readJson<Manifest>(join(out, 'manifest.json'));
  });
  afterAll(() => {
    if (measured.length) console.log(`logits, max |ours − transformers| / max |transformers| (tolerance ${TOLERANCE}):\n  ${measured.join('\n  ')}\n  wall time: ${times}`);
    tmp.remove();
  });

  it('writes a fixture for every architecture × variant, sharded ones with an index', () => {
    expect(manifest.fixtures.map((f) => f.name)).toEqual(spec.architectures.flatMap((a) => spec.variants.map((v) => `${a.name}-${v.name}`)));
    for (const f of manifest.fixtures) {
      const sharded = spec.variants.find((v) => v.name === f.variant)!.max_shard_size !== undefined;
      expect(f.files.includes('model.safetensors.index.json'), f.name).toBe(sharded);
      expect(f.files.filter((n) => n.endsWith('.safetensors')).length > 1, f.name).toBe(sharded);
    }
  });

  it("reads the tokenizer transformers saved: transformers' ids for every text and chat prompt", async () => {
    // The same tokenizer files are in every fixture; transformers 5 keeps the chat template in
    // chat_template.jinja beside tokenizer_config.json.
    const f = manifest.fixtures[0]!;
    expect(f.files).toContain('chat_template.jinja');
    const ours = await projectTokenize(f.dir, manifest.texts, manifest.chats);
    expect(ours.texts).toEqual(manifest.text_ids);
    expect(ours.chats).toEqual(manifest.chat_ids);
  });

  for (const arch of spec.architectures) {
    const supported = supportsModelType(arch.model_type);
    describe.skipIf(!supported)(`${arch.name}${supported ? '' : ` — architecture not supported yet (model_type "${arch.model_type}" is not in the project's registry)`}`, () => {
      for (const variant of spec.variants) {
        it(`${variant.name}: logits match transformers, prefill and KV-cache step`, async () => {
          const f = manifest.fixtures.find((x) => x.name === `${arch.name}-${variant.name}`)!;
          const ref = readF32(join(out, `${f.name}.logits.f32`));
          const rows = { inputIds: manifest.input_ids, attentionMask: manifest.attention_mask, positionIds: manifest.position_ids };
          const full = await projectLogits(f.dir, rows);
          expect(full.dims).toEqual(f.dims);
          const errFull = maxRelativeError(full.logits, ref, f.dims, manifest.attention_mask);
          const cached = await projectLogits(f.dir, rows, { splitAt: f.dims[1] - 3 });
          const errCached = maxRelativeError(cached.logits, ref, f.dims, manifest.attention_mask);
          measured.push(`${f.name}: prefill ${errFull.toExponential(2)}, prefill+cache ${errCached.toExponential(2)} (torch fp32 vs fp64: ${f.torch_fp32_vs_fp64_max_rel?.toExponential(2) ?? 'n/a'})`);
          expect(errFull).toBeLessThan(TOLERANCE);
          expect(errCached).toBeLessThan(TOLERANCE);
        });
      }
    });
  }
});
