import { describe, expect, it } from 'vitest';
import { explainStale, parseOutputDigest, parseStageKey, stageKey, type LockedStage, type StageKeyInputs } from '../../../src/engine/store/index.js';
import { draftFor } from './fixtures.js';

const h = (c: string): string => c.repeat(64);
const current: StageKeyInputs = {
  type: 'sample-personas',
  version: 1,
  params: { count: 40, teacher: { kind: 'template', temperature: 0.7 }, metrics: ['bleu', 'rouge'] },
  inputs: { dataset: parseOutputDigest(h('a')), personas: parseOutputDigest(h('b')) },
  deps: { 'tools/extra.py': h('c') },
};
function locked(k: StageKeyInputs): LockedStage {
  return { ...k, key: stageKey(k), outputs: { digest: parseOutputDigest(h('f')), files: 1, bytes: 1 } };
}

describe('explainStale', () => {
  it('says new stage when there is nothing to compare with', () => {
    expect(explainStale(undefined, current)).toEqual(['new stage']);
  });

  it('finds no reason when nothing changed (key order aside)', () => {
    const reordered = { ...current, params: { metrics: ['bleu', 'rouge'], teacher: { temperature: 0.7, kind: 'template' }, count: 40 } };
    expect(explainStale(locked(current), reordered)).toEqual([]);
  });

  it('names a version and a type change', () => {
    expect(explainStale(locked(current), { ...current, version: 2 })).toEqual(['stage version 1 -> 2']);
    expect(explainStale(locked(current), { ...current, type: 'other' })).toEqual(['stage type sample-personas -> other']);
  });

  it('names changed, added and removed params by dotted path', () => {
    const next = { ...current, params: { count: 50, teacher: { kind: 'llm' }, metrics: ['bleu', 'distinct'], seed: 7 } };
    expect(explainStale(locked(current), next)).toEqual([
      'param with.count: 40 -> 50',
      'param with.metrics[1]: "rouge" -> "distinct"',
      'param with.seed added: 7',
      'param with.teacher.kind: "template" -> "llm"',
      'param with.teacher.temperature removed (was 0.7)',
    ]);
    expect(explainStale(locked(current), { ...current, params: { ...(current.params as object), metrics: ['bleu'] } })).toEqual([
      'param with.metrics: ["bleu","rouge"] -> ["bleu"]',
    ]);
  });

  it('cuts long values', () => {
    const next = { ...current, params: { ...(current.params as object), count: 'x'.repeat(200) } };
    const [reason] = explainStale(locked(current), next);
    expect(reason!.length).toBeLessThan(100);
    expect(reason!.endsWith('…')).toBe(true);
  });

  it('names changed, added and removed inputs and deps', () => {
    const next: StageKeyInputs = {
      ...current,
      inputs: { dataset: parseOutputDigest(h('d')), chatml: parseOutputDigest(h('e')) },
      deps: { 'tools/extra.py': h('0'), 'data/x.csv': h('1') },
    };
    expect(explainStale(locked(current), next)).toEqual([
      'input chatml added',
      'input dataset changed',
      'input personas removed',
      'dep data/x.csv added',
      'dep tools/extra.py changed',
    ]);
  });

  it('works from a cache record too, and notices an engine key change', () => {
    const record = { ...draftFor(stageKey(current)), ...current, outputDigest: parseOutputDigest(h('f')), files: [] };
    expect(explainStale(record, current)).toEqual([]);
    expect(explainStale({ ...record, key: parseStageKey(h('9')) }, current)).toEqual(['engine key version changed']);
  });
});
