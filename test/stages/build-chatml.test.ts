import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import samplePersonas from '../../stages/sample-personas/index.js';
import synthesize from '../../stages/synthesize-responses/index.js';
import importDataset from '../../stages/import-dataset/index.js';
import stage from '../../stages/build-chatml/index.js';
import { artifact, makeStageContext, tempDir } from '../helpers/stage-context.js';
import { largestRemainder } from '../../src/survey/quotas.js';
import { renderChatMl } from '../../src/survey/chatml.js';

let responses: ReturnType<typeof artifact>;
beforeAll(async () => {
  const p = makeStageContext(samplePersonas, { count: 40, records: 120, seed: 5 });
  await samplePersonas.run(p.ctx);
  const s = makeStageContext(synthesize, {}, { inputs: [artifact('personas', p.outDir)], seed: 5 });
  await synthesize.run(s.ctx);
  responses = artifact('responses', s.outDir, 'dataset');
});

async function build(params: Record<string, unknown>, options: { seed?: number; inputs?: ReturnType<typeof artifact>[] } = {}) {
  const r = makeStageContext(stage, params, { inputs: options.inputs ?? [responses], seed: options.seed });
  await stage.run(r.ctx);
  const read = (f: string) => readFileSync(join(r.outDir, f), 'utf8');
  const jsonl = (f: string) => read(f).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
  return { ...r, read, jsonl };
}

/** A tiny word-level tokenizer with a Zephyr-like chat template, written by the test. */
function tokenizerDir(): string {
  const dir = tempDir('pp-tok-');
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
    normalizer: null, pre_tokenizer: { type: 'Whitespace' }, post_processor: null, decoder: null,
    model: { type: 'WordLevel', vocab: { '<unk>': 0, '<s>': 1, '</s>': 2, yes: 3, no: 4 }, unk_token: '<unk>' },
  }));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({
    tokenizer_class: 'PreTrainedTokenizerFast', bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>',
    chat_template: "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}",
  }));
  return dir;
}

describe('build-chatml', () => {
  it('writes stratified 80/10/10 splits with the HF messages format and ChatML text (the paper\'s random split)', async () => {
    const r = await build({ persona_disjoint: false });
    const splits = { train: r.jsonl('train.jsonl'), val: r.jsonl('val.jsonl'), test: r.jsonl('test.jsonl') };
    const all = [...splits.train, ...splits.val, ...splits.test];
    expect(all).toHaveLength(120);
    expect(new Set(all.map((x) => x.id)).size).toBe(120);
    // Split sizes exactly the largest-remainder cut of 0.8/0.1/0.1 of all records; each
    // domain × type stratum within one record of its proportional share.
    expect([splits.train.length, splits.val.length, splits.test.length]).toEqual(largestRemainder([0.8, 0.1, 0.1], 120));
    const strata = new Map<string, number[]>();
    for (const [si, name] of (['train', 'val', 'test'] as const).entries()) {
      for (const x of splits[name]) {
        const k = `${x.domain}|${x.question_type}`;
        (strata.get(k) ?? strata.set(k, [0, 0, 0]).get(k)!)[si]!++;
      }
    }
    for (const counts of strata.values()) {
      const n = counts.reduce((a, b) => a + b, 0);
      [0.8, 0.1, 0.1].forEach((w, i) => expect(Math.abs(counts[i]! - w * n)).toBeLessThan(1));
    }
    for (const x of all) {
      expect(Object.keys(x).sort()).toEqual(['domain', 'id', 'messages', 'meta', 'persona', 'question', 'question_type', 'reference', 'text']);
      expect(x.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user', 'assistant']);
      expect(x.messages[2].content).toBe(x.reference);
      expect(x.messages[1].content).toContain(`Question: ${x.question.text}`);
      expect(x.text).toBe(renderChatMl(x.messages));
      expect(x.text.startsWith('<|im_start|>system\n')).toBe(true);
    }
    const stats = JSON.parse(r.read('stats.json'));
    expect(stats.chat_template).toBe('chatml-fallback');
    expect(stats.splits.train.records + stats.splits.val.records + stats.splits.test.records).toBe(120);
  });

  it('is byte-identical per seed and changes with the seed', async () => {
    const a = await build({}, { seed: 1 });
    const b = await build({}, { seed: 1 });
    const c = await build({}, { seed: 2 });
    for (const f of ['train.jsonl', 'val.jsonl', 'test.jsonl', 'stats.json', 'dataset-report.md', 'fig5-answer-length.svg']) expect(b.read(f)).toBe(a.read(f));
    expect(c.read('test.jsonl')).not.toBe(a.read('test.jsonl'));
  });

  it('keeps personas disjoint across splits by default, and the report says so', async () => {
    const r = await build({});
    const ids = (f: string) => new Set(r.jsonl(f).map((x) => x.meta.persona_id));
    const train = ids('train.jsonl'), val = ids('val.jsonl'), test = ids('test.jsonl');
    for (const p of test) expect(train.has(p) || val.has(p)).toBe(false);
    for (const p of val) expect(train.has(p)).toBe(false);
    const stats = JSON.parse(r.read('stats.json'));
    expect(stats.persona_overlap).toEqual({ train_test: 0, train_val: 0 });
    expect(stats.persona_disjoint).toBe(true);
    for (const o of stats.overlap) expect(o).toMatchObject({ shared_personas: 0, shared_persona_question: 0 });
    expect(r.read('dataset-report.md')).toContain('Split persona-disjoint');
    expect(stats.splits.train.records).toBeGreaterThan(80);
    expect(stats.splits.test.records).toBeGreaterThan(5);
  });

  it('states train/test overlap for the random split: personas, persona+question pairs, verbatim references', async () => {
    const r = await build({ persona_disjoint: false });
    const stats = JSON.parse(r.read('stats.json'));
    const train = r.jsonl('train.jsonl'), test = r.jsonl('test.jsonl');
    const trainPersonas = new Set(train.map((x) => x.meta.persona_id));
    const trainPairs = new Set(train.map((x) => `${x.meta.persona_id}|${x.question.id}`));
    const trainRefs = new Set(train.map((x) => x.reference.trim()));
    const o = stats.overlap.find((x: { pair: string }) => x.pair === 'train→test');
    expect(o).toEqual({
      pair: 'train→test',
      records: test.length,
      shared_personas: new Set(test.map((x) => x.meta.persona_id).filter((p) => trainPersonas.has(p))).size,
      shared_persona_question: test.filter((x) => trainPairs.has(`${x.meta.persona_id}|${x.question.id}`)).length,
      verbatim_references: test.filter((x) => trainRefs.has(x.reference.trim())).length,
    });
    expect(o.shared_personas).toBeGreaterThan(0);
    const report = r.read('dataset-report.md');
    expect(report).toContain('## Train/test overlap');
    expect(report).toMatch(/\| train→test \| \d+ \| \d+ \|/);
  });

  it("renders with the model tokenizer's native chat template, found transitively", async () => {
    const model = artifact('model', tokenizerDir(), 'base');
    const adapter = artifact('adapter', tempDir(), 'adapter', [model]);
    const r = await build({ chat_template: 'native' }, { inputs: [responses, adapter] });
    const x = r.jsonl('train.jsonl')[0]!;
    const expected = x.messages.map((m: { role: string; content: string }) => `<|${m.role}|>\n${m.content}</s>\n`).join('');
    expect(x.text).toBe(expected);
    expect(JSON.parse(r.read('stats.json')).chat_template).toBe('native:base');
    const forced = await build({ chat_template: 'chatml' }, { inputs: [responses, adapter] });
    expect(forced.jsonl('train.jsonl')[0]!.text).toBe(renderChatMl(x.messages));
  });

  it('falls back to ChatML for a model without a template, and says so when native is required', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '</s>' }));
    const r = await build({}, { inputs: [responses, artifact('model', dir)] });
    expect(JSON.parse(r.read('stats.json')).chat_template).toBe('chatml-fallback');
    await expect(build({ chat_template: 'native' }, { inputs: [responses, artifact('model', dir)] })).rejects.toThrow(/has no chat_template/);
    await expect(build({ chat_template: 'native' })).rejects.toThrow(/needs a model input/);
  });

  it('writes the dataset report with the three figures', async () => {
    const r = await build({});
    const md = r.read('dataset-report.md');
    expect(md).toMatch(/120 records, 40 personas, 10 domains/);
    expect(md).toMatch(/\| open \| 51 \| 42\.5% \|/); // 120 × 42.7% -> 51 by largest remainder
    for (const f of ['fig1-domains.svg', 'fig2-question-types.svg', 'fig5-answer-length.svg']) {
      expect(r.read(f)).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(md).toContain(`(${f})`);
    }
    expect(r.read('fig1-domains.svg')).toContain('>demographics<');
  });

  it('keeps imported splits and rebuilds missing messages', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'd'));
    const rec = (i: number) => ({ id: `r${i}`, domain: 'finance', question: `Q${i}?`, question_type: 'open', reference: `A${i}.`, persona: 'A cautious saver.' });
    writeFileSync(join(dir, 'd', 'x_train.jsonl'), [0, 1, 2].map((i) => JSON.stringify(rec(i))).join('\n'));
    writeFileSync(join(dir, 'd', 'x_test.jsonl'), JSON.stringify(rec(3)));
    const imp = makeStageContext(importDataset, { path: 'd' }, { pipelineDir: dir });
    await importDataset.run(imp.ctx);
    const r = await build({ preserve_splits: true }, { inputs: [artifact('responses', imp.outDir)] });
    expect(r.jsonl('train.jsonl').map((x) => x.id)).toEqual(['r0', 'r1', 'r2']);
    expect(r.jsonl('test.jsonl').map((x) => x.id)).toEqual(['r3']);
    expect(r.read('val.jsonl')).toBe('');
    const m = r.jsonl('test.jsonl')[0]!.messages;
    expect(m[1].content).toBe('Persona:\n  A cautious saver.\n\nDomain: finance\nQuestion: Q3?\nAnswer in one to three sentences, in your own voice.');
    expect(m[2]).toEqual({ role: 'assistant', content: 'A3.' });
    await expect(build({ preserve_splits: true })).rejects.toThrow(/no meta\.split/);
    expect(existsSync(join(r.outDir, 'dataset-report.md'))).toBe(true);
  });
});
