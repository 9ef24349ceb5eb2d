import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { chatmlPrompt, chatmlReference, chatmlSplitFile, readChatmlSplit, writeChatmlSplit, type BuiltChatmlRecord } from '../../src/formats/chatml.js';
import { recordSchema } from '../../src/formats/schema-check.js';
import { DataError } from '../../src/core/errors.js';
import { removeTempDirs, tempDir } from '../helpers/stage-context.js';

afterAll(removeTempDirs);

const built: BuiltChatmlRecord = {
  id: 'health-0001-p0003',
  domain: 'healthcare',
  question_type: 'likert',
  persona: { age: 41, occupation: 'nurse' },
  question: { id: 'health-q1', text: 'How often do you see a doctor?', scale: { points: 3, labels: ['Rarely', 'Sometimes', 'Often'], reverse_scored: false } },
  reference: 'Sometimes (2 of 3).',
  meta: { persona_id: 'p0003' },
  messages: [
    { role: 'system', content: 'You are taking part in a survey.' },
    { role: 'user', content: 'How often do you see a doctor?' },
    { role: 'assistant', content: 'Sometimes (2 of 3).' },
  ],
  text: '<|im_start|>system\n…',
};

function splitFile(lines: Array<string | object>): string {
  const file = chatmlSplitFile(tempDir('pp-chatml-'), 'test');
  writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return file;
}

/** An independent validator: the schema file through a fresh ajv. */
function schemaValidator() {
  const ajv = new Ajv({ strict: false });
  ajv.addSchema(recordSchema('survey-item'));
  return ajv.compile(recordSchema('chatml-record'));
}

const userOnly = { id: 'a', messages: [{ role: 'user', content: 'Hi?' }] };

describe('ChatML records', () => {
  it('writes every field in a fixed key order and reads it back', () => {
    const file = chatmlSplitFile(tempDir(), 'train');
    const shuffled = Object.fromEntries(Object.entries(built).reverse()) as unknown as BuiltChatmlRecord;
    writeChatmlSplit(file, [built, { ...shuffled, id: 'second' }]);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const l of lines) expect(Object.keys(l)).toEqual(['id', 'domain', 'question_type', 'persona', 'question', 'reference', 'meta', 'messages', 'text']);
    const validate = schemaValidator();
    expect(lines.every((l) => validate(l))).toBe(true);
    const [first, second] = readChatmlSplit(file);
    expect(first).toEqual({ ...built, line: 1 });
    expect(second).toMatchObject({ id: 'second', line: 2 });
  });

  it('reads a chat dataset from elsewhere: numeric ids, only messages, extra fields kept', () => {
    const file = splitFile(['', { id: 7, messages: [{ role: 'user', content: 'Hi?', name: 'x' }], source: 'hub' }, '  ']);
    expect(readChatmlSplit(file)).toEqual([{ id: '7', messages: [{ role: 'user', content: 'Hi?' }], source: 'hub', line: 2 }]);
  });

  it('prompt = the messages before the trailing answer; reference = reference, else the last answer, else null', () => {
    expect(chatmlPrompt(built)).toEqual(built.messages.slice(0, 2));
    expect(chatmlReference({ messages: built.messages, reference: 'given' })).toBe('given');
    expect(chatmlReference({ messages: built.messages })).toBe('Sometimes (2 of 3).');
    expect(chatmlReference({ messages: userOnly.messages as BuiltChatmlRecord['messages'] })).toBeNull();
    expect(chatmlPrompt({ messages: userOnly.messages as BuiltChatmlRecord['messages'] })).toHaveLength(1);
  });

  const bad: Array<[string, Array<string | object>, RegExp, boolean]> = [
    // [case, lines, error, a schema-level rule (the schema file rejects it too)]
    ['broken JSON', [userOnly, '{"id": "b", "messages": ['], /test\.jsonl:2: not valid JSON/, false],
    ['not an object', ['[1, 2]'], /test\.jsonl:1: not a JSON object/, false],
    ['no id', [{ messages: userOnly.messages }], /test\.jsonl:1: missing required field "id"/, true],
    ['empty id', [{ id: '', messages: userOnly.messages }], /test\.jsonl:1: id: must NOT have fewer than 1 characters/, true],
    ['no messages', [{ id: 'x' }], /test\.jsonl:1: record "x": missing required field "messages"/, true],
    ['messages not a list', [{ id: 'x', messages: 'hello' }], /test\.jsonl:1: record "x": messages: must be array/, true],
    ['empty messages', [{ id: 'x', messages: [] }], /record "x": messages: must NOT have fewer than 1 items/, true],
    ['unknown role', [{ id: 'x', messages: [{ role: 'tool', content: 'a' }] }], /record "x": messages\[0\]\.role: must be one of "system", "user", "assistant"/, true],
    ['content not text', [{ id: 'x', messages: [{ role: 'user', content: 3 }] }], /record "x": messages\[0\]\.content: must be string/, true],
    ['no user turn', [{ id: 'x', messages: [{ role: 'assistant', content: 'a' }] }], /record "x": messages: needs a message with role "user"/, true],
    ['domain not text', [{ ...userOnly, domain: 5 }], /record "a": domain: must be string/, true],
    ['question without text', [{ ...userOnly, question: { id: 'q' } }], /record "a": question: missing required field "text"/, true],
    ['scale of one point', [{ ...userOnly, question: { id: 'q', text: 't', scale: { points: 1 } } }], /record "a": question\.scale\.points: must be >= 2/, true],
    ['labels that do not match points', [{ ...userOnly, question: { id: 'q', text: 't', scale: { points: 3, labels: ['a', 'b'] } } }], /test\.jsonl:1: record "a": question\.scale: 3 points but 2 labels/, false],
    ['duplicate id', [userOnly, { ...userOnly }], /test\.jsonl:2: record "a": duplicate id \(first on line 1\)/, false],
  ];
  for (const [name, lines, error, schemaRule] of bad) {
    it(`rejects ${name}, naming file, line and field`, () => {
      const file = splitFile(lines);
      let thrown: unknown;
      try {
        readChatmlSplit(file);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(DataError);
      expect((thrown as DataError).message).toMatch(error);
      expect((thrown as DataError).message.startsWith(file)).toBe(true);
      expect((thrown as DataError).location?.file).toBe(file);
      const last = lines.at(-1)!;
      if (schemaRule) expect(schemaValidator()(typeof last === 'string' ? JSON.parse(last) : last)).toBe(false);
    });
  }

  it('a missing split file is a DataError naming it', () => {
    const file = join(tempDir(), 'val.jsonl');
    expect(() => readChatmlSplit(file)).toThrow(`${file}: cannot read the ChatML split (no such file)`);
  });
});
