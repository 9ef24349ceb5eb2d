import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { resolveRuntimeExpressions } from '../../../src/engine/pipeline/expressions.js';
import { shellQuote, substituteInShell } from '../../../src/engine/pipeline/shell-words.js';

/** What `sh -c COMMAND` prints: the reference every substitution is checked against. */
function sh(command: string): string {
  return execFileSync('sh', ['-c', command], { encoding: 'utf8' });
}

const HOSTILE = ['/p/with space/out', "/p/it's/out", '/p/dollar$(echo PWNED)x/out', '/p/`echo PWNED`/out', '/p/a"b\\c/out', '/p/*/?/[x]', '/p/$HOME/~/out', '/p/new\nline', '/p/;&|<>'];
const EXPR = /\$\{\{\s*outputs\.dir\s*\}\}/g;

describe('substituteInShell: a path reads back from sh exactly, in every quoting context', () => {
  it('plain, single-quoted, double-quoted, inside $( ) in double quotes, and next to text', () => {
    for (const path of HOSTILE) {
      const forms: Array<[string, string]> = [
        ['printf "%s|" ${{ outputs.dir }}', `${path}|`],
        ['printf "%s|" ${{ outputs.dir }}/x', `${path}/x|`],
        ["printf '%s|' 'in ${{ outputs.dir }} single'", `in ${path} single|`],
        ['printf "%s|" "in ${{ outputs.dir }} double"', `in ${path} double|`],
        ['printf "%s|" "$(printf "%s" ${{ outputs.dir }})"', `${path}|`],
        ['printf "%s|" "$(printf "%s" "${{ outputs.dir }}")"', `${path}|`],
        ['printf "%s|" x${{ outputs.dir }}y', `x${path}y|`],
        ["printf '%s|' \\'${{ outputs.dir }}", `'${path}|`],
      ];
      for (const [command, expected] of forms) {
        const substituted = substituteInShell(command, EXPR, () => path);
        // Command substitution strips trailing newlines; the forms end with "|" so none is lost.
        expect(sh(substituted), `${command} with ${JSON.stringify(path)}`).toBe(expected);
      }
    }
  });

  it('text without expressions passes through unchanged, quotes and all', () => {
    const command = `echo 'a "b"' "c 'd' \\" $(e "f")" \\' g # h`;
    expect(substituteInShell(command, EXPR, () => 'never')).toBe(command);
  });

  it('shellQuote makes one word of anything', () => {
    for (const path of HOSTILE) expect(sh(`printf "%s" ${shellQuote(path)}`)).toBe(path);
  });
});

describe('resolveRuntimeExpressions with shellParams', () => {
  it('quotes in the shell params only; env and other strings get the plain path', () => {
    const ctx = { outputsDir: '/p/dollar$(touch PWNED)x/o', stageDirs: { a: '/c/with space/a' }, shellParams: ['run'] };
    const params = { run: 'cp ${{ stages.a.outputs.dir }}/f ${{ outputs.dir }}/f', env: { OUT: '${{ outputs.dir }}' }, deps: ['${{ outputs.dir }}'] };
    expect(resolveRuntimeExpressions(params, ctx)).toEqual({
      run: "cp '/c/with space/a'/f '/p/dollar$(touch PWNED)x/o'/f",
      env: { OUT: '/p/dollar$(touch PWNED)x/o' },
      deps: ['/p/dollar$(touch PWNED)x/o'],
    });
  });
});
