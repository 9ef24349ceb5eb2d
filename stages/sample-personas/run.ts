import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { StageContext } from '../../src/engine/contract.js';
import { UserError } from '../../src/core/errors.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { builtinBankDir, loadQuestionBank } from '../../src/survey/question-bank.js';
import { PAPER_DOMAIN_COUNTS, PAPER_PERSONAS, PAPER_TOTAL_RESPONSES, PAPER_TYPE_SHARES } from '../../src/survey/domains.js';
import type { QuestionType } from '../../src/formats/survey-item.js';
import { marginalTables, RAKEABLE, sampleSyntheticPersonas, tableTargets, type PersonaCard, type Rakeable } from '../../src/survey/persona.js';
import { personasFromPersonaHub, personasFromRows, readPersonaRows } from '../../src/survey/persona-sources.js';
import { hubFileDownload, hubSettings } from '../../src/model/hub/index.js';
import { assignPersonas } from '../../src/survey/assign.js';
import { toJsonl } from '../../src/formats/jsonl.js';
import { resolveUserPath, type SamplePersonasParams } from './params.js';

/**
 * Writes into ctx.outDir:
 *   personas.jsonl     one PersonaCard per line (schemas/persona.schema.json), in source order
 *   assignments.jsonl  {id, persona_id, domain, question_id, question_type} per record
 *   questions.jsonl    the question bank items (so downstream stages need no bank of their own)
 *   quotas.json        the plan and the achieved counts (domain, type, domain × type, persona reuse)
 */
export async function runSamplePersonas(ctx: StageContext<SamplePersonasParams>): Promise<void> {
  const p = ctx.params;
  const seed = p.seed ?? ctx.seed;
  const bankDir = p.bank ? resolveUserPath(p.bank, ctx.pipelineDir) : builtinBankDir();
  const bank = loadQuestionBank(bankDir);
  ctx.progress(0, 3, 'personas');

  let cards: PersonaCard[];
  const provenance: Record<string, unknown> = { source: p.source, bank: bankDir };
  let raking: unknown;
  switch (p.source) {
    case 'synthetic': {
      const targets = p.targets === 'census' ? tableTargets(RAKEABLE) : (p.targets as Partial<Record<Rakeable, Record<string, number>>> | null) ?? undefined;
      const result = sampleSyntheticPersonas(seed, { count: p.count, targets, poolFactor: p.pool_factor });
      cards = result.cards;
      raking = result.raking;
      provenance.marginal_sources = Object.fromEntries(RAKEABLE.map((v) => [v, marginalTables()[v].source]));
      break;
    }
    case 'personahub': {
      let file: string;
      if (p.path) file = resolveUserPath(p.path, ctx.pipelineDir);
      else {
        // HF_* variables from the environment; hub.cache_dir overrides HF_HUB_CACHE.
        const settings = hubSettings(process.env, p.hub.cache_dir ? { cacheDir: resolveUserPath(p.hub.cache_dir, ctx.pipelineDir) } : {});
        const got = await hubFileDownload({ repo: p.hub.repo, repoType: 'dataset', path: p.hub.file, revision: p.hub.revision, sha256: p.hub.sha256, settings, signal: ctx.signal });
        file = got.localPath;
        provenance.hub = { url: got.url, revision: p.hub.revision, commit: got.sha, sha256: got.sha256, from_cache: got.fromCache, pinned: got.pinned };
        if (!got.pinned) ctx.log.warn(`PersonaHub revision "${p.hub.revision}" is a branch, not a commit: pin hub.revision (and hub.sha256 = ${got.sha256}) for a reproducible pipeline`);
      }
      cards = personasFromPersonaHub(file, p.count, seed);
      break;
    }
    case 'file': {
      if (!p.path) throw new UserError('invalid-params', 'sample-personas: source "file" needs `path` (a JSONL or CSV of personas)');
      const file = resolveUserPath(p.path, ctx.pipelineDir);
      const all = personasFromRows(readPersonaRows(file), file, seed);
      if (all.length < p.count) throw new UserError('invalid-params', `sample-personas: ${file} holds ${all.length} personas, fewer than count = ${p.count}`);
      cards = all.slice(0, p.count);
      break;
    }
    default: {
      const never: never = p.source;
      throw new UserError('invalid-params', `unknown source ${String(never)}`);
    }
  }
  ctx.progress(1, 3, 'assignments');

  const total = p.records ?? Math.max(p.count, Math.round((p.count * PAPER_TOTAL_RESPONSES) / PAPER_PERSONAS));
  const domainWeights = p.quotas.domains ?? Object.fromEntries(bank.domains.map((d) => [d, PAPER_DOMAIN_COUNTS[d] ?? 0]));
  if (!p.quotas.domains && bank.domains.some((d) => PAPER_DOMAIN_COUNTS[d] === undefined)) {
    // A user bank with its own domains: equal weights unless quotas.domains says otherwise.
    for (const d of bank.domains) domainWeights[d] = 1;
  }
  const typeWeights = (p.quotas.types ?? PAPER_TYPE_SHARES) as Record<QuestionType, number>;
  const result = assignPersonas(cards.map((c) => c.id), bank, { total, domainWeights, typeWeights, singleDomainShare: p.quotas.single_domain_share }, seed);
  ctx.progress(2, 3, 'writing');

  writeFileSync(join(ctx.outDir, 'personas.jsonl'), toJsonl(cards));
  writeFileSync(join(ctx.outDir, 'assignments.jsonl'), toJsonl(result.assignments));
  writeFileSync(join(ctx.outDir, 'questions.jsonl'), toJsonl(bank.items));
  const quotas = {
    seed,
    personas: cards.length,
    records: total,
    plan: { domain_weights: domainWeights, type_weights: typeWeights, single_domain_share: p.quotas.single_domain_share },
    domain_counts: result.domainCounts,
    type_counts: result.typeCounts,
    domain_type_counts: result.matrix,
    single_domain_personas: result.singleDomainPersonas,
    multi_domain_personas: result.multiDomainPersonas,
    repeated_questions: result.repeatedQuestions,
    raking: raking ?? null,
  };
  writeFileSync(join(ctx.outDir, 'quotas.json'), canonicalJson(quotas) + '\n');
  ctx.recordProvenance({ personas: provenance, repeated_questions: result.repeatedQuestions });
  ctx.progress(3, 3);
}
