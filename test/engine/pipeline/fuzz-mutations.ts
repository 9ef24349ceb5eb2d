/**
 * Seeded mutations of valid pipeline texts, for the loader fuzz test (fuzz.test.ts). Each
 * mutation is a small edit a careless or hostile user could make: delete or duplicate text,
 * swap or re-indent lines, truncate, or splice in a YAML feature the loader must refuse or
 * survive (anchors and aliases, tags, directives, deep nesting, `.inf`, huge numbers, an
 * unterminated `${{`, a matrix with too many cells, NUL and control characters).
 */
import { Prng } from '../../../src/core/prng.js';

/** Snippets spliced in at a random offset. */
const SNIPPETS = [
  '&a ', '*a', '&a [x, *a]', '!include ', '!!binary ', '!!set ', '!!str ', '!foo ', '%YAML 9.9\n---\n', '%TAG ! tag:x:\n---\n',
  '{', '}', '[', ']', ': ', ':', '- ', '? ', '\t', '"', "'", '|', '>', '#', '---\n', '...\n', '\r', '\u0000', '\uFFFD', '\u2028',
  '${{', '}}', '${{ params.seed }}', '${{ params.nope }}', '${{ matrix.x }}', '${{ stages.nope.outputs.dir }}', '${{ outputs.dir }}', '${{ 1 + 1 }}',
  '.inf', '-.inf', '.nan', '1e20', '-0', '0x7fffffffffffffff', '9007199254740993', '1e-400', 'true', 'null', '~', '',
  '__proto__: 1', 'constructor: {}', '<<: *a', 'needs: [nope]', 'uses: nope', 'run: echo', 'version: 2',
  `${'['.repeat(200)}${']'.repeat(200)}`, `${'{a: '.repeat(100)}1${'}'.repeat(100)}`,
  '\n  l0: &l0 [a,a,a,a,a,a,a,a,a]\n  l1: &l1 [*l0,*l0,*l0,*l0,*l0,*l0,*l0,*l0,*l0]\n  l2: &l2 [*l1,*l1,*l1,*l1,*l1,*l1,*l1,*l1,*l1]\n  l3: &l3 [*l2,*l2,*l2,*l2,*l2,*l2,*l2,*l2,*l2]\n  l4: &l4 [*l3,*l3,*l3,*l3,*l3,*l3,*l3,*l3,*l3]\n  l5: &l5 [*l4,*l4,*l4,*l4,*l4,*l4,*l4,*l4,*l4]\n  l6: [*l5,*l5,*l5,*l5,*l5,*l5,*l5,*l5,*l5]\n',
  `\n    matrix: { ${Array.from({ length: 6 }, (_, i) => `x${i}: [1, 2, 3, 4]`).join(', ')} }\n`,
  '\n    matrix: { include: [ { x: 1 } ], exclude: [ { y: 2 } ] }\n',
];

type Mutation = (text: string, rng: Prng) => string;

const at = (text: string, rng: Prng): number => rng.int(text.length + 1);
const lines = (text: string): string[] => text.split('\n');

const MUTATIONS: Mutation[] = [
  // splice a snippet
  (t, r) => {
    const i = at(t, r);
    return t.slice(0, i) + SNIPPETS[r.int(SNIPPETS.length)]! + t.slice(i);
  },
  // delete a span of up to 40 characters
  (t, r) => {
    const i = at(t, r);
    return t.slice(0, i) + t.slice(i + 1 + r.int(40));
  },
  // duplicate a line
  (t, r) => {
    const l = lines(t);
    const i = r.int(l.length);
    l.splice(i, 0, l[i]!);
    return l.join('\n');
  },
  // swap two lines
  (t, r) => {
    const l = lines(t);
    const i = r.int(l.length);
    const j = r.int(l.length);
    [l[i], l[j]] = [l[j]!, l[i]!];
    return l.join('\n');
  },
  // re-indent a line by -4..+4 spaces
  (t, r) => {
    const l = lines(t);
    const i = r.int(l.length);
    const shift = r.int(9) - 4;
    l[i] = shift >= 0 ? ' '.repeat(shift) + l[i] : l[i]!.replace(new RegExp(`^ {0,${-shift}}`), '');
    return l.join('\n');
  },
  // truncate
  (t, r) => t.slice(0, at(t, r)),
  // replace a number by another kind of value
  (t, r) => {
    const numbers = [...t.matchAll(/\b\d+(\.\d+)?(e-?\d+)?\b/g)];
    if (numbers.length === 0) return t;
    const m = numbers[r.int(numbers.length)]!;
    const by = ['.inf', '1e20', '-1', '0', '3.5', '"7"', '[1]', '{}', 'null', '99999999999999999999'][r.int(10)]!;
    return t.slice(0, m.index) + by + t.slice(m.index! + m[0].length);
  },
  // flip one character to a random printable or control character
  (t, r) => {
    const i = r.int(Math.max(1, t.length));
    const c = String.fromCharCode(r.int(2) === 0 ? r.int(32) : 32 + r.int(95));
    return t.slice(0, i) + c + t.slice(i + 1);
  },
];

/** One to three mutations of `text`, drawn from `rng`. */
export function mutate(text: string, rng: Prng): string {
  let out = text;
  const n = 1 + rng.int(3);
  for (let k = 0; k < n; k++) out = MUTATIONS[rng.int(MUTATIONS.length)]!(out, rng);
  return out;
}

/** Bytes of a mutated text, with a chance of invalid UTF-8 (Latin-1 bytes, a cut sequence). */
export function mutateBytes(text: string, rng: Prng): Buffer {
  const bytes = Buffer.from(mutate(text, rng), 'utf8');
  switch (rng.int(3)) {
    case 0: {
      const i = rng.int(bytes.length + 1);
      return Buffer.concat([bytes.subarray(0, i), Buffer.from([0xe9]), bytes.subarray(i)]);
    }
    case 1:
      return Buffer.concat([bytes, Buffer.from('€').subarray(0, 2)]);
    default:
      return bytes;
  }
}
