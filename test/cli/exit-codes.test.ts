import { describe, expect, it } from 'vitest';
import { DataError, failureOf, InternalError, StageFailure, UserError, type Failure } from '../../src/core/errors.js';
import { EXIT, exitCodeOf, formatError } from '../../src/cli/command.js';

describe('exit codes: the one switch over failure kinds', () => {
  it('maps every kind to its documented exit code (0 ok, 1 failed, 2 usage/validation, 130 cancelled)', () => {
    const cases: Array<[Failure, number]> = [
      [failureOf(new UserError('usage', 'x')), 2],
      [failureOf(new DataError('bad-json', 'x')), 2],
      [failureOf(new StageFailure('command-failed', 'x')), 1],
      [failureOf(new InternalError('x')), 1],
      [failureOf(new Error('x')), 1],
      [failureOf(new UserError('cancelled', 'cancelled by SIGINT'), true), 130],
    ];
    for (const [failure, code] of cases) expect([failure.kind, exitCodeOf(failure)]).toEqual([failure.kind, code]);
    expect(Object.values(EXIT).sort((a, b) => a - b)).toEqual([0, 1, 2, 130]);
  });

  it('words each kind: a location first for ours, a bug report for an internal error, never a stack without --verbose', () => {
    expect(formatError(new DataError('bad-json', 'not JSON', { location: { file: 'a.json', line: 3 } }), false)).toBe('error: a.json:3: not JSON');
    expect(formatError(new StageFailure('command-failed', 'exit 3'), false)).toBe('error: exit 3');
    const internal = formatError(new InternalError('graph built twice'), false);
    expect(internal).toMatch(/^internal error \(a bug, please report it\): graph built twice\n\(run with --verbose for details\)$/);
    expect(formatError(new InternalError('graph built twice'), true)).toMatch(/\n\s+at /);
    expect(formatError(new Error('from a library'), false)).toMatch(/^internal error: from a library\n/);
    expect(formatError('thrown string', false)).toBe('internal error: thrown string');
  });
});
