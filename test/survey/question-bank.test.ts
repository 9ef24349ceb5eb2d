import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinBankDir, loadQuestionBank } from '../../src/survey/question-bank.js';
import { PAPER_DOMAINS } from '../../src/survey/domains.js';
import { QUESTION_TYPES } from '../../src/formats/survey-item.js';
import { DataError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/stage-context.js';

function writeBank(files: Record<string, unknown>): string {
  const dir = tempDir('pp-bank-');
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}
const scale = { points: 2, labels: ['No', 'Yes'], reverse_scored: false };
const item = (id: string, extra: Record<string, unknown> = {}) => ({ id, domain: 'finance', type: 'yesno', text: 'Do you save?', construct: 'saving', instrument: 'FINRA NFCS', scale, ...extra });

describe('built-in question bank', () => {
  const bank = loadQuestionBank(builtinBankDir());

  it('covers the ten paper domains with at least 82 items', () => {
    expect([...bank.domains].sort()).toEqual([...PAPER_DOMAINS].sort());
    expect(bank.items.length).toBeGreaterThanOrEqual(82);
    for (const d of PAPER_DOMAINS) expect(bank.items.filter((q) => q.domain === d).length).toBeGreaterThanOrEqual(7);
  });

  it('matches the paper type shares within 2 points', () => {
    const paper = { open: 42.7, likert: 31.7, yesno: 18.3, agreement: 7.3 };
    for (const t of QUESTION_TYPES) {
      const share = (100 * bank.items.filter((q) => q.type === t).length) / bank.items.length;
      expect(Math.abs(share - paper[t])).toBeLessThan(2);
    }
  });

  it('gives every closed item a scale with one label per point and every item an instrument', () => {
    for (const q of bank.items) {
      expect(q.instrument.length).toBeGreaterThan(0);
      if (q.type === 'open') expect(q.scale).toBeUndefined();
      else expect(q.scale!.labels).toHaveLength(q.scale!.points);
    }
  });
});

describe('loadQuestionBank rejects a malformed bank with file and item id', () => {
  it('unknown type', () => {
    const dir = writeBank({ 'finance.json': { domain: 'finance', items: [item('f1'), item('f2', { type: 'ranking' })] } });
    expect(() => loadQuestionBank(dir)).toThrow(DataError);
    expect(() => loadQuestionBank(dir)).toThrow(/finance\.json item "f2": \/items\/1\/type must be one of/);
  });
  it('duplicate ids, across files', () => {
    const dir = writeBank({
      'finance.json': { domain: 'finance', items: [item('dup')] },
      'health.json': { domain: 'health', items: [item('dup', { domain: 'health' })] },
    });
    expect(() => loadQuestionBank(dir)).toThrow(/health\.json item "dup": duplicate id \(also in finance\.json\)/);
  });
  it('empty text', () => {
    const dir = writeBank({ 'finance.json': { domain: 'finance', items: [item('f1', { text: '   ' })] } });
    expect(() => loadQuestionBank(dir)).toThrow(/finance\.json item "f1": \/items\/0\/text text is empty/);
  });
  it('closed item without a scale, and labels not matching points', () => {
    const noScale = item('f1');
    delete (noScale as Record<string, unknown>).scale;
    expect(() => loadQuestionBank(writeBank({ 'finance.json': { domain: 'finance', items: [noScale] } }))).toThrow(/item "f1": a yesno item needs a scale/);
    const bad = item('f2', { type: 'likert', scale: { points: 5, labels: ['a', 'b'], reverse_scored: false } });
    expect(() => loadQuestionBank(writeBank({ 'finance.json': { domain: 'finance', items: [bad] } }))).toThrow(/item "f2": scale has 5 points but 2 labels/);
  });
  it('invalid JSON and a domain mismatch', () => {
    expect(() => loadQuestionBank(writeBank({ 'finance.json': '{"domain": "finance", "items": [' }))).toThrow(/finance\.json: not valid JSON/);
    expect(() => loadQuestionBank(writeBank({ 'finance.json': { domain: 'finance', items: [item('f1', { domain: 'health' })] } }))).toThrow(
      /item "f1": domain "health" differs/,
    );
  });
  it('a missing directory', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'empty'));
    expect(() => loadQuestionBank(join(dir, 'nope'))).toThrow(/question bank directory not found/);
    expect(() => loadQuestionBank(join(dir, 'empty'))).toThrow(/holds no \.json files/);
  });
  it('a copy of the built-in bank loads unchanged', () => {
    const src = builtinBankDir();
    const files: Record<string, unknown> = {};
    for (const d of PAPER_DOMAINS) files[`${d}.json`] = JSON.parse(readFileSync(join(src, `${d}.json`), 'utf8'));
    expect(loadQuestionBank(writeBank(files)).items.length).toBe(loadQuestionBank(src).items.length);
  });
});
