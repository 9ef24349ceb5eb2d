/**
 * Reference points for answer_match on closed items, so that "above chance" is measured, not
 * asserted. For each closed test record (the same units answer_match is scored on):
 *
 *  - chance: a uniform guess over the item's scale, 1 / points (0.2 on a 5-point item, 0.5 on
 *    yes/no);
 *  - persona_blind_majority: the answer a model gives that learned each QUESTION but not the
 *    persona — the most frequent reference level of that question in the training split (ties:
 *    the lowest level), scored 1 when it equals the test record's reference level;
 *  - persona_blind_marginal: the expected match of a model that samples its answer from that
 *    question's training distribution, p_train(level = reference level | question).
 *
 * A test question absent from the training split falls back to the levels of all training
 * records of the same type and scale size (counted in `fallbacks`). Reference levels are read
 * from the reference text by extractAnswer, exactly as answer_match reads them.
 */
import { extractAnswer } from '../metrics/answers.js';
import { isClosedType, type AnswerScale } from '../formats/survey-item.js';
import { deriveSeed } from '../core/prng.js';
import { pairedBootstrap } from './bootstrap.js';
import type { RecordRow } from './comparison.js';

/** The fields of a ChatML split record (build-chatml's train/test.jsonl) a baseline reads. */
export interface SplitRecord {
  id?: string;
  question_type?: string;
  question?: { id?: string; scale?: AnswerScale };
  reference?: string;
  meta?: { question_id?: string };
}

/** A closed record with its reference level read back. */
export interface ClosedRecord {
  id: string;
  type: string;
  points: number;
  question: string;
  level: number;
}

export const BASELINES = ['chance', 'persona_blind_majority', 'persona_blind_marginal'] as const;
export type BaselineName = (typeof BASELINES)[number];

/** Closed records whose reference answer can be read (the units answer_match is defined on). */
export function closedRecords(records: readonly SplitRecord[]): ClosedRecord[] {
  const out: ClosedRecord[] = [];
  for (const r of records) {
    const type = r.question_type ?? 'open';
    if (typeof r.id !== 'string' || !isClosedType(type) || typeof r.reference !== 'string') continue;
    const a = extractAnswer(r.reference, type, r.question?.scale);
    if (!a) continue;
    out.push({ id: r.id, type, points: a.points, question: r.question?.id ?? r.meta?.question_id ?? r.id, level: a.level });
  }
  return out;
}

/** Level counts (index level − 1) per key. */
type Counts = Map<string, number[]>;

function add(counts: Counts, key: string, points: number, level: number): void {
  let c = counts.get(key);
  if (!c) counts.set(key, (c = new Array<number>(points).fill(0)));
  if (level >= 1 && level <= c.length) c[level - 1]! += 1;
}

/** The persona-blind model: answer counts per question of the training split, and per (type, points) as a fallback. */
export interface PersonaBlindModel {
  byQuestion: Counts;
  byType: Counts;
}

export function personaBlindModel(train: readonly ClosedRecord[]): PersonaBlindModel {
  const byQuestion: Counts = new Map();
  const byType: Counts = new Map();
  for (const r of train) {
    add(byQuestion, `${r.question}\u0000${r.points}`, r.points, r.level);
    add(byType, `${r.type}\u0000${r.points}`, r.points, r.level);
  }
  return { byQuestion, byType };
}

/** Index of the largest count; the lowest level wins a tie. */
function argmax(c: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < c.length; i++) if (c[i]! > c[best]!) best = i;
  return best;
}

export interface BaselineScores {
  chance: number;
  persona_blind_majority: number;
  persona_blind_marginal: number;
  /** true when the question was not in the training split (the type's counts were used). */
  fallback: boolean;
}

/** Each baseline's answer_match on one closed test record. */
export function baselineScores(r: ClosedRecord, model: PersonaBlindModel): BaselineScores {
  let counts = model.byQuestion.get(`${r.question}\u0000${r.points}`);
  const fallback = !counts;
  counts ??= model.byType.get(`${r.type}\u0000${r.points}`);
  const total = counts ? counts.reduce((s, x) => s + x, 0) : 0;
  if (!counts || total === 0) return { chance: 1 / r.points, persona_blind_majority: 1 / r.points, persona_blind_marginal: 1 / r.points, fallback: true };
  return {
    chance: 1 / r.points,
    persona_blind_majority: argmax(counts) + 1 === r.level ? 1 : 0,
    persona_blind_marginal: counts[r.level - 1]! / total,
    fallback,
  };
}

/** One row of the baselines table: a system's answer_match over a group of units. */
export interface BaselineRow {
  system: 'base' | 'finetuned' | BaselineName;
  answer_match: number;
  /** fine-tuned − this system over the same units, with its paired-bootstrap interval (absent for the fine-tuned row). */
  delta_finetuned?: number;
  ci_low?: number;
  ci_high?: number;
}

export interface BaselineGroup {
  /** "all" or a closed question type (likert, agreement, yesno). */
  group: string;
  n: number;
  rows: BaselineRow[];
}

export interface BaselineReport {
  metric: 'answer_match';
  unit: 'record';
  confidence: number;
  /** Test records of the comparison's answer_match units whose question was not in the training split. */
  fallbacks: number;
  /** Closed training records the persona-blind model was counted on. */
  train_closed: number;
  groups: BaselineGroup[];
}

export interface BaselineOptions {
  samples: number;
  confidence: number;
  seed: number;
}

/**
 * answer_match of base, fine-tuned and the three baselines on the comparison's units (test
 * records with answer_match in both runs and a readable reference in the split), overall and per
 * question type, with fine-tuned − each other system as a paired-bootstrap interval. Null when
 * no unit remains.
 */
export function baselineReport(
  base: readonly RecordRow[],
  finetuned: readonly RecordRow[],
  train: readonly SplitRecord[],
  test: readonly SplitRecord[],
  options: BaselineOptions,
): BaselineReport | null {
  const trainClosed = closedRecords(train);
  const model = personaBlindModel(trainClosed);
  const testById = new Map(closedRecords(test).map((r) => [r.id, r]));
  const f = new Map(finetuned.filter((r) => typeof r.id === 'string').map((r) => [r.id!, r]));
  interface Unit { type: string; base: number; finetuned: number; b: BaselineScores }
  const units: Unit[] = [];
  const seen = new Set<string>();
  for (const r of base) {
    if (typeof r.id !== 'string' || seen.has(r.id)) continue;
    seen.add(r.id);
    const x = r.scores.answer_match;
    const y = f.get(r.id)?.scores.answer_match;
    const t = testById.get(r.id);
    if (typeof x !== 'number' || typeof y !== 'number' || !t) continue;
    units.push({ type: t.type, base: x, finetuned: y, b: baselineScores(t, model) });
  }
  if (units.length === 0) return null;
  units.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  const groups: BaselineGroup[] = [];
  const types = [...new Set(units.map((u) => u.type))].sort();
  for (const group of ['all', ...types]) {
    const us = group === 'all' ? units : units.filter((u) => u.type === group);
    const ft = us.map((u) => u.finetuned);
    const rows: BaselineRow[] = [];
    const others: Array<[BaselineRow['system'], number[]]> = [
      ['chance', us.map((u) => u.b.chance)],
      ['persona_blind_majority', us.map((u) => u.b.persona_blind_majority)],
      ['persona_blind_marginal', us.map((u) => u.b.persona_blind_marginal)],
      ['base', us.map((u) => u.base)],
    ];
    for (const [system, xs] of others) {
      const d = pairedBootstrap(xs, ft, { samples: options.samples, confidence: options.confidence, seed: deriveSeed(options.seed, `baseline\u0000${group}\u0000${system}`) })!;
      rows.push({ system, answer_match: d.base, delta_finetuned: d.delta, ci_low: d.ci_low, ci_high: d.ci_high });
    }
    rows.push({ system: 'finetuned', answer_match: ft.reduce((s, x) => s + x, 0) / ft.length });
    groups.push({ group, n: us.length, rows });
  }
  return { metric: 'answer_match', unit: 'record', confidence: options.confidence, fallbacks: units.filter((u) => u.b.fallback).length, train_closed: trainClosed.length, groups };
}
