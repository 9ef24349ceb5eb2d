import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { presetConfig, tinyOf } from '../../src/model/presets.js';
import { initLlamaWeights } from '../../src/model/init/index.js';
import { writeModelDir } from '../../src/model/model-dir.js';
import { writeOnnxModelDir } from '../../src/model/decoder/export.js';
import { readSafetensors } from '../../src/model/safetensors/index.js';
import { byteLevelTokenizerFiles } from '../../src/model/tokenizer/index.js';
import stage from '../../stages/lora-train/index.js';
import type { LoraTrainParams } from '../../stages/lora-train/params.js';
import { artifact, makeStageContext, tempDir } from '../helpers/stage-context.js';
import { testKey } from '../helpers/fingerprints.js';

const DRINKS = ['tea', 'coffee', 'milk', 'juice'];
const CITIES = ['Oslo', 'Lima', 'Pune', 'Kyiv'];

/** A small persona chat dataset: the answer follows from the persona line of the user turn. */
function chatRecords(n: number, offset = 0): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = i + offset;
    const drink = DRINKS[k % 4]!, city = CITIES[Math.floor(k / 4) % 4]!;
    lines.push(JSON.stringify({
      id: `r${k}`,
      messages: [
        { role: 'system', content: 'Answer as the persona.' },
        { role: 'user', content: `Persona: lives in ${city}, drinks ${drink}. Q: favourite drink?` },
        { role: 'assistant', content: `I drink ${drink} in ${city}.` },
      ],
      text: '',
    }));
  }
  return `${lines.join('\n')}\n`;
}

let modelDir: string;
let q4Dir: string;
let chatmlDir: string;

beforeAll(() => {
  const root = tempDir('pp-lora-');
  modelDir = join(root, 'model');
  const cfg = { ...presetConfig('tiny'), numHiddenLayers: 1 };
  writeModelDir(modelDir, cfg, initLlamaWeights(cfg, 7), byteLevelTokenizerFiles({}));
  q4Dir = join(root, 'model-q4');
  writeOnnxModelDir(modelDir, q4Dir, { quantization: { bits: 4, blockSize: 32, symmetric: true, accuracyLevel: 0 } });
  chatmlDir = join(root, 'chatml');
  mkdirSync(chatmlDir);
  writeFileSync(join(chatmlDir, 'train.jsonl'), chatRecords(16));
  writeFileSync(join(chatmlDir, 'val.jsonl'), chatRecords(4, 16));
});

const FAST: Partial<LoraTrainParams> = {
  r: 4, lora_alpha: 8, learning_rate: 0.01, per_device_train_batch_size: 4, gradient_accumulation_steps: 1,
  max_steps: 10, eval_steps: 5, save_steps: 3, warmup_ratio: 0.1, seed: 3,
};

function context(params: Partial<LoraTrainParams>, model = modelDir, chatml = chatmlDir, signal?: AbortSignal) {
  return makeStageContext(stage, params, { inputs: [artifact('model', model, 'base'), artifact('chatml', chatml, 'chatml')], threads: 1, signal });
}

async function trainOnce(params: Partial<LoraTrainParams>, model = modelDir) {
  const run = context(params, model);
  await stage.run(run.ctx);
  return run;
}

/** A run aborted (as a kill would stop it) once optimizer step `step` is done; its workDir keeps the checkpoints. */
async function killedAfterStep(params: Partial<LoraTrainParams>, step: number) {
  const abort = new AbortController();
  const killed = context(params, modelDir, chatmlDir, abort.signal);
  const progress = killed.ctx.progress;
  killed.ctx.progress = (done, total, note) => {
    progress(done, total, note);
    if (done === step) abort.abort(new Error('killed'));
  };
  await expect(stage.run(killed.ctx)).rejects.toThrow('killed');
  return killed;
}

describe('lora-train stage', () => {
  it('writes a PEFT adapter, and the training loss falls', async () => {
    const run = await trainOnce({ ...FAST, max_steps: 16, eval_steps: 8 });
    const config = JSON.parse(readFileSync(join(run.outDir, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8, lora_dropout: 0.05, base_model_name_or_path: `runs/cache/${testKey('base').slice(0, 2)}/${testKey('base')}/out` });
    expect(config.target_modules).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
    const tensors = readSafetensors(join(run.outDir, 'adapter_model.safetensors')).tensors;
    expect(tensors.size).toBe(14);
    expect(tensors.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')!.shape).toEqual([4, 128]);
    expect(tensors.get('base_model.model.model.layers.0.mlp.down_proj.lora_B.weight')!.shape).toEqual([128, 4]);
    const state = JSON.parse(readFileSync(join(run.outDir, 'trainer_state.json'), 'utf8'));
    const losses: number[] = state.log_history.map((e: { loss: number }) => e.loss);
    expect(losses).toHaveLength(16);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // Steadily: every block of 4 steps is lower on average than the one before.
    for (let b = 1; b < 4; b++) expect(mean(losses.slice(4 * b, 4 * b + 4))).toBeLessThan(mean(losses.slice(4 * b - 4, 4 * b)));
    expect(losses[15]!).toBeLessThan(0.85 * losses[0]!);
    const evals = state.log_history.filter((e: { eval_loss?: number }) => e.eval_loss !== undefined);
    expect(evals.map((e: { step: number }) => e.step)).toEqual([8, 16]);
    expect(state.best_metric).toBe(Math.min(...evals.map((e: { eval_loss: number }) => e.eval_loss)));
    expect(readFileSync(join(run.outDir, 'loss_curve.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<path d="M/);
  });

  it('gives byte-identical adapters for two runs with the same seed, and a killed-and-resumed run equals an uninterrupted one', async () => {
    const a = await trainOnce(FAST);
    const b = await trainOnce(FAST);
    const bytes = (dir: string) => readFileSync(join(dir, 'adapter_model.safetensors'));
    expect(bytes(a.outDir).equals(bytes(b.outDir))).toBe(true);
    expect(readFileSync(join(a.outDir, 'trainer_state.json'), 'utf8')).toBe(readFileSync(join(b.outDir, 'trainer_state.json'), 'utf8'));

    // Kill after step 7 (checkpoint at step 6), resume with the same work dir.
    const killed = await killedAfterStep(FAST, 7);
    expect(existsSync(join(killed.ctx.workDir, 'checkpoint-6', 'state.json'))).toBe(true);
    const resumed = context(FAST);
    resumed.ctx.workDir = killed.ctx.workDir;
    await stage.run(resumed.ctx);
    expect((resumed.provenance.loraTrain as { resumedFromStep: number }).resumedFromStep).toBe(6);
    expect(bytes(resumed.outDir).equals(bytes(a.outDir))).toBe(true);
  });

  it('logs BLEU and ROUGE-L of greedy answers on a val sample at each evaluation (eval_metrics_samples), the same on a second run', async () => {
    const params = { ...FAST, max_steps: 6, eval_steps: 3, eval_metrics_samples: 3, eval_max_new_tokens: 12 };
    const history = async () => JSON.parse(readFileSync(join((await trainOnce(params)).outDir, 'trainer_state.json'), 'utf8')).log_history as Array<Record<string, number>>;
    const first = await history();
    const evals = first.filter((e) => e.eval_loss !== undefined);
    expect(evals.map((e) => e.step)).toEqual([3, 6]);
    for (const e of evals) {
      expect(e.eval_bleu).toBeGreaterThanOrEqual(0);
      expect(e.eval_bleu).toBeLessThanOrEqual(1);
      expect(e.eval_rougeL).toBeGreaterThanOrEqual(0);
      expect(e.eval_rougeL).toBeLessThanOrEqual(1);
    }
    expect(first.filter((e) => e.eval_loss === undefined).every((e) => e.eval_bleu === undefined)).toBe(true);
    expect(await history()).toEqual(first); // greedy answers: deterministic
  });

  it('trains on a 4-bit quantized base (QLoRA) with the base kept 4-bit', async () => {
    const run = await trainOnce({ ...FAST, max_steps: 8, eval_steps: 0 }, q4Dir);
    expect((run.provenance.loraTrain as { baseQuantization: unknown }).baseQuantization).toEqual({ bits: 4, blockSize: 32, symmetric: true });
    const losses = JSON.parse(readFileSync(join(run.outDir, 'trainer_state.json'), 'utf8')).log_history.map((e: { loss: number }) => e.loss);
    expect(losses[7]).toBeLessThan(losses[0]);
  });

  it('continues from init_adapter', async () => {
    const first = await trainOnce({ ...FAST, max_steps: 4 });
    const cont = await trainOnce({ ...FAST, max_steps: 2, init_adapter: first.outDir });
    const s1 = JSON.parse(readFileSync(join(first.outDir, 'trainer_state.json'), 'utf8')).log_history;
    const s2 = JSON.parse(readFileSync(join(cont.outDir, 'trainer_state.json'), 'utf8')).log_history;
    expect(s2[0].loss).toBeLessThan(s1[0].loss);
  });
});

describe('lora-train with trainable: full', () => {
  it('trains every weight of a float base and writes a model dir that loads; same seed, same bytes; the loss falls', async () => {
    const params = { ...FAST, trainable: 'full' as const, learning_rate: 0.003, max_steps: 12, eval_steps: 6 };
    const run = await trainOnce(params);
    expect(stage.producesFor!(run.ctx.params)).toBe('model');
    const { loadModelDir } = await import('../../src/model/model-dir.js');
    const model = loadModelDir(run.outDir); // config, weights and tokenizer as the init-model stage writes them
    const base = loadModelDir(modelDir);
    expect([...model.weights.keys()].sort()).toEqual([...base.weights.keys()].sort());
    const changed = [...model.weights].filter(([name, t]) => !Buffer.from((t.data as Float32Array).buffer).equals(Buffer.from(new Float32Array(base.weights.get(name)!.data as ArrayLike<number>).buffer)));
    expect(changed.length).toBe(model.weights.size); // every tensor trained
    expect(existsSync(join(run.outDir, 'tokenizer.json'))).toBe(true);
    expect(existsSync(join(run.outDir, 'adapter_config.json'))).toBe(false);
    const losses: number[] = JSON.parse(readFileSync(join(run.outDir, 'trainer_state.json'), 'utf8')).log_history.map((e: { loss: number }) => e.loss);
    expect(losses[11]).toBeLessThan(losses[0]!);
    const again = await trainOnce(params);
    expect(readFileSync(join(again.outDir, 'model.safetensors')).equals(readFileSync(join(run.outDir, 'model.safetensors')))).toBe(true);
  });

  it('resumes a killed run from its checkpoint to the same model bytes', async () => {
    const params = { ...FAST, trainable: 'full' as const, learning_rate: 0.003, max_steps: 8, eval_steps: 4, save_steps: 3 };
    const whole = await trainOnce(params);
    const killed = await killedAfterStep(params, 5);
    const resumed = context(params);
    resumed.ctx.workDir = killed.ctx.workDir;
    await stage.run(resumed.ctx);
    expect((resumed.provenance.loraTrain as { resumedFromStep: number }).resumedFromStep).toBe(3);
    expect(readFileSync(join(resumed.outDir, 'model.safetensors')).equals(readFileSync(join(whole.outDir, 'model.safetensors')))).toBe(true);
    expect(readFileSync(join(resumed.outDir, 'trainer_state.json'), 'utf8')).toBe(readFileSync(join(whole.outDir, 'trainer_state.json'), 'utf8'));
  });

  it('refuses a quantized base and init_adapter, saying why', async () => {
    await expect(stage.run(context({ ...FAST, trainable: 'full' }, q4Dir).ctx)).rejects.toThrow(/trainable: full trains every weight, which needs a float base; base is quantized to 4 bits/);
    await expect(stage.run(context({ ...FAST, trainable: 'full', init_adapter: '/nowhere' }).ctx)).rejects.toThrow(/init_adapter continues a LoRA adapter; with trainable: full there is none/);
  });
});

describe('lora-train on phi and qwen2_moe', () => {
  let phiDir: string, moeDir: string;
  beforeAll(() => {
    const root = tempDir('pp-lora-arch-');
    phiDir = join(root, 'phi');
    const phi = tinyOf('phi');
    const phiCfg = { ...phi, numHiddenLayers: 1 };
    writeModelDir(phiDir, phiCfg, initLlamaWeights(phiCfg, 7), byteLevelTokenizerFiles({}));
    moeDir = join(root, 'moe');
    const moeCfg = { ...tinyOf('qwen2_moe'), numHiddenLayers: 1 };
    writeModelDir(moeDir, moeCfg, initLlamaWeights(moeCfg, 7), byteLevelTokenizerFiles({}));
  });

  it('phi: an adapter on its six projections under PEFT\'s names, and the loss falls', async () => {
    const run = await trainOnce({ ...FAST, max_steps: 8, eval_steps: 8, target_modules: 'all-linear' }, phiDir);
    const config = JSON.parse(readFileSync(join(run.outDir, 'adapter_config.json'), 'utf8'));
    expect(config.target_modules).toEqual(['q_proj', 'k_proj', 'v_proj', 'dense', 'fc1', 'fc2']);
    const tensors = readSafetensors(join(run.outDir, 'adapter_model.safetensors')).tensors;
    expect([...tensors.keys()].filter((n) => n.endsWith('lora_A.weight')).sort()).toEqual(['mlp.fc1', 'mlp.fc2', 'self_attn.dense', 'self_attn.k_proj', 'self_attn.q_proj', 'self_attn.v_proj'].map((m) => `base_model.model.model.layers.0.${m}.lora_A.weight`));
    const losses: number[] = JSON.parse(readFileSync(join(run.outDir, 'trainer_state.json'), 'utf8')).log_history.map((e: { loss: number }) => e.loss);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
  });

  it('qwen2_moe: experts adapted per expert; output_router_logits adds the load-balancing loss (logged as aux_loss, inside loss)', async () => {
    const without = await trainOnce({ ...FAST, max_steps: 2, eval_steps: 2, target_modules: ['gate_proj', 'o_proj'] }, moeDir);
    const adapter = readSafetensors(join(without.outDir, 'adapter_model.safetensors')).tensors;
    expect([...adapter.keys()].filter((n) => n.endsWith('lora_B.weight')).sort()).toEqual(['mlp.experts.0.gate_proj', 'mlp.experts.1.gate_proj', 'mlp.experts.2.gate_proj', 'mlp.experts.3.gate_proj', 'mlp.shared_expert.gate_proj', 'self_attn.o_proj'].map((m) => `base_model.model.model.layers.0.${m}.lora_B.weight`));
    const plain = JSON.parse(readFileSync(join(without.outDir, 'trainer_state.json'), 'utf8')).log_history;
    expect(plain[0].aux_loss).toBeUndefined();
    const withAux = await trainOnce({ ...FAST, max_steps: 2, eval_steps: 2, target_modules: ['gate_proj', 'o_proj'], output_router_logits: true }, moeDir);
    const log = JSON.parse(readFileSync(join(withAux.outDir, 'trainer_state.json'), 'utf8')).log_history;
    // Balanced routing gives aux = k = 2; a random router is close to it. The first step's weights are the same in both runs.
    expect(log[0].aux_loss).toBeGreaterThan(1.9);
    expect(log[0].aux_loss).toBeLessThan(2.5);
    expect(log[0].loss).toBeCloseTo(plain[0].loss + 0.001 * log[0].aux_loss, 5);
    expect(log.at(-1).eval_loss).toBeDefined();
  });

  it('refuses output_router_logits on a model without a router', async () => {
    await expect(stage.run(context({ ...FAST, output_router_logits: true }).ctx)).rejects.toThrow(/output_router_logits adds an MoE's load-balancing loss; base is a llama model, which has no router/);
  });
});

describe('lora-train bad input', () => {
  it('rejects a target module that does not exist', async () => {
    await expect(stage.run(context({ ...FAST, target_modules: ['q_proj', 'qkv_proj'] }).ctx)).rejects.toThrow(/target_modules: "qkv_proj" is not a linear module/);
  });

  it('rejects an empty train split, naming the file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'train.jsonl'), '');
    await expect(stage.run(context(FAST, modelDir, dir).ctx)).rejects.toThrow(/train\.jsonl: the train split is empty/);
  });

  it('rejects a bad record with its line and field', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'train.jsonl'), `${chatRecords(1).trim()}\n{"id":"x","messages":"hello"}\n`);
    await expect(stage.run(context(FAST, modelDir, dir).ctx)).rejects.toThrow(/train\.jsonl:2: record "x": messages: must be array/);
  });

  it('rejects an init_adapter whose shapes do not match the base', async () => {
    const root = tempDir();
    const otherModel = join(root, 'm');
    const cfg = { ...presetConfig('tiny'), numHiddenLayers: 1, hiddenSize: 64, intermediateSize: 96, headDim: 16 };
    writeModelDir(otherModel, cfg, initLlamaWeights(cfg, 1), byteLevelTokenizerFiles({}));
    const other = await trainOnce({ ...FAST, max_steps: 1 }, otherModel);
    await expect(stage.run(context({ ...FAST, init_adapter: other.outDir }).ctx)).rejects.toThrow(/q_proj\.lora_A\.weight has shape \[4, 64\], expected \[4, 128\]/);
  });

  it('stops on a non-finite loss, naming the step, and keeps the last good checkpoint', async () => {
    const run = context({ ...FAST, learning_rate: 1e30, max_grad_norm: 0, save_steps: 1, warmup_ratio: 0 });
    const err = await stage.run(run.ctx).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/training diverged at optimizer step (\d+): loss (NaN|Infinity)/);
    const step = Number(/step (\d+)/.exec(err!.message)![1]);
    expect(step).toBeGreaterThan(1);
    expect(err!.message).toContain(`last good checkpoint (step ${step - 1})`);
    expect(existsSync(join(run.ctx.workDir, `checkpoint-${step - 1}`, 'state.json'))).toBe(true);
  });

  it('refuses up front when a step would not fit in memory, suggesting a configuration that does', async () => {
    await expect(stage.run(context({ ...FAST, max_memory_gb: 0.3 }).ctx)).rejects.toThrow(/needs about [\d.]+ GB, more than the 0\.3 GB available \(max_memory_gb\)\. Fits: per_device_train_batch_size \d with gradient_accumulation_steps \d+/);
    await expect(stage.run(context({ ...FAST, max_memory_gb: 0.01 }).ctx)).rejects.toThrow(/more than the 0\.01 GB available \(max_memory_gb\)\. Even batch 1 with 8 tokens does not fit: use a quantized base/);
  });
});
