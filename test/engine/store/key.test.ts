import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ENGINE_KEY_VERSION, stageKey, type StageKeyInputs } from '../../../src/engine/store/index.js';

const base: StageKeyInputs = {
  type: 'sample-personas',
  version: 1,
  params: { count: 40, seed: 7, teacher: { kind: 'template', temperature: 0.7 }, metrics: ['bleu', 'rouge'] },
  inputs: { personas: 'a'.repeat(64), dataset: 'b'.repeat(64) },
  deps: { 'tools/extra.py': 'c'.repeat(64) },
};

describe('stageKey', () => {
  it('is the sha256 of the canonical JSON of the engine version and the key parts', () => {
    const k = { type: 't', version: 2, params: { b: 1, a: [1, 'x'] }, inputs: {}, deps: { f: 'd' } };
    // Hand-written canonical form: sorted keys at every level, no whitespace.
    const canonical = `{"deps":{"f":"d"},"engine":${ENGINE_KEY_VERSION},"inputs":{},"params":{"a":[1,"x"],"b":1},"type":"t","version":2}`;
    expect(stageKey(k)).toBe(createHash('sha256').update(canonical).digest('hex'));
  });

  it('gives the same key for the same inputs, whatever the key order in params, inputs and deps', () => {
    const reordered: StageKeyInputs = {
      deps: { ...base.deps },
      inputs: { dataset: 'b'.repeat(64), personas: 'a'.repeat(64) },
      params: { metrics: ['bleu', 'rouge'], teacher: { temperature: 0.7, kind: 'template' }, seed: 7, count: 40 },
      version: 1,
      type: 'sample-personas',
    };
    expect(stageKey(reordered)).toBe(stageKey(base));
    expect(stageKey(structuredClone(base))).toBe(stageKey(base));
    expect(stageKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes when any part changes', () => {
    const variants: StageKeyInputs[] = [
      { ...base, type: 'sample-persona' },
      { ...base, version: 2 },
      { ...base, params: { ...(base.params as object), count: 41 } },
      { ...base, params: { ...(base.params as object), teacher: { kind: 'template', temperature: 0.8 } } },
      { ...base, params: { ...(base.params as object), metrics: ['rouge', 'bleu'] } }, // array order matters
      { ...base, params: { ...(base.params as object), extra: null } },
      { ...base, inputs: { ...base.inputs, personas: 'd'.repeat(64) } },
      { ...base, inputs: { personas: 'a'.repeat(64) } },
      { ...base, inputs: { ...base.inputs, other: 'a'.repeat(64) } },
      { ...base, deps: { 'tools/extra.py': 'e'.repeat(64) } },
      { ...base, deps: { 'tools/other.py': 'c'.repeat(64) } },
      { ...base, deps: {} },
    ];
    const keys = new Set([stageKey(base), ...variants.map(stageKey)]);
    expect(keys.size).toBe(variants.length + 1);
  });

  it('tells a string param from a number param', () => {
    expect(stageKey({ ...base, params: { count: 40 } })).not.toBe(stageKey({ ...base, params: { count: '40' } }));
  });
});
