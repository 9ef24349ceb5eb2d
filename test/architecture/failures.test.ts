/**
 * Failures are data (src/core/errors.ts): library code throws the typed errors, never a plain
 * `Error`, so every failure a user can meet has a kind (its exit code) and a code from the closed
 * list. The compiler checks the codes; this test checks what it cannot: that no `new Error(` (or
 * its built-in subclasses) and no other Error class creeps back into src/ or stages/, and that
 * the list holds no code that nothing raises.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAILURE_CODES } from '../../src/core/errors.js';
import { root, sourceFiles } from './sources.js';

/** The places a plain Error stays, each with why. */
const PLAIN_ERROR_ALLOWED: Record<string, string> = {
  // listr2 shows a task as failed when its task function rejects; the failure itself is reported by the run summary.
  'src/cli/reporters/listr.ts': 'a display signal for listr2, never thrown to a caller',
};

/** Error classes besides the ones in core/errors.ts, each with why. */
const OTHER_ERROR_CLASSES: Record<string, string> = {
  // An HTTP answer of the OpenAI-compatible server (status, param, OpenAI's own code), never thrown past the server.
  'src/model/serve/request.ts': 'RequestError',
  // Control flow of the teacher's retry loop; what is left becomes a failure row, never thrown past the teacher.
  'src/survey/teachers/openai.ts': 'RetryableError',
};

describe('failures as data', () => {
  const files = ['src', 'stages'].flatMap(sourceFiles).filter((f) => f !== join('src', 'core', 'errors.ts'));
  const text = new Map(files.map((f) => [f, readFileSync(join(root, f), 'utf8')]));

  it('reads the sources (a check on the check)', () => {
    expect(files.length).toBeGreaterThan(150);
    expect(text.get('src/engine/registry.ts')).toMatch(/new UserError\(/);
  });

  it('no plain `new Error(` (nor TypeError, RangeError, …) outside the allow-list', () => {
    const found: string[] = [];
    for (const [file, source] of text) {
      if (PLAIN_ERROR_ALLOWED[file]) continue;
      source.split('\n').forEach((line, i) => {
        if (/\bnew (Error|TypeError|RangeError|SyntaxError|ReferenceError|EvalError|URIError|AggregateError)\(/.test(line)) found.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
    // The allow-list names only files that still need it.
    for (const file of Object.keys(PLAIN_ERROR_ALLOWED)) expect(text.get(file), file).toMatch(/\bnew Error\(/);
  });

  it('no other class extends Error directly outside the allow-list', () => {
    const found: string[] = [];
    for (const [file, source] of text) {
      for (const m of source.matchAll(/class (\w+) extends (Error|TypeError|RangeError)\b/g)) if (OTHER_ERROR_CLASSES[file] !== m[1]) found.push(`${file}: ${m[1]}`);
    }
    expect(found).toEqual([]);
  });

  it('every code in the list is raised somewhere', () => {
    const all = [...text.values()].join('\n');
    const unused = Object.values(FAILURE_CODES).flat().filter((code) => !all.includes(`'${code}'`));
    expect(unused).toEqual([]);
  });
});
