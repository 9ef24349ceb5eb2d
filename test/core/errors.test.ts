import { describe, expect, it } from 'vitest';
import { DataError, FAILURE_CODES, failureOf, InternalError, StageFailure, UserError, type FailureCode } from '../../src/core/errors.js';

describe('failures as data', () => {
  it('every code belongs to one area, once', () => {
    const all: string[] = Object.values(FAILURE_CODES).flat();
    expect(all.length).toBeGreaterThan(90);
    expect(new Set(all).size).toBe(all.length);
    for (const code of all) expect(code).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
  });

  it('classifies each error class by its kind, and anything else as unexpected', () => {
    const user = new UserError('usage', 'bad flag');
    const data = new DataError('bad-json', 'x.json: not JSON');
    const stage = new StageFailure('command-failed', 'exit 3');
    const internal = new InternalError('an invariant broke');
    expect(failureOf(user)).toEqual({ kind: 'user', error: user });
    expect(failureOf(data)).toEqual({ kind: 'data', error: data });
    expect(failureOf(stage)).toEqual({ kind: 'stage', error: stage });
    expect(failureOf(internal)).toEqual({ kind: 'internal', error: internal });
    expect(internal.code).toBe('internal');
    const plain = new Error('from a library');
    expect(failureOf(plain)).toEqual({ kind: 'unexpected', error: plain });
    expect(failureOf('a string')).toEqual({ kind: 'unexpected', error: 'a string' });
    // An aborted run is cancelled whatever was thrown (the abort reason is itself a UserError).
    expect(failureOf(user, true)).toEqual({ kind: 'cancelled', error: user });
  });

  it('a DataError is still a UserError (callers that catch user mistakes catch bad data too)', () => {
    expect(new DataError('bad-config', 'x')).toBeInstanceOf(UserError);
    expect(new DataError('bad-config', 'x').kind).toBe('data');
    expect(new UserError('usage', 'x').kind).toBe('user');
  });

  it('the compiler rejects a code that is not in the list', () => {
    // @ts-expect-error: 'no-such-code' is not a FailureCode (this line fails `npm run typecheck` if it compiles)
    const bad: FailureCode = 'no-such-code';
    expect(Object.values(FAILURE_CODES).flat()).not.toContain(bad);
  });
});
