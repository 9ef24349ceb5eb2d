/**
 * Which question does an answer answer? Topic words per question from the file's own references
 * (and question texts): for each question q, its pool of documents — every other record's
 * reference to q (leave-one-out: a record's own reference is not in its pool) plus q's text when
 * known. A stem's excess share in q's pool, w_q(s) = max(0, df_q(s)/n_q − df(s)/N) where it recurs
 * in the pool (df_q(s) ≥ 2; else 0: one co-occurrence is chance), is how much more often q's answers
 * use it than the file's answers do; for a prediction with content stems S
 *
 *   own   = Σ_{s ∈ S} w_own(s)          other = max_{q ≠ own} Σ_{s ∈ S} w_q(s)
 *   relevance = 1 when own ≥ 0.5 (the answer uses its question's topic words) or other < 0.5 (no
 *               clear sign of another question's topic), else min(1, (own + 0.1) / (other + 0.1))
 *
 * so an answer built from another question's topic words scores near 0, and an answer that
 * matches no question in particular keeps 1: with the few answers per question of a test split,
 * missing topic words are weak evidence, another question's recurring topic words strong. (A likelihood-ratio classifier was tried first: on
 * template answers, whose wording is mostly shared phrases, chance repeats of a phrase in another
 * question's small pool outweighed the answer's own topic words; see docs/metrics.md.)
 */
import { contentStems } from './words.js';

export interface TopicSource {
  /** question_id, else the question text; undefined: the record takes no part */
  key?: string;
  reference: string;
  question?: string;
}

export class QuestionTopics {
  readonly #keys: Array<string | undefined>;
  readonly #refStems: Array<Set<string> | undefined>;
  readonly #questions: string[] = [];
  readonly #index = new Map<string, number>();
  readonly #docs: number[] = [];
  /** stem → (question index → document frequency) */
  readonly #df = new Map<string, Map<number, number>>();
  readonly #dfAll = new Map<string, number>();
  #totalDocs = 0;

  constructor(records: readonly TopicSource[]) {
    this.#keys = records.map((r) => r.key);
    this.#refStems = records.map((r) => (r.key === undefined ? undefined : new Set(contentStems(r.reference))));
    const questionTexts = new Map<string, string>();
    records.forEach((r, i) => {
      if (r.key === undefined) return;
      const q = this.#questionIndex(r.key);
      this.#addDoc(q, this.#refStems[i]!);
      if (r.question && !questionTexts.has(r.key)) questionTexts.set(r.key, r.question);
    });
    for (const [key, text] of questionTexts) this.#addDoc(this.#index.get(key)!, new Set(contentStems(text)));
  }

  /** Number of distinct questions. */
  get questions(): number {
    return this.#questions.length;
  }

  #questionIndex(key: string): number {
    let q = this.#index.get(key);
    if (q === undefined) {
      q = this.#questions.length;
      this.#index.set(key, q);
      this.#questions.push(key);
      this.#docs.push(0);
    }
    return q;
  }

  #addDoc(q: number, stems: ReadonlySet<string>): void {
    this.#docs[q]!++;
    this.#totalDocs++;
    for (const s of stems) {
      let m = this.#df.get(s);
      if (!m) this.#df.set(s, (m = new Map()));
      m.set(q, (m.get(q) ?? 0) + 1);
      this.#dfAll.set(s, (this.#dfAll.get(s) ?? 0) + 1);
    }
  }

  /**
   * The relevance of `prediction` to record i's question, or undefined when it cannot be judged:
   * the record has no question key, the file has one question only, or the prediction has no
   * content stem.
   */
  relevance(i: number, prediction: string): number | undefined {
    const key = this.#keys[i];
    if (key === undefined || this.#questions.length < 2) return undefined;
    const stems = new Set(contentStems(prediction));
    if (stems.size === 0) return undefined;
    const own = this.#index.get(key)!;
    const ownRef = this.#refStems[i]!;
    // leave-one-out: the record's own reference leaves its question's pool and the totals
    const N = this.#totalDocs - 1;
    const scores = new Float64Array(this.#questions.length);
    for (const s of stems) {
      const byQ = this.#df.get(s);
      if (!byQ) continue;
      const share = ((this.#dfAll.get(s) ?? 0) - (ownRef.has(s) ? 1 : 0)) / N;
      for (const [q, df0] of byQ) {
        const df = df0 - (q === own && ownRef.has(s) ? 1 : 0);
        const n = this.#docs[q]! - (q === own ? 1 : 0);
        // a stem counts as q's topic word only when it recurs in q's pool (twice or more)
        if (df >= 2 && n > 0) scores[q]! += Math.max(0, df / n - share);
      }
    }
    const mine = scores[own]!;
    let other = 0;
    for (let q = 0; q < scores.length; q++) if (q !== own && scores[q]! > other) other = scores[q]!;
    // only clear evidence of another question's topic counts against an answer
    if (mine >= 0.5 || other < 0.5) return 1;
    return Math.min(1, (mine + 0.1) / (other + 0.1));
  }
}
