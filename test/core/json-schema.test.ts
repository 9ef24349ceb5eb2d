import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { describeAjvError, fieldPath } from '../../src/core/json-schema.js';

function firstIssue(schema: object, value: unknown) {
  const validate = new Ajv({ strict: false, verbose: true }).compile(schema);
  expect(validate(value)).toBe(false);
  return describeAjvError(validate.errors![0]!);
}

describe('JSON Schema errors in words', () => {
  it('pointers become field paths', () => {
    expect(fieldPath('')).toBe('');
    expect(fieldPath('/messages/0/role')).toBe('messages[0].role');
    expect(fieldPath('/a~1b/c~0d')).toBe('a/b.c~d');
  });

  it('says which field is unknown, missing, or of the wrong kind', () => {
    const schema = { type: 'object', additionalProperties: false, required: ['r'], properties: { r: { type: ['integer', 'null'] }, kind: { enum: ['a', 'b'] }, peft: { const: 'LORA' } } };
    expect(firstIssue(schema, { r: 1, rr: 2 })).toEqual({ pointer: '/rr', message: 'unknown field "rr"' });
    expect(firstIssue(schema, {})).toEqual({ pointer: '', message: 'missing required field "r"' });
    expect(firstIssue(schema, { r: 'x' })).toEqual({ pointer: '/r', message: 'must be integer or null' });
    expect(firstIssue(schema, { r: 1, kind: 'c' })).toEqual({ pointer: '/kind', message: 'must be one of "a", "b"' });
    expect(firstIssue(schema, { r: 1, peft: 'IA3' })).toEqual({ pointer: '/peft', message: 'must be "LORA"' });
  });

  it('a `contains` error says what was looked for, from the schema\'s description', () => {
    const described = { type: 'array', contains: { description: 'a user turn', const: 'user' } };
    expect(firstIssue(described, ['system'])).toEqual({ pointer: '', message: 'needs a user turn' });
    expect(firstIssue({ type: 'array', contains: { const: 'user' } }, ['x']).message).toMatch(/must contain/);
  });
});
