import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATASET_FILE, readDatasetFile, type DatasetRecord } from '../../src/survey/record.js';
import { DataError } from '../../src/core/errors.js';
import { removeTempDirs, tempDir } from '../helpers/stage-context.js';

afterAll(removeTempDirs);

const record: DatasetRecord = {
  id: 'finance-0001-p0002',
  domain: 'finance',
  question_type: 'yesno',
  question: { id: 'fin-q3', text: 'Do you keep a budget?', scale: { points: 2, labels: ['No', 'Yes'], reverse_scored: false } },
  persona: { age: 30 },
  reference: 'Yes, every month.',
  meta: { persona_id: 'p0002' },
};

function datasetFile(lines: object[]): string {
  const file = join(tempDir('pp-dataset-'), DATASET_FILE);
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return file;
}

describe('dataset.jsonl', () => {
  it('reads records that match schemas/dataset-record.schema.json', () => {
    expect(readDatasetFile(datasetFile([record, { ...record, id: 'b', persona: 'A retired teacher.' }]))).toEqual([record, { ...record, id: 'b', persona: 'A retired teacher.' }]);
  });

  const bad: Array<[string, object, RegExp]> = [
    ['an unknown question type', { ...record, question_type: 'ranking' }, /:2: record "x": question_type: must be one of "likert", "open", "yesno", "agreement"/],
    ['an empty reference', { ...record, reference: '' }, /:2: record "x": reference: must NOT have fewer than 1 characters/],
    ['no meta', { ...record, meta: undefined }, /:2: record "x": missing required field "meta"/],
    ['a scale without labels', { ...record, question: { id: 'q', text: 't', scale: { points: 2, reverse_scored: false } } }, /:2: record "x": question\.scale: missing required field "labels"/],
  ];
  for (const [name, value, error] of bad) {
    it(`rejects ${name}, naming file, line, record and field`, () => {
      const file = datasetFile([record, { ...value, id: 'x' }]);
      expect(() => readDatasetFile(file)).toThrow(DataError);
      expect(() => readDatasetFile(file)).toThrow(error);
    });
  }
});
