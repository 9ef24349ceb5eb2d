/**
 * Hostile pipeline files (issue 11): each must be refused with a message that names the file,
 * the line and, where a limit is hit, the limit — never hang, never overflow the stack, never
 * load silently. Loads run in-process; the CLI is driven in cli/hostile-inputs.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.js';
import { loadPipeline, parsePipeline } from '../../../src/engine/pipeline/index.js';
import { MAX_ALIAS_EXPANSION, MAX_MATRIX_COMBINATIONS, MAX_NESTING_DEPTH, MAX_PIPELINE_BYTES } from '../../../src/engine/pipeline/limits.js';
import { testRegistry } from './fixtures.js';

const FILE = 'p.yaml';
const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pp-hostile-'));
  made.push(dir);
  return dir;
}
const lines = (...l: string[]): string => l.join('\n') + '\n';

/** The UserError a text gives (fails the test when it loads or throws anything else). */
function refusal(text: string): UserError {
  try {
    parsePipeline(text, FILE, testRegistry());
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    return err;
  }
  throw new Error('expected the pipeline to be refused');
}

/** Nine aliases of nine aliases, `levels` deep: 9^levels strings from a few hundred bytes. */
function aliasBomb(levels: number, where: 'params' | 'with'): string {
  const anchors = ['  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i <= levels; i++) anchors.push(`  l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(',')}]`);
  if (where === 'params') return lines('version: 1', 'params:', ...anchors, 'stages:', '  a:', '    run: echo hi');
  return lines('version: 1', 'stages:', '  a:', '    uses: sample-personas', '    with:', '      count: 1', ...anchors.map((a) => `    ${a}`));
}

describe('hostile pipeline files are refused at once, naming file, line and limit', () => {
  it('a YAML alias bomb in params or with: stops at the alias-expansion limit', () => {
    for (const where of ['params', 'with'] as const) {
      const err = refusal(aliasBomb(9, where));
      expect(err.message).toMatch(new RegExp(`^p\\.yaml:\\d+:\\d+: .*aliases expand to more than ${MAX_ALIAS_EXPANSION.toLocaleString('en-US')} values \\(the limit on alias expansion`));
    }
    // Aliases used as intended are fine.
    const p = parsePipeline(lines('version: 1', 'params:', '  common: &c { count: 3 }', 'stages:', '  a:', '    uses: sample-personas', '    with: *c', '  b:', '    uses: sample-personas', '    with: *c'), FILE, testRegistry());
    expect(p.stages.get('b')!.params.count).toBe(3);
  });

  it('a recursive alias', () => {
    const err = refusal(lines('version: 1', 'stages: &s', '  a: *s'));
    expect(err.message).toBe('p.yaml:3:6: stages.a: recursive alias *s: it stands inside its own anchor &s');
  });

  it('an alias to no anchor', () => {
    expect(refusal(lines('version: 1', 'params: { x: *nowhere }', 'stages:', '  a:', '    run: echo')).message).toMatch(/^p\.yaml:2:\d+: .*unknown alias \*nowhere/);
  });

  it('10,000 nested maps or lists, block or flow: the nesting limit, with its line', () => {
    const deep = 10_000;
    const flowMap = lines('version: 1', `params: { x: ${'{a: '.repeat(deep)}1${'}'.repeat(deep)} }`, 'stages:', '  a:', '    run: echo');
    const flowSeq = lines('version: 1', `params: { x: ${'['.repeat(deep)}${']'.repeat(deep)} }`, 'stages:', '  a:', '    run: echo');
    const block = lines('version: 1', 'stages:', '  a:', '    run: echo', 'params:', ...Array.from({ length: 1_000 }, (_, i) => `${' '.repeat(i + 1)}k:`));
    const limit = `nest more than ${MAX_NESTING_DEPTH} levels deep (the limit on nesting depth)`;
    expect(refusal(flowMap).message).toMatch(new RegExp(`^p\\.yaml:2:\\d+: maps and lists ${limit.replace(/[()]/g, '\\$&')}$`));
    expect(refusal(flowSeq).message).toContain(limit);
    expect(refusal(block).message).toMatch(/^p\.yaml:\d+:\d+: maps and lists nest more than/);
    // Exactly at the limit loads (the top-level map counts as 1).
    const atLimit = lines('version: 1', `params: { x: ${'['.repeat(MAX_NESTING_DEPTH - 2)}${']'.repeat(MAX_NESTING_DEPTH - 2)} }`, 'stages:', '  a:', '    run: echo');
    expect(() => parsePipeline(atLimit, FILE, testRegistry())).not.toThrow();
  });

  it('nesting that only aliases make deep is counted through them', () => {
    const anchors = ['  n0: &n0 [1]'];
    for (let i = 1; i <= 80; i++) anchors.push(`  n${i}: &n${i} [*n${i - 1}]`);
    expect(refusal(lines('version: 1', 'params:', ...anchors, 'stages:', '  a:', '    run: echo')).message).toContain('(the limit on nesting depth)');
  });

  it('a file over the size limit, and an unterminated 50 MB string, are refused before parsing', () => {
    const dir = tempDir();
    const file = join(dir, 'big.yaml');
    writeFileSync(file, `version: 1\nstages:\n  a:\n    run: "${'x'.repeat(MAX_PIPELINE_BYTES)}\n`);
    expect(() => loadPipeline(file, testRegistry())).toThrow(`${file}: cannot read pipeline file: it is larger than the limit of 1 MiB`);
    expect(refusal(`version: 1\nstages:\n  a:\n    run: "${'x'.repeat(50 << 20)}\n`).message).toBe('p.yaml: the pipeline is larger than the limit of 1 MiB');
  });

  it('a FIFO, a directory or a device as the pipeline file is refused, not read', () => {
    const dir = tempDir();
    const fifo = join(dir, 'fifo.yaml');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return; // no mkfifo on this system: the directory case below still runs
    }
    expect(() => loadPipeline(fifo, testRegistry())).toThrow(`${fifo}: cannot read pipeline file: it is a named pipe (FIFO), not a regular file`);
    mkdirSync(join(dir, 'd.yaml'));
    expect(() => loadPipeline(join(dir, 'd.yaml'), testRegistry())).toThrow('it is a directory, not a regular file');
    expect(() => loadPipeline('/dev/zero', testRegistry())).toThrow('it is a device, not a regular file');
  });

  it('invalid UTF-8 (Latin-1, truncated) is refused with its byte offset and line', () => {
    const dir = tempDir();
    const latin1 = join(dir, 'latin1.yaml');
    writeFileSync(latin1, Buffer.concat([Buffer.from('version: 1\nstages:\n  a:\n    run: echo caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    expect(() => loadPipeline(latin1, testRegistry())).toThrow(`${latin1}:4: pipeline file is not valid UTF-8 at byte offset 41 (bytes 0xe9 0x0a); save it as UTF-8`);
    const truncated = join(dir, 'truncated.yaml');
    writeFileSync(truncated, Buffer.concat([Buffer.from('version: 1\nstages:\n  a:\n    run: echo '), Buffer.from('€').subarray(0, 2)]));
    expect(() => loadPipeline(truncated, testRegistry())).toThrow(/truncated\.yaml:4: pipeline file is not valid UTF-8 at byte offset 38 \(bytes 0xe2 0x82\)/);
    try {
      loadPipeline(truncated, testRegistry());
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
    }
  });

  it('%YAML 9.9 and custom tags (!include, !!binary, !!set) are refused', () => {
    expect(refusal(lines('%YAML 9.9', '---', 'version: 1', 'stages:', '  a:', '    run: echo')).message).toMatch(/^p\.yaml:1:\d+: invalid YAML: Unsupported YAML version 9\.9/);
    expect(refusal(lines('version: 1', 'stages:', '  a:', '    run: !include x.yaml')).message).toMatch(/^p\.yaml:4:10: invalid YAML: Unresolved tag: !include.*no custom tags/);
    expect(refusal(lines('version: 1', 'params: { b: !!binary aGk= }', 'stages:', '  a:', '    run: echo')).message).toBe(
      'p.yaml:2:23: params.b: the tag !!binary is not supported; a pipeline takes plain strings, numbers, booleans, lists and maps',
    );
    expect(refusal(lines('version: 1', 'params: { s: !!set { x } }', 'stages:', '  a:', '    run: echo')).message).toContain('the tag !!set is not supported');
    // Core tags stay usable.
    expect(parsePipeline(lines('version: 1', 'params: { s: !!str 12 }', 'stages:', '  a:', '    run: echo'), FILE, testRegistry()).params.s).toBe('12');
    expect(parsePipeline(lines('%YAML 1.2', '---', 'version: 1', 'stages:', '  a:', '    run: echo'), FILE, testRegistry()).stages.size).toBe(1);
  });

  it('.inf, .nan and integers past 2^53 (count: 1e20) are refused at load, not at run time', () => {
    const withCount = (v: string): string => lines('version: 1', 'stages:', '  a:', '    uses: sample-personas', `    with: { count: ${v} }`);
    expect(refusal(withCount('.inf')).message).toBe('p.yaml:5:20: stages.a.with.count: .inf is not a number a pipeline can hold (no .inf or .nan: stage keys are canonical JSON)');
    expect(refusal(withCount('-.Inf')).message).toContain('-.Inf is not a number');
    expect(refusal(withCount('.nan')).message).toContain('.nan is not a number');
    expect(refusal(withCount('1e20')).message).toBe(
      'p.yaml:5:20: stages.a.with.count: the number 1e20 is too large to be exact (integers must lie within ±9007199254740991); quote it if it is text',
    );
    expect(parsePipeline(withCount('9007199254740991'), FILE, testRegistry()).stages.get('a')!.params.count).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('a matrix past the combination limit is refused before it is expanded', () => {
    const axes = Array.from({ length: 10 }, (_, i) => `      x${i}: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]`);
    const err = refusal(lines('version: 1', 'stages:', '  a:', '    run: echo', '    matrix:', ...axes));
    expect(err.message).toBe(
      `p.yaml:6:7: stages.a.matrix: the matrix has 10,000,000,000 combinations (${Array(10).fill(10).join(' × ')}), more than the limit of ${MAX_MATRIX_COMBINATIONS} per stage (the limit on matrix combinations)`,
    );
    const ok = lines('version: 1', 'stages:', '  a:', '    run: echo', '    matrix:', '      x: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]', '      y: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]');
    expect(parsePipeline(ok, FILE, testRegistry()).stages.size).toBe(256);
  });

  it('duplicate keys are still found (now by the loader, in linear time)', () => {
    expect(refusal(lines('version: 1', 'params: { a: 1, a: 2 }', 'stages:', '  s:', '    run: echo')).message).toBe('p.yaml:2:17: duplicate key "a"');
    const many = lines('version: 1', 'stages:', ...Array.from({ length: 5_000 }, (_, i) => `  s${i}: { run: echo }`), '  s0: { run: echo }');
    expect(refusal(many).message).toBe('p.yaml:5003:3: duplicate key "s0" (stage ids must be unique)');
  });

  it('a complex (non-scalar) map key is refused', () => {
    expect(refusal(lines('version: 1', 'params:', '  ? [a, b]', '  : 1', 'stages:', '  s:', '    run: echo')).message).toMatch(/a map key must be a plain string/);
  });
});
