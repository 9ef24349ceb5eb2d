import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StageContext } from '../../src/engine/contract.js';
import { DataError } from '../../src/core/errors.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { readChatmlSplit } from '../../src/formats/chatml.js';
import { toJsonl } from '../../src/formats/jsonl.js';
import { renderChatMl } from '../../src/survey/chatml.js';
import { pretrainingCorpus, type CorpusSource } from '../../src/survey/corpus.js';
import { SPLITS } from '../../src/survey/split.js';
import type { PretrainingCorpusParams } from './params.js';

/** Reads train/val/test.jsonl of the chatml input; writes the same three files as corpus documents. */
export async function runPretrainingCorpus(ctx: StageContext<PretrainingCorpusParams>): Promise<void> {
  const input = ctx.input('chatml');
  const stats: Record<string, { records: number; documents: number; personas: number; answers: number }> = {};
  for (const split of SPLITS) {
    ctx.signal.throwIfAborted();
    const file = join(input.dir, `${split}.jsonl`);
    if (!existsSync(file)) throw new DataError('missing-split', `${file}: the chatml input "${input.stageId}" has no ${split} split`, { location: { file } });
    const rows = readChatmlSplit(file); // the ChatML record's owner: schema-checked, bad lines named
    const bad = rows.filter((r) => !isCorpusSource(r as unknown as Record<string, unknown>)).map((r) => `line ${r.line}`);
    if (bad.length > 0) {
      throw new DataError('bad-record', `${file}: ${bad.length} record(s) lack string "id", "domain", "question_type", "reference" or a "question" with "text" (${bad.slice(0, 10).join(', ')})`, { location: { file } });
    }
    const records = rows.map((r) => r as unknown as CorpusSource);
    const docs = pretrainingCorpus(records, ctx.params.documents).map((d) => ({ ...d, text: renderChatMl(d.messages) }));
    writeFileSync(join(ctx.outDir, `${split}.jsonl`), toJsonl(docs));
    const personas = docs.filter((d) => d.meta.document === 'persona').length;
    stats[split] = { records: records.length, documents: docs.length, personas, answers: docs.length - personas };
    ctx.progress(SPLITS.indexOf(split) + 1, SPLITS.length, split);
  }
  writeFileSync(join(ctx.outDir, 'stats.json'), canonicalJson({ documents: ctx.params.documents, splits: stats, chat_template: 'chatml-fallback' }) + '\n');
}

function isCorpusSource(v: Record<string, unknown>): boolean {
  const q = v.question as { text?: unknown } | null | undefined;
  return typeof v.id === 'string' && typeof v.domain === 'string' && typeof v.question_type === 'string' && typeof v.reference === 'string' && typeof q === 'object' && q !== null && typeof q.text === 'string';
}
