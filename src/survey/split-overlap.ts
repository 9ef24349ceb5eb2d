import { personaKey } from './corpus.js';

/**
 * What a held-out split shares with the split a model learns from — the leaks that make a test
 * score mean less: personas seen in training, (persona, question) pairs answered in both, and
 * references that appear verbatim (after trimming) among the other split's references.
 */
export interface SplitOverlap {
  /** e.g. "train→test": the second split's records measured against the first */
  pair: string;
  records: number;
  shared_personas: number;
  /** records of the second split whose (persona, question) pair also occurs in the first */
  shared_persona_question: number;
  /** records of the second split whose reference text occurs in the first */
  verbatim_references: number;
}

type SplitRecord = { persona?: unknown; meta?: Record<string, unknown>; question?: unknown; reference: string };

function questionKey(r: SplitRecord): string {
  const q = r.question as { id?: unknown; text?: unknown } | string | undefined;
  if (typeof q === 'string') return q;
  return typeof q?.id === 'string' ? q.id : String(q?.text ?? '');
}

/** Overlap of `held` (e.g. test) against `seen` (e.g. train). */
export function splitOverlap(pair: string, seen: readonly SplitRecord[], held: readonly SplitRecord[]): SplitOverlap {
  const personas = new Set(seen.map(personaKey));
  const pairs = new Set(seen.map((r) => `${personaKey(r)}\u0000${questionKey(r)}`));
  const references = new Set(seen.map((r) => r.reference.trim()));
  return {
    pair,
    records: held.length,
    shared_personas: new Set(held.map(personaKey).filter((p) => personas.has(p))).size,
    shared_persona_question: held.filter((r) => pairs.has(`${personaKey(r)}\u0000${questionKey(r)}`)).length,
    verbatim_references: held.filter((r) => references.has(r.reference.trim())).length,
  };
}

/** train→val, train→test and val→test. */
export function allSplitOverlaps(splits: { train: readonly SplitRecord[]; val: readonly SplitRecord[]; test: readonly SplitRecord[] }): SplitOverlap[] {
  return [splitOverlap('train→val', splits.train, splits.val), splitOverlap('train→test', splits.train, splits.test), splitOverlap('val→test', splits.val, splits.test)];
}

/** The dataset report's section on overlap, as Markdown lines. */
export function overlapMarkdown(overlaps: readonly SplitOverlap[], personaDisjoint: boolean): string[] {
  const lines = [
    '## Train/test overlap',
    '',
    personaDisjoint
      ? 'Split persona-disjoint: every persona answers in one split only.'
      : 'Split at random within domain × question-type strata (the paper\'s split): a persona can answer in several splits.',
    '',
    '| splits | held-out records | personas also in the first | persona+question pairs also in the first | references verbatim in the first |',
    '|---|---:|---:|---:|---:|',
  ];
  const pct = (k: number, n: number): string => `${k} (${n === 0 ? '0.0' : ((100 * k) / n).toFixed(1)}%)`;
  for (const o of overlaps) lines.push(`| ${o.pair} | ${o.records} | ${o.shared_personas} | ${pct(o.shared_persona_question, o.records)} | ${pct(o.verbatim_references, o.records)} |`);
  return lines;
}
