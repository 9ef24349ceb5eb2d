/**
 * The project's own outputs in Python's hands, and Python's in the project's, on a pipeline run
 * through the real CLI: the smoke pipeline's corpus and tokenizer (its personas, dataset, chatml
 * and base stages, read from pipelines/smoke.yaml so they stay the same), a LoRA adapter the
 * project trains on the float base, a QLoRA adapter on its int4 quantization, and then a PEFT
 * adapter that the project continues from (`init_adapter`).
 *
 * - tokenizer: AutoTokenizer.from_pretrained on the project's model dir gives the project's ids
 *   for every text and chat prompt of the corpus;
 * - project adapter → PEFT: PeftModel.from_pretrained and AutoPeftModelForCausalLM.from_pretrained
 *   load it; base + adapter logits match the project's to 1e-4 relative, greedy tokens agree;
 * - PEFT adapter → project: trained by PEFT a few steps on the same train split, it loads as
 *   lora-train's init_adapter (its val loss is PEFT's) and as generate's adapter, and the
 *   project's greedy tokens are transformers'.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { interopPython, makeTempDir, maxRelativeError, readF32, readJson, runCli, runPython, StepTimes } from './harness.js';
import { projectGreedy, projectLogits, projectTokenize } from './project.js';

const SMOKE = fileURLToPath(new URL('../../pipelines/smoke.yaml', import.meta.url));
const LOGITS_TOLERANCE = 1e-4;
const LOSS_TOLERANCE = 1e-5;
const MAX_NEW_TOKENS = 16;
const { python, skipReason } = interopPython();

interface ChatRecord {
  id: string;
  messages: Array<{ role: string; content: string }>;
}

/** pipelines/smoke.yaml's corpus and base stages (the base drawn wider, for clear greedy choices), plus the adapters under test. */
function interopPipeline(extra: Record<string, unknown> = {}): string {
  // `${{ params.x }}` is the engine's syntax, not YAML's: stand-ins first, the params' values after.
  const text = readFileSync(SMOKE, 'utf8').replace(/\$\{\{\s*params\.(\w+)\s*\}\}/g, '__param_$1__');
  const smoke = parse(text) as { params: Record<string, unknown>; stages: Record<string, { with?: Record<string, unknown> }> };
  const resolved = JSON.parse(JSON.stringify(smoke.stages), (_, v: unknown) => (typeof v === 'string' && /^__param_\w+__$/.test(v) ? smoke.params[v.slice(8, -2)] : v)) as typeof smoke.stages;
  const pick = (id: string) => resolved[id]!;
  const base = { ...pick('base'), with: { ...pick('base').with, initializer_range: 0.1 } };
  const train = { r: 8, lora_alpha: 16, max_steps: 6, learning_rate: 0.02, per_device_train_batch_size: 4, gradient_accumulation_steps: 1, save_steps: 0 };
  return stringify({
    version: 1,
    name: 'interop',
    params: smoke.params,
    stages: {
      personas: pick('personas'),
      dataset: pick('dataset'),
      chatml: pick('chatml'),
      base,
      quantized: { uses: 'quantize', needs: ['base'], with: { bits: 4, block_size: 32 } },
      adapter: { uses: 'lora-train', needs: ['base', 'chatml'], with: train },
      'adapter-q4': { uses: 'lora-train', needs: ['quantized', 'chatml'], with: { ...train, max_steps: 1 } },
      ...extra,
    },
  });
}

function readSplit(file: string): ChatRecord[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as ChatRecord);
}

describe.skipIf(!python)(`the project's pipeline outputs and PEFT ${skipReason}`, () => {
  const tmp = makeTempDir('pipeline');
  const project = tmp.dir;
  const dirs: Record<string, string> = {};
  let prompts: number[][];
  let corpus: { texts: string[]; chats: ChatRecord['messages'][] };
  const measured: string[] = [];
  const times = new StepTimes();

  // A stage's output folder, from the lock file the run wrote (its key) and the store's layout.
  const stageDir = (id: string): string => {
    const lock = parse(readFileSync(join(project, 'interop.lock.yaml'), 'utf8')) as { stages: Record<string, { key: string }> };
    const key = lock.stages[id]!.key;
    return join(project, 'runs', 'cache', key.slice(0, 2), key, 'out');
  };

  beforeAll(async () => {
    writeFileSync(join(project, 'interop.yaml'), interopPipeline());
    await times.time('pipeline run', () => runCli(['run', 'interop.yaml'], project));
    for (const id of ['chatml', 'base', 'quantized', 'adapter', 'adapter-q4']) dirs[id] = stageDir(id);
    // Prompts: the first six test records' system + user turns with the assistant turn opened.
    const test = readSplit(join(dirs.chatml!, 'test.jsonl')).slice(0, 6);
    prompts = (await times.time('prompts', () => projectTokenize(dirs.base!, [], test.map((r) => r.messages.slice(0, -1))))).chats;
    // Python's side of all three tests in one process (torch and transformers import once).
    const records = ['train', 'val', 'test'].flatMap((s) => readSplit(join(dirs.chatml!, `${s}.jsonl`)));
    corpus = { texts: [...new Set(records.flatMap((r) => r.messages.map((m) => m.content)))], chats: records.map((r) => r.messages.slice(0, -1)) };
    const jobs = [
      { script: 'tokenize_corpus', out: join(project, 'tokenized.json'), request: { dirs: [dirs.base], ...corpus } },
      {
        script: 'peft_load',
        out: join(project, 'loaded'),
        request: {
          base: dirs.base, rows: prompts, max_new_tokens: MAX_NEW_TOKENS,
          adapters: [{ name: 'adapter', dir: dirs.adapter, compare: true }, { name: 'adapter-q4', dir: dirs['adapter-q4'], compare: false }],
        },
      },
      {
        script: 'peft_train',
        out: join(project, 'peft'),
        request: {
          base: dirs.base, train: join(dirs.chatml!, 'train.jsonl'), val: join(dirs.chatml!, 'val.jsonl'),
          steps: 8, batch_size: 4, learning_rate: 0.02, r: 8, lora_alpha: 16, seed: 3,
          target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
          prompts, max_new_tokens: MAX_NEW_TOKENS,
        },
      },
    ];
    writeFileSync(join(project, 'jobs.json'), JSON.stringify(jobs));
    // Run from the project folder: AutoPeftModelForCausalLM resolves base_model_name_or_path there.
    await times.time('python (tokenize_corpus, peft_load, peft_train)', () => runPython(python!, 'batch.py', [join(project, 'jobs.json')], project));
  });
  afterAll(() => {
    if (measured.length) console.log(`pipeline interop:\n  ${measured.join('\n  ')}\n  wall time: ${times}`);
    tmp.remove();
  });

  it("AutoTokenizer on the project's model dir gives the project's ids for the whole smoke corpus", async () => {
    const { texts, chats } = corpus;
    const py = readJson<Record<string, { class: string; texts: number[][]; chats: number[][] }>>(join(project, 'tokenized.json'))[dirs.base!]!;
    const ours = await times.time('project tokenize', () => projectTokenize(dirs.base!, texts, chats));
    const textAgree = ours.texts.filter((ids, i) => JSON.stringify(ids) === JSON.stringify(py.texts[i])).length;
    const chatAgree = ours.chats.filter((ids, i) => JSON.stringify(ids) === JSON.stringify(py.chats[i])).length;
    measured.push(`tokenizer (${py.class} in Python): ${textAgree}/${texts.length} texts and ${chatAgree}/${chats.length} chat prompts with identical ids (${ours.texts.flat().length} text tokens)`);
    expect(ours.texts).toEqual(py.texts);
    expect(ours.chats).toEqual(py.chats);
  });

  it('PeftModel and AutoPeftModelForCausalLM load the adapters the project trained; logits and greedy tokens match', async () => {
    const out = join(project, 'loaded');
    type Loaded = { base_model: string; lora_modules: number; greedy?: number[][]; min_gap?: number };
    const result = readJson<Record<string, Record<'PeftModel' | 'AutoPeftModelForCausalLM', Loaded>>>(join(out, 'result.json'));
    const config = readJson<{ base_model_name_or_path: string }>(join(dirs.adapter!, 'adapter_config.json'));
    expect(config.base_model_name_or_path).toMatch(/^runs\/cache\/[0-9a-f]{2}\/[0-9a-f]{64}\/out$/);
    expect(join(project, config.base_model_name_or_path)).toBe(dirs.base);
    const quantizedBase = readJson<{ base_model_name_or_path: string }>(join(dirs['adapter-q4']!, 'adapter_config.json')).base_model_name_or_path;
    expect(join(project, quantizedBase)).toBe(dirs.quantized);
    for (const name of ['adapter', 'adapter-q4']) {
      expect(result[name]!.AutoPeftModelForCausalLM.lora_modules, name).toBe(2 * 7); // 2 layers × 7 target modules
      expect(result[name]!.PeftModel.lora_modules, name).toBe(14);
    }

    // The project runs the prompts as one left-padded batch; Python ran each alone ([T_i, V] each, concatenated).
    const T = Math.max(...prompts.map((p) => p.length));
    const pad = (row: number[], fill: number) => [...Array(T - row.length).fill(fill), ...row];
    const rows = { inputIds: prompts.map((p) => pad(p, 0)), attentionMask: prompts.map((p) => pad(p.map(() => 1), 0)), positionIds: prompts.map((p) => pad(p.map((_, t) => t), 1)) };
    const ours = await times.time('project logits', () => projectLogits(dirs.base!, rows, { adapterDir: dirs.adapter }));
    const V = ours.dims[2];
    const errors: Record<string, number> = {};
    for (const way of ['PeftModel', 'AutoPeftModelForCausalLM'] as const) {
      const perRow = readF32(join(out, `adapter.${way}.logits.f32`));
      const ref = new Float32Array(ours.logits.length);
      let offset = 0;
      prompts.forEach((row, b) => {
        ref.set(perRow.subarray(offset, offset + row.length * V), (b * T + T - row.length) * V);
        offset += row.length * V;
      });
      errors[way] = maxRelativeError(ours.logits, ref, ours.dims, rows.attentionMask);
    }
    const greedy = await times.time('project greedy', () => projectGreedy(dirs.base!, prompts, MAX_NEW_TOKENS, dirs.adapter));
    measured.push(`project adapter in PEFT: logits max rel error PeftModel ${errors.PeftModel!.toExponential(2)}, AutoPeftModelForCausalLM ${errors.AutoPeftModelForCausalLM!.toExponential(2)}; greedy ${greedy.flat().length} tokens, smallest top-2 gap ${result.adapter!.PeftModel.min_gap!.toFixed(4)}`);
    expect(errors.PeftModel).toBeLessThan(LOGITS_TOLERANCE);
    expect(errors.AutoPeftModelForCausalLM).toBeLessThan(LOGITS_TOLERANCE);
    expect(greedy).toEqual(result.adapter!.PeftModel.greedy);
    expect(greedy).toEqual(result.adapter!.AutoPeftModelForCausalLM.greedy);
  });

  it("a PEFT-trained adapter loads as init_adapter (same val loss) and in generate (transformers' greedy tokens)", async () => {
    const out = join(project, 'peft');
    const peft = readJson<{ train_losses: number[]; val_loss: number; greedy: number[][]; base_greedy: number[][]; min_gap: number }>(join(out, 'result.json'));
    const peftAdapter = join(out, 'adapter');
    // The adapter must change the model's choices, or agreeing on them would prove nothing.
    expect(peft.greedy).not.toEqual(peft.base_greedy);

    // lora-train continues from it: lora_alpha 32 ≠ PEFT's 16 (the project rescales B to keep the
    // adapter's function), lora_dropout at its default 0.05 (evaluation must score the adapter
    // without dropout's rescale, as PEFT does), one step at a vanishing learning rate, so the
    // stage's eval_loss is the val loss of PEFT's adapter and its output is that adapter.
    const continued = {
      uses: 'lora-train',
      needs: ['base', 'chatml'],
      with: { init_adapter: peftAdapter, r: 8, lora_alpha: 32, max_steps: 1, learning_rate: 1e-12, warmup_ratio: 0, per_device_train_batch_size: 4, gradient_accumulation_steps: 1, save_steps: 0 },
    };
    writeFileSync(join(project, 'interop.yaml'), interopPipeline({ continued }));
    await times.time('pipeline run (continued)', () => runCli(['run', 'interop.yaml'], project));
    const continuedDir = stageDir('continued');
    const state = readJson<{ log_history: Array<{ eval_loss?: number }> }>(join(continuedDir, 'trainer_state.json'));
    const evalLoss = state.log_history.map((e) => e.eval_loss).filter((l): l is number => l !== undefined).pop()!;
    const lossError = Math.abs(evalLoss - peft.val_loss) / peft.val_loss;

    const direct = await times.time('project greedy (PEFT adapter)', () => projectGreedy(dirs.base!, prompts, MAX_NEW_TOKENS, peftAdapter));
    const viaInit = await times.time('project greedy (continued)', () => projectGreedy(dirs.base!, prompts, MAX_NEW_TOKENS, continuedDir));
    measured.push(`PEFT adapter in the project: val loss ${evalLoss} vs PEFT ${peft.val_loss.toFixed(6)} (rel ${lossError.toExponential(2)}); greedy ${peft.greedy.flat().length} tokens, smallest top-2 gap ${peft.min_gap.toFixed(4)}; PEFT train losses ${peft.train_losses.map((l) => l.toFixed(3)).join(' ')}`);
    expect(lossError).toBeLessThan(LOSS_TOLERANCE);
    expect(direct).toEqual(peft.greedy);
    expect(viaInit).toEqual(peft.greedy);
  });
});
