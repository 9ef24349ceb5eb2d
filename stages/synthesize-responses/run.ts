import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { StageContext } from '../../src/engine/contract.js';
import { DataError, StageFailure, UserError } from '../../src/core/errors.js';
import { writeFileAtomic } from '../../src/core/atomic.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { readJsonl } from '../../src/survey/jsonl.js';
import { toJsonl } from '../../src/formats/jsonl.js';
import { DEFAULT_SYSTEM_PROMPT, promptMessages, type DatasetRecord } from '../../src/survey/record.js';
import type { Assignment } from '../../src/survey/assign.js';
import type { PersonaCard } from '../../src/survey/persona.js';
import type { QuestionItem } from '../../src/survey/question-bank.js';
import { templateAnswer } from '../../src/survey/teachers/template.js';
import { askOpenAiTeacher } from '../../src/survey/teachers/openai.js';
import type { SynthesizeResponsesParams } from './params.js';

/**
 * Reads personas.jsonl, assignments.jsonl and questions.jsonl from the personas input; writes
 *   dataset.jsonl   one DatasetRecord per answered assignment, in assignment order
 *   failures.jsonl  {id, reason, attempts} per record the teacher could not answer
 *   stats.json      counts and teacher statistics
 */
export async function runSynthesizeResponses(ctx: StageContext<SynthesizeResponsesParams>): Promise<void> {
  const p = ctx.params;
  const seed = p.seed ?? ctx.seed;
  const dir = ctx.input('personas').dir;
  const personas = new Map(readJsonl(join(dir, 'personas.jsonl')).map((r) => [String(r.value.id), r.value as unknown as PersonaCard]));
  const questions = new Map(readJsonl(join(dir, 'questions.jsonl')).map((r) => [String(r.value.id), r.value as unknown as QuestionItem]));
  const assignments = readJsonl(join(dir, 'assignments.jsonl')).map((r) => r.value as unknown as Assignment);
  const base: DatasetRecord[] = assignments.map((a) => {
    const persona = personas.get(a.persona_id);
    const item = questions.get(a.question_id);
    if (!persona || !item) throw new DataError('personas-input', `${dir}/assignments.jsonl record "${a.id}" names unknown ${persona ? `question "${a.question_id}"` : `persona "${a.persona_id}"`}`);
    const question = { id: item.id, text: item.text, construct: item.construct, ...(item.scale ? { scale: item.scale } : {}) };
    return { id: a.id, domain: a.domain, question_type: a.question_type, question, persona, reference: '', meta: { persona_id: persona.id, question_id: item.id, instrument: item.instrument, attitude: item.attitude } };
  });
  const total = base.length;
  const failures: Array<{ id: string; reason: string; attempts: number }> = [];
  const records: DatasetRecord[] = [];
  const citeDriver = p.teacher.cite_driver === true;
  if (citeDriver && (p.teacher.kind !== 'template' || p.teacher.conditioning !== 'demographics')) {
    throw new UserError('invalid-params', `synthesize-responses: teacher.cite_driver names the card line a template answer follows, so it needs teacher kind "template" with conditioning "demographics" (got kind "${p.teacher.kind}"${p.teacher.kind === 'template' ? `, conditioning "${p.teacher.conditioning}"` : ''})`);
  }
  const teacherStats: Record<string, unknown> = { kind: p.teacher.kind, ...(p.teacher.kind === 'template' ? { conditioning: p.teacher.conditioning, ...(citeDriver ? { cite_driver: true } : {}) } : {}) };

  switch (p.teacher.kind) {
    case 'template': {
      base.forEach((r, i) => {
        const item = questions.get(r.question.id)!;
        const answer = templateAnswer(r.persona as PersonaCard, item, seed, r.id, p.teacher.conditioning, { citeDriver });
        const meta: Record<string, unknown> = { ...r.meta, teacher: 'template', synthetic: true, conditioning: p.teacher.conditioning, ...(citeDriver ? { cite_driver: true } : {}), attitude_value: answer.attitude };
        if (answer.level !== undefined) meta.answer = { level: answer.level, label: answer.label };
        records.push({ ...r, reference: answer.text, meta });
        if (i % 256 === 0) ctx.progress(i, total);
        if (ctx.signal.aborted) throw ctx.signal.reason;
      });
      break;
    }
    case 'openai': {
      const t = p.teacher;
      if (!t.base_url || !t.model) throw new UserError('invalid-params', 'synthesize-responses: teacher kind "openai" needs teacher.base_url and teacher.model');
      const apiKey = t.api_key_env ? process.env[t.api_key_env] : undefined;
      const system = p.system_prompt ?? DEFAULT_SYSTEM_PROMPT;
      const run = await askOpenAiTeacher(
        base.map((r) => ({ id: r.id, messages: promptMessages(r, system) })),
        {
          baseUrl: t.base_url, model: t.model, apiKey, concurrency: t.concurrency, maxRetries: t.max_retries, timeoutMs: t.timeout_ms,
          backoffMs: t.backoff_ms, maxBackoffMs: t.max_backoff_ms, temperature: t.temperature, maxTokens: t.max_tokens, seed,
          cacheDir: join(ctx.workDir, 'teacher-cache'), signal: ctx.signal,
        },
        (done) => ctx.progress(done, total),
      );
      for (const r of base) {
        const content = run.answers.get(r.id);
        if (content !== undefined) records.push({ ...r, reference: content, meta: { ...r.meta, teacher: `openai:${t.model}` } });
      }
      failures.push(...run.failures);
      Object.assign(teacherStats, { model: t.model, base_url: t.base_url });
      // Request counts differ between a fresh and a resumed run: provenance only, never outputs.
      ctx.recordProvenance({ teacher_requests: { requests: run.stats.requests, cache_hits: run.stats.cacheHits, retries: run.stats.retries } });
      break;
    }
    case 'model': {
      const model = ctx.optionalInput('model', { transitive: true });
      if (!model) throw new UserError('invalid-params', 'synthesize-responses: teacher kind "model" needs a model stage in `needs:`');
      const adapter = ctx.optionalInput('adapter');
      const { askModelTeacher } = await import('../../src/survey/teachers/model.js');
      const system = p.system_prompt ?? DEFAULT_SYSTEM_PROMPT;
      const run = await askModelTeacher(
        base.map((r) => ({ id: r.id, messages: promptMessages(r, system) })),
        { modelDir: model.dir, adapterDir: adapter?.dir, threads: ctx.threads, scratchDir: ctx.workDir, temperature: p.teacher.temperature, topP: p.teacher.top_p, maxNewTokens: p.teacher.max_tokens, batchSize: p.teacher.batch_size, seed, signal: ctx.signal },
        (done) => ctx.progress(done, total),
      );
      const name = `model:${model.stageId}${adapter ? `+${adapter.stageId}` : ''}`;
      for (const r of base) {
        const content = run.answers.get(r.id);
        if (content !== undefined) records.push({ ...r, reference: content, meta: { ...r.meta, teacher: name } });
      }
      failures.push(...run.failures);
      Object.assign(teacherStats, { model: name, model_digest: model.digest, ...(adapter ? { adapter_digest: adapter.digest } : {}) });
      break;
    }
    default: {
      const never: never = p.teacher.kind;
      throw new UserError('invalid-params', `unknown teacher ${String(never)}`);
    }
  }

  const share = total === 0 ? 0 : failures.length / total;
  if (share > p.max_failure_share) {
    // outDir is discarded on failure: keep the failure report where the user (and a resumed run) can see it.
    const report = join(ctx.workDir, 'failures.jsonl');
    writeFileAtomic(report, toJsonl(failures));
    const first = failures.slice(0, 3).map((f) => `${f.id}: ${f.reason}`).join('; ');
    throw new StageFailure('teacher-failures', `synthesize-responses: ${failures.length} of ${total} records got no answer (${(100 * share).toFixed(1)}% > max_failure_share ${(100 * p.max_failure_share).toFixed(1)}%); e.g. ${first}. Full list: ${report}. Answers so far are cached; re-run to resume.`);
  }
  if (failures.length > 0) ctx.log.warn(`synthesize-responses: ${failures.length} of ${total} records got no answer; see failures.jsonl`);
  writeFileSync(join(ctx.outDir, 'dataset.jsonl'), toJsonl(records));
  writeFileSync(join(ctx.outDir, 'failures.jsonl'), toJsonl(failures));
  writeFileSync(join(ctx.outDir, 'stats.json'), canonicalJson({ records: records.length, assignments: total, failures: failures.length, seed, teacher: teacherStats }) + '\n');
  ctx.recordProvenance({ teacher: teacherStats, synthetic: p.teacher.kind === 'template' });
  ctx.progress(total, total);
}
