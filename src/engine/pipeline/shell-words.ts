/**
 * Putting a path into a POSIX shell command line (`sh -c`) as text that the shell reads back as
 * exactly that path, whatever it holds: spaces, quotes, `$(...)`, globs. A project in a folder
 * named `dollar$(touch PWNED)x` must not run `touch`, and one in `with space` must not split the
 * output directory into two words.
 *
 * The quoting depends on where in the command the path lands, so the command is scanned with
 * the shell's own quoting rules (POSIX "Token Recognition" and "Quoting"):
 *
 *   plain   cp in ${{ outputs.dir }}/x       -> cp in '/p/with space'/x
 *   '...'   echo 'at ${{ outputs.dir }}'     -> echo 'at '\''/p/it'\''s'\'''   (close, quoted word, reopen)
 *   "..."   echo "at ${{ outputs.dir }}"     -> echo "at /p/\$(x)"             (\ before $ ` " \)
 *   $(...)  inside "...": plain again, up to its closing parenthesis
 *
 * Not followed: here-documents, backquoted commands and `${VAR:-...}` words; a path there is
 * inserted as in the enclosing context. docs/pipeline-format.md says to pass such values through
 * `env:` and "$VAR" instead.
 */
import { unreachable } from '../../core/errors.js';

type Context = { kind: 'plain'; parens: number } | { kind: 'single' } | { kind: 'double' };

/** `text` as one shell word for a plain (unquoted) context. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Replaces every match of `pattern` (a global regex) in the shell command `command` by
 * `valueOf(match)`, quoted for the quoting context the match stands in.
 */
export function substituteInShell(command: string, pattern: RegExp, valueOf: (match: RegExpExecArray) => string): string {
  const sticky = new RegExp(pattern.source, pattern.flags.replace('g', '') + 'y');
  const stack: Context[] = [{ kind: 'plain', parens: 0 }];
  let out = '';
  let i = 0;
  while (i < command.length) {
    const context = stack[stack.length - 1]!;
    sticky.lastIndex = i;
    const m = sticky.exec(command);
    if (m) {
      const value = valueOf(m);
      if (context.kind === 'plain') out += shellQuote(value);
      else if (context.kind === 'single') out += `'${shellQuote(value)}'`;
      else out += value.replace(/[\\$`"]/g, '\\$&');
      i += m[0].length;
      continue;
    }
    const c = command[i]!;
    const next = command[i + 1];
    out += c;
    i++;
    switch (context.kind) {
      case 'single':
        if (c === "'") stack.pop();
        break;
      case 'double':
        if (c === '\\' && next !== undefined) {
          out += next;
          i++;
        } else if (c === '"') stack.pop();
        else if (c === '$' && next === '(') {
          out += next;
          i++;
          stack.push({ kind: 'plain', parens: 1 });
        }
        break;
      case 'plain':
        if (c === '\\' && next !== undefined) {
          out += next;
          i++;
        } else if (c === "'") stack.push({ kind: 'single' });
        else if (c === '"') stack.push({ kind: 'double' });
        else if (c === '(' && stack.length > 1) context.parens++;
        else if (c === ')' && stack.length > 1 && --context.parens === 0) stack.pop();
        break;
      default: {
        return unreachable(context);
      }
    }
  }
  return out;
}
