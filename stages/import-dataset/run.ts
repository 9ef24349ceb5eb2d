import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { StageContext } from '../../src/engine/contract.js';
import { DataError, StageFailure, UserError } from '../../src/core/errors.js';
import { writeFileAtomic } from '../../src/core/atomic.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { toJsonl } from '../../src/formats/jsonl.js';
import { normalizeRecord, splitFromFileName } from '../../src/survey/import.js';
import type { DatasetRecord } from '../../src/survey/record.js';
import { importPaths, type ImportDatasetParams } from './params.js';

interface Rejection {
  id: string;
  file: string;
  line: number;
  reason: string;
}

/** Files to read: the given files, and the *.json / *.jsonl files of given directories (sorted). */
function expandFiles(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) throw new UserError('import-dataset', `import-dataset: ${p} does not exist`);
    if (statSync(p).isDirectory()) {
      const found = readdirSync(p).filter((f) => /\.jsonl?$/i.test(f)).sort().map((f) => join(p, f));
      if (found.length === 0) throw new UserError('import-dataset', `import-dataset: directory ${p} holds no .json or .jsonl files`);
      out.push(...found);
    } else out.push(p);
  }
  return out;
}

/** Raw values with their 1-based positions; unparseable JSONL lines become rejections. */
function readRaw(file: string, format: ImportDatasetParams['format'], rejected: Rejection[]): Array<{ line: number; value: unknown }> {
  const text = readFileSync(file, 'utf8');
  const isArray = format === 'json' || (format === 'auto' && text.trimStart().startsWith('['));
  if (isArray) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new DataError('import-dataset', `${file}: not valid JSON (${(err as Error).message})`, { location: { file } });
    }
    if (!Array.isArray(parsed)) throw new DataError('import-dataset', `${file}: expected a JSON array of records`, { location: { file } });
    return parsed.map((value, i) => ({ line: i + 1, value }));
  }
  const out: Array<{ line: number; value: unknown }> = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    try {
      out.push({ line: i + 1, value: JSON.parse(raw) });
    } catch (err) {
      rejected.push({ id: `${basename(file)}:${i + 1}`, file: basename(file), line: i + 1, reason: `not valid JSON: ${(err as Error).message}` });
    }
  });
  return out;
}

/**
 * Writes dataset.jsonl (normalised records in file order), rejected.jsonl ({id, file, line,
 * reason} for every record left out) and stats.json (per-file, per-domain and per-type counts).
 */
export async function runImportDataset(ctx: StageContext<ImportDatasetParams>): Promise<void> {
  const files = expandFiles(importPaths(ctx.params, ctx.pipelineDir));
  const records: DatasetRecord[] = [];
  const rejected: Rejection[] = [];
  const seen = new Map<string, string>();
  const perFile: Array<{ file: string; split: string | null; records: number; rejected: number }> = [];
  let total = 0;
  for (const [fi, file] of files.entries()) {
    const before = { records: records.length, rejected: rejected.length };
    const split = splitFromFileName(file);
    for (const { line, value } of readRaw(file, ctx.params.format, rejected)) {
      const outcome = normalizeRecord(value, { file, line, split });
      if (!outcome.ok) {
        rejected.push({ id: outcome.id, file: basename(file), line, reason: outcome.reason });
        continue;
      }
      const where = `${basename(file)}:${line}`;
      const first = seen.get(outcome.record.id);
      if (first) {
        rejected.push({ id: outcome.record.id, file: basename(file), line, reason: `duplicate id (first at ${first})` });
        continue;
      }
      seen.set(outcome.record.id, where);
      records.push(outcome.record);
    }
    const fileRejected = rejected.length - before.rejected;
    total += records.length - before.records + fileRejected;
    perFile.push({ file: basename(file), split: split ?? null, records: records.length - before.records, rejected: fileRejected });
    ctx.progress(fi + 1, files.length, basename(file));
    if (ctx.signal.aborted) throw ctx.signal.reason;
  }
  // Report order: file order, then line.
  const fileOrder = new Map(files.map((f, i) => [basename(f), i]));
  rejected.sort((a, b) => fileOrder.get(a.file)! - fileOrder.get(b.file)! || a.line - b.line);
  if (total === 0) throw new DataError('import-dataset', `import-dataset: no records in ${files.join(', ')}`);
  const share = rejected.length / total;
  if (share > ctx.params.max_rejected_share) {
    const report = join(ctx.workDir, 'rejected.jsonl');
    writeFileAtomic(report, toJsonl(rejected));
    const examples = rejected.slice(0, 3).map((r) => `${r.id} (${r.file}:${r.line}): ${r.reason}`).join('; ');
    throw new StageFailure('import-rejected', `import-dataset: ${rejected.length} of ${total} records rejected (${(100 * share).toFixed(1)}% > max_rejected_share ${(100 * ctx.params.max_rejected_share).toFixed(1)}%); e.g. ${examples}. Full list: ${report}`);
  }
  if (rejected.length > 0) ctx.log.warn(`import-dataset: rejected ${rejected.length} of ${total} records; see rejected.jsonl`);
  const count = (key: (r: DatasetRecord) => string) => records.reduce<Record<string, number>>((o, r) => ((o[key(r)] = (o[key(r)] ?? 0) + 1), o), {});
  writeFileSync(join(ctx.outDir, 'dataset.jsonl'), toJsonl(records));
  writeFileSync(join(ctx.outDir, 'rejected.jsonl'), toJsonl(rejected));
  writeFileSync(join(ctx.outDir, 'stats.json'), canonicalJson({ files: perFile, records: records.length, rejected: rejected.length, domains: count((r) => r.domain), question_types: count((r) => r.question_type) }) + '\n');
  ctx.recordProvenance({ import: { files: perFile } });
}
