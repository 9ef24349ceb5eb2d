import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StageContext } from '../../src/engine/contract.js';
import { DataError, UserError } from '../../src/core/errors.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { DATASET_FILE, DEFAULT_SYSTEM_PROMPT, readDatasetFile } from '../../src/survey/record.js';
import { chatmlSplitFile, writeChatmlSplit, type BuiltChatmlRecord } from '../../src/formats/chatml.js';
import { chatMlRenderer, findChatTemplate, nativeRenderer, recordMessages, type ChatRenderer } from '../../src/survey/chatml.js';
import { SPLITS, stratifiedSplit, type SplitName } from '../../src/survey/split.js';
import { datasetReportFiles } from '../../src/survey/report.js';
import { allSplitOverlaps } from '../../src/survey/split-overlap.js';
import type { BuildChatmlParams } from './params.js';

/**
 * Reads dataset.jsonl from the responses input; writes train.jsonl, val.jsonl, test.jsonl (the
 * ChatML record format: src/formats/chatml.ts),
 * stats.json and (report: true) dataset-report.md with fig1-domains.svg, fig2-question-types.svg,
 * fig5-answer-length.svg.
 */
export async function runBuildChatml(ctx: StageContext<BuildChatmlParams>): Promise<void> {
  const p = ctx.params;
  const seed = p.seed ?? ctx.seed;
  const responses = ctx.input('responses');
  const records = readDatasetFile(join(responses.dir, DATASET_FILE));
  if (records.length === 0) throw new DataError('build-chatml', `${join(responses.dir, DATASET_FILE)} holds no records`);

  const model = ctx.optionalInput('model', { transitive: true });
  let renderer: ChatRenderer = chatMlRenderer;
  let templateSource = 'chatml-fallback';
  if (p.chat_template !== 'chatml') {
    const template = model ? findChatTemplate(model.dir) : undefined;
    if (template) {
      renderer = await nativeRenderer(model!.dir, template);
      templateSource = `native:${model!.stageId}`;
    } else if (p.chat_template === 'native') {
      throw new UserError('build-chatml', model ? `build-chatml: chat_template "native" but ${model.dir} has no chat_template in tokenizer_config.json` : 'build-chatml: chat_template "native" needs a model input (needs: [<a model stage>])');
    }
  }

  const system = p.system_prompt ?? DEFAULT_SYSTEM_PROMPT;
  const out: BuiltChatmlRecord[] = records.map((r, i) => {
    const messages = recordMessages(r, system);
    if (i % 512 === 0) {
      ctx.progress(i, records.length, 'rendering');
      if (ctx.signal.aborted) throw ctx.signal.reason;
    }
    return { id: r.id, domain: r.domain, question_type: r.question_type, persona: r.persona, question: r.question, reference: r.reference, meta: r.meta ?? {}, messages, text: renderer.render(messages) };
  });

  let assignment: Map<string, SplitName>;
  if (p.preserve_splits) {
    const missing = out.filter((r) => !SPLITS.includes(r.meta.split as SplitName));
    if (missing.length > 0) throw new DataError('build-chatml', `preserve_splits: ${missing.length} record(s) have no meta.split of train/val/test, e.g. "${missing[0]!.id}"`);
    assignment = new Map(out.map((r) => [r.id, r.meta.split as SplitName]));
  } else {
    const items = out.map((r) => ({ id: r.id, stratum: `${r.domain}|${r.question_type}`, group: typeof r.meta.persona_id === 'string' ? r.meta.persona_id : JSON.stringify(r.persona) }));
    if (new Set(items.map((x) => x.id)).size !== items.length) throw new DataError('build-chatml', 'record ids in dataset.jsonl are not unique');
    assignment = stratifiedSplit(items, p.split, seed, p.persona_disjoint);
  }

  const splits: Record<SplitName, BuiltChatmlRecord[]> = { train: [], val: [], test: [] };
  for (const r of out) splits[assignment.get(r.id)!].push(r);
  for (const s of SPLITS) writeChatmlSplit(chatmlSplitFile(ctx.outDir, s), splits[s]);

  const personasIn = (s: SplitName) => new Set(splits[s].map((r) => String(r.meta.persona_id ?? JSON.stringify(r.persona))));
  const trainP = personasIn('train'), testP = personasIn('test'), valP = personasIn('val');
  const count = (rs: BuiltChatmlRecord[], key: (r: BuiltChatmlRecord) => string) => rs.reduce<Record<string, number>>((o, r) => ((o[key(r)] = (o[key(r)] ?? 0) + 1), o), {});
  const stats = {
    records: out.length,
    seed,
    chat_template: templateSource,
    persona_disjoint: p.persona_disjoint,
    preserve_splits: p.preserve_splits,
    ratios: p.split,
    splits: Object.fromEntries(SPLITS.map((s) => [s, { records: splits[s].length, personas: personasIn(s).size, domains: count(splits[s], (r) => r.domain), question_types: count(splits[s], (r) => r.question_type) }])),
    persona_overlap: { train_test: [...testP].filter((x) => trainP.has(x)).length, train_val: [...valP].filter((x) => trainP.has(x)).length },
    overlap: allSplitOverlaps(splits),
  };
  writeFileSync(join(ctx.outDir, 'stats.json'), canonicalJson(stats) + '\n');

  if (p.report) {
    const files = datasetReportFiles(records, { splits: Object.fromEntries(SPLITS.map((s) => [s, splits[s].length])), overlap: { overlaps: stats.overlap, personaDisjoint: p.persona_disjoint } });
    for (const [name, content] of files) writeFileSync(join(ctx.outDir, name), content);
  }
  ctx.recordProvenance({ chat_template: templateSource, ...(model ? { tokenizer_model: { stage: model.stageId, digest: model.digest } } : {}) });
  ctx.progress(records.length, records.length);
}
