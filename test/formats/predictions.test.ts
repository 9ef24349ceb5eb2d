import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parsePredictions, predictionFromChatml, readPredictions, readPredictionsLenient, type GeneratedAnswer } from '../../src/formats/predictions.js';
import { recordSchema } from '../../src/formats/schema-check.js';
import type { ChatmlRecord } from '../../src/formats/chatml.js';
import { DataError } from '../../src/core/errors.js';
import { removeTempDirs, tempDir } from '../helpers/stage-context.js';

afterAll(removeTempDirs);

const answer: GeneratedAnswer = { text: 'Often.', promptTokens: 31, completionTokens: 3, finishReason: 'stop' };
const chatml: ChatmlRecord = {
  id: 'r1',
  domain: 'healthcare',
  question_type: 'likert',
  question: { id: 'health-q1', text: 'How often do you see a doctor?', scale: { points: 3, labels: ['Rarely', 'Sometimes', 'Often'], reverse_scored: true } },
  reference: 'Sometimes.',
  messages: [{ role: 'user', content: 'How often?' }, { role: 'assistant', content: 'Sometimes, I think.' }],
};

function validator() {
  const ajv = new Ajv({ strict: false });
  ajv.addSchema(recordSchema('survey-item'));
  return ajv.compile(recordSchema('prediction-record'));
}

const line = (o: object): string => JSON.stringify(o);

describe('prediction records', () => {
  it('generate\'s record carries the question, its id and scale, in a fixed key order, valid against the schema', () => {
    const p = predictionFromChatml(chatml, answer);
    expect(Object.keys(p)).toEqual(['id', 'domain', 'question_type', 'question_id', 'question', 'scale', 'reference', 'prediction', 'prompt_tokens', 'completion_tokens', 'finish_reason']);
    expect(p).toEqual({
      id: 'r1', domain: 'healthcare', question_type: 'likert', question_id: 'health-q1', question: 'How often do you see a doctor?',
      scale: { points: 3, labels: ['Rarely', 'Sometimes', 'Often'], reverse_scored: true }, reference: 'Sometimes.', prediction: 'Often.',
      prompt_tokens: 31, completion_tokens: 3, finish_reason: 'stop',
    });
    expect(validator()(p)).toBe(true);
  });

  it('a bare chat record gives nulls; the reference falls back to the answer turn, the question id to meta', () => {
    const p = predictionFromChatml({ id: 'x', messages: chatml.messages, meta: { question_id: 'q9' } }, answer);
    expect(p).toMatchObject({ domain: null, question_type: null, question_id: 'q9', question: null, scale: null, reference: 'Sometimes, I think.' });
    expect(validator()(p)).toBe(true);
    expect(predictionFromChatml({ id: 'y', messages: [chatml.messages[0]!] }, answer).reference).toBeNull();
  });

  it('reads back what generate writes; null and absent are the same', () => {
    const { records, skipped } = parsePredictions(`${line(predictionFromChatml(chatml, answer))}\n${line(predictionFromChatml({ id: 'x', messages: [chatml.messages[0]!] }, answer))}\n`);
    expect(skipped).toEqual([]);
    expect(records[0]).toEqual({ line: 1, record: { id: 'r1', prediction: 'Often.', reference: 'Sometimes.', domain: 'healthcare', question_type: 'likert', question_id: 'health-q1', question: 'How often do you see a doctor?', scale: chatml.question!.scale, prompt_tokens: 31, completion_tokens: 3, finish_reason: 'stop' } });
    expect(records[1]).toEqual({ line: 2, record: { id: 'x', prediction: 'Often.', prompt_tokens: 31, completion_tokens: 3, finish_reason: 'stop' } });
  });

  it('a file from elsewhere needs only id and prediction; numeric ids and question ids become text', () => {
    const { records } = parsePredictions(`${line({ id: 3, prediction: 'Yes.', question_id: 12, scale: { points: 2 } })}\r\n`);
    expect(records).toEqual([{ line: 1, record: { id: '3', prediction: 'Yes.', question_id: '12', scale: { points: 2 } } }]);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['broken JSON', '{"id": "a", "prediction": ', /^not valid JSON/],
    ['an array', '[1, 2]', /^not a JSON object$/],
    ['no id', line({ prediction: 'x', reference: 'y' }), /^missing required field "id"$/],
    ['no prediction', line({ id: 'a', reference: 'y' }), /^record "a": missing required field "prediction"$/],
    ['a numeric prediction', line({ id: 'a', prediction: 4 }), /^record "a": prediction: must be string$/],
    ['a numeric domain', line({ id: 'a', prediction: 'x', domain: 4 }), /^record "a": domain: must be string or null$/],
    ['a one-point scale', line({ id: 'a', prediction: 'x', scale: { points: 1 } }), /^record "a": scale\.points: must be >= 2$/],
    ['labels that do not match points', line({ id: 'a', prediction: 'x', scale: { points: 5, labels: ['a'] } }), /^record "a": scale: 5 points but 1 labels$/],
    ['an unknown finish reason', line({ id: 'a', prediction: 'x', finish_reason: 'eos' }), /^record "a": finish_reason: must be one of "stop", "length"$/],
  ];
  for (const [name, text, reason] of bad) {
    it(`lists a line with ${name} and keeps the rest; the strict reader names file and line`, () => {
      const good = line({ id: 'ok', prediction: 'fine' });
      const { records, skipped } = parsePredictions(`${good}\n${text}\n${line({ id: 'ok2', prediction: 'fine' })}\n`);
      expect(records.map((r) => r.line)).toEqual([1, 3]);
      expect(skipped).toHaveLength(1);
      expect(skipped[0]!.line).toBe(2);
      expect(skipped[0]!.reason).toMatch(reason);
      const file = join(tempDir(), 'predictions.jsonl');
      writeFileSync(file, `${good}\n${text}\n`);
      expect(() => readPredictions(file)).toThrow(DataError);
      expect(() => readPredictions(file)).toThrow(`${file}:2: ${skipped[0]!.reason}`);
    });
  }

  it('a duplicate id is a bad line', () => {
    const { records, skipped } = parsePredictions(`${line({ id: 'a', prediction: 'x' })}\n${line({ id: 'a', prediction: 'y' })}\n`);
    expect(records).toHaveLength(1);
    expect(skipped).toEqual([{ line: 2, reason: 'record "a": duplicate id (first on line 1)' }]);
  });

  it('a missing file is a DataError naming it', () => {
    const file = join(tempDir(), 'nope.jsonl');
    expect(() => readPredictions(file)).toThrow(`${file}: cannot read predictions file (no such file)`);
    expect(() => readPredictionsLenient(file)).toThrow(DataError);
  });
});
