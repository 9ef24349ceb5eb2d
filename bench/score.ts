/**
 * `npm run bench -- score [records] [runs]`: records/s of the lexical + survey metric stack
 * (BLEU, ROUGE-1/2/L/Lsum with stemming, distinct-n, survey metrics incl. VADER) on generated
 * records of 40–80 words, in one process. Ceiling: the same records through whitespace
 * tokenisation only (the least any of these metrics must do). Target (issue 5): >= 6,000 records/s
 * for BLEU + ROUGE + distinct + survey metrics together, 10x the Python references' ~600 records/s.
 * Each figure is the median of `runs` runs (default 3), by wall time and by this process's CPU
 * time (user + system, all its threads, so GC helper threads count); the load average is
 * printed because the development machine is shared.
 */
import { loadavg } from 'node:os';
import { Prng } from '../src/core/prng.js';
import { pySplit } from '../src/metrics/python-text.js';
import { scorePredictions, type ScoredInput } from '../src/metrics/score-file.js';

// A survey-answer vocabulary: common words, inflected forms (to exercise the stemmer), sentiment words.
const WORDS = (
  'i you we they it the a an and or but not never very really quite somewhat often rarely usually always ' +
  'feel think believe prefer value trust worry enjoy appreciate struggle manage plan save spend invest ' +
  'feeling thinking believed preferred valued trusting worried enjoying appreciated struggling managing planning saving ' +
  'community health education technology finance environment privacy family work school doctor teacher budget ' +
  'communities services policies decisions experiences opportunities responsibilities relationships ' +
  'good great happy helpful important comfortable confident satisfied bad difficult stressful worried unfair ' +
  'strongly agree disagree neutral yes no important because when while though however therefore especially ' +
  'daily weekly monthly online local public private personal financial environmental technological educational'
).split(' ');

export function generate(n: number, seed: number): ScoredInput[] {
  const rng = new Prng(seed);
  const sentence = (words: number): string => {
    const out: string[] = [];
    for (let i = 0; i < words; i++) out.push(WORDS[rng.int(WORDS.length)]!);
    // sentences of 8–15 words with punctuation, first word capitalised
    const parts: string[] = [];
    for (let i = 0; i < out.length; ) {
      const len = 8 + rng.int(8);
      const s = out.slice(i, i + len).join(' ');
      parts.push(s.charAt(0).toUpperCase() + s.slice(1) + (rng.int(5) === 0 ? '!' : '.'));
      i += len;
    }
    return parts.join(' ');
  };
  const types = ['open', 'likert', 'yesno', 'agreement'];
  const records: ScoredInput[] = [];
  for (let i = 0; i < n; i++) {
    const type = types[rng.int(types.length)]!;
    records.push({
      line: i + 1,
      record: { id: `r${i}`, domain: `d${rng.int(10)}`, question_type: type, question_id: `q${rng.int(40)}`, reference: sentence(40 + rng.int(41)), prediction: sentence(40 + rng.int(41)) },
    });
  }
  return records;
}

let RUNS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Median wall and CPU records/s over RUNS runs of fn; returns the wall rate. */
async function timeIt(label: string, n: number, fn: () => Promise<unknown> | unknown, runs = RUNS): Promise<number> {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let k = 0; k < runs; k++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    walls.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1e6);
  }
  const wall = median(walls);
  const cpu = median(cpus);
  const rate = n / wall;
  console.log(
    `${label.padEnd(48)} wall ${wall.toFixed(2).padStart(6)} s ${Math.round(rate).toString().padStart(7)} rec/s | cpu ${cpu.toFixed(2).padStart(6)} s ${Math.round(n / cpu).toString().padStart(7)} rec/s`,
  );
  return rate;
}

const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

export default async function bench(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 10000);
  RUNS = Math.max(1, Number(args[1] ?? 3));
  const records = generate(n, 7);
  let words = 0;
  for (const r of records) words += pySplit(r.record.prediction).length + pySplit(r.record.reference).length;
  console.log(`score bench: ${n} generated records, ${(words / (2 * n)).toFixed(1)} words per text on average, node ${process.version}, median of ${RUNS} runs, load average ${load()}`);
  // warm up the JIT and the stemmer cache on a slice, as a long scoring run would be
  await scorePredictions(records.slice(0, 500), { metrics: ['lexical', 'survey'] });
  await timeIt('ceiling: whitespace tokenisation only', n, () => {
    let t = 0;
    for (const r of records) t += pySplit(r.record.prediction).length + pySplit(r.record.reference).length;
    return t;
  });
  const lexical = await timeIt('lexical: bleu + bleu_corpus + rouge + distinct', n, () => scorePredictions(records, { metrics: ['lexical'] }));
  await timeIt('distinct_1 + distinct_2, grouped', n, () => scorePredictions(records, { metrics: ['distinct'] }));
  await timeIt('bleu + bleu_corpus', n, () => scorePredictions(records, { metrics: ['bleu'], by: [] }));
  await timeIt('rouge1/2/L/Lsum (stemmed)', n, () => scorePredictions(records, { metrics: ['rouge'], by: [] }));
  await timeIt('survey metrics (VADER, segmenter, answers)', n, () => scorePredictions(records, { metrics: ['survey'], by: [] }));
  const all = await timeIt('all: lexical + survey, grouped', n, () => scorePredictions(records, { metrics: ['lexical', 'survey'] }));
  console.log(
    `target >= 6000 records/s for lexical + survey together: ${all >= 6000 ? 'met' : 'NOT met'} (${Math.round(all)} by wall); lexical alone ${Math.round(lexical)}; load average ${load()}`,
  );
  await bertScoreBench(records.slice(0, Math.min(n, 2000)));
}

/** BERTScore with a tiny random encoder (H 64, 2 layers, 4 heads) and a word-hash tokeniser. */
async function bertScoreBench(records: ScoredInput[]): Promise<void> {
  const { buildBertEncoderGraph, embedSequences } = await import('../src/model/bert/encoder.js');
  const { randomBertWeights } = await import('../src/model/bert/random-weights.js');
  const { bertScore } = await import('../src/metrics/bertscore/score.js');
  const { sessionFromGraph } = await import('../src/model/onnx/session.js');
  const config = { hiddenSize: 64, numHeads: 4, intermediateSize: 256, layers: 2, layerNormEps: 1e-12, positionOffset: 2 };
  const vocab = 4096;
  const session = await sessionFromGraph(await buildBertEncoderGraph(config, randomBertWeights(config, { vocab, positions: 160 }, 7)), { threads: 1 });
  // ids: 0 = <s>, 1 = <pad>, 2 = </s>; words hashed into 3..vocab-1
  const tokenize = (text: string): number[] => {
    const ids = [0];
    for (const w of pySplit(text.toLowerCase())) {
      let h = 2166136261;
      for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 16777619) >>> 0;
      ids.push(3 + (h % (vocab - 3)));
    }
    ids.push(2);
    return ids;
  };
  const n = records.length;
  await timeIt(`bertscore (tiny encoder, 1 thread, ${n} records)`, n, async () => {
    const preds = await embedSequences(session as never, records.map((r) => tokenize(r.record.prediction)), { padId: 1, batchSize: 32 });
    const refs = await embedSequences(session as never, records.map((r) => tokenize(r.record.reference)), { padId: 1, batchSize: 32 });
    return bertScore(preds, refs, { specialIds: new Set([0, 1, 2]), idf: true });
  }, 1); // one run: it takes seconds and is not the lexical target
}
