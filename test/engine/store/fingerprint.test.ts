import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/core/paths.js';
import { UserError } from '../../../src/core/errors.js';
import {
  digestOutputs,
  digestTree,
  ENGINE_KEY_VERSION,
  isOutputDigest,
  isStageKey,
  MalformedFingerprintError,
  parseOutputDigest,
  parseStageKey,
  stageKey,
  type StageKeyInputs,
} from '../../../src/engine/store/index.js';
import { testDigest } from '../../helpers/fingerprints.js';

const HEX = 'ab'.repeat(32);

const base: StageKeyInputs = {
  type: 'sample-personas',
  version: 1,
  params: { count: 40, seed: 7, teacher: { kind: 'template', temperature: 0.7 }, metrics: ['bleu', 'rouge'] },
  inputs: { personas: testDigest('a'), dataset: testDigest('b') },
  deps: { 'tools/extra.py': 'c'.repeat(64) },
};

describe('stageKey', () => {
  it('is the sha256 of the canonical JSON of the engine version and the key parts', () => {
    const k = { type: 't', version: 2, params: { b: 1, a: [1, 'x'] }, inputs: {}, deps: { f: 'd' } };
    // Hand-written canonical form: sorted keys at every level, no whitespace.
    const canonical = `{"deps":{"f":"d"},"engine":${ENGINE_KEY_VERSION},"inputs":{},"params":{"a":[1,"x"],"b":1},"type":"t","version":2}`;
    expect(stageKey(k)).toBe(createHash('sha256').update(canonical).digest('hex'));
  });

  it('gives the same key for the same inputs, whatever the key order in params, inputs and deps', () => {
    const reordered: StageKeyInputs = {
      deps: { ...base.deps },
      inputs: { dataset: testDigest('b'), personas: testDigest('a') },
      params: { metrics: ['bleu', 'rouge'], teacher: { temperature: 0.7, kind: 'template' }, seed: 7, count: 40 },
      version: 1,
      type: 'sample-personas',
    };
    expect(stageKey(reordered)).toBe(stageKey(base));
    expect(stageKey(structuredClone(base))).toBe(stageKey(base));
    expect(stageKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes when any part changes', () => {
    const variants: StageKeyInputs[] = [
      { ...base, type: 'sample-persona' },
      { ...base, version: 2 },
      { ...base, params: { ...(base.params as object), count: 41 } },
      { ...base, params: { ...(base.params as object), teacher: { kind: 'template', temperature: 0.8 } } },
      { ...base, params: { ...(base.params as object), metrics: ['rouge', 'bleu'] } }, // array order matters
      { ...base, params: { ...(base.params as object), extra: null } },
      { ...base, inputs: { ...base.inputs, personas: testDigest('d') } },
      { ...base, inputs: { personas: testDigest('a') } },
      { ...base, inputs: { ...base.inputs, other: testDigest('a') } },
      { ...base, deps: { 'tools/extra.py': 'e'.repeat(64) } },
      { ...base, deps: { 'tools/other.py': 'c'.repeat(64) } },
      { ...base, deps: {} },
    ];
    const keys = new Set([stageKey(base), ...variants.map(stageKey)]);
    expect(keys.size).toBe(variants.length + 1);
  });

  it('tells a string param from a number param', () => {
    expect(stageKey({ ...base, params: { count: 40 } })).not.toBe(stageKey({ ...base, params: { count: '40' } }));
  });
});

describe('StageKey and OutputDigest, checked by the compiler', () => {
  const root = packageRoot();
  const fixture = join(root, 'test', 'engine', 'store', 'fingerprint-misuse.ts');
  const source = readFileSync(fixture, 'utf8');
  const config = ts.parseJsonConfigFileContent(ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile).config, ts.sys, root);
  let previous: ts.Program | undefined;

  /** Diagnostics of the fixture compiled with `text` in its place, as [1-based line, message]. */
  const compile = (text: string): Array<[number, string]> => {
    const host = ts.createCompilerHost({ ...config.options, noEmit: true });
    const read = host.getSourceFile.bind(host);
    host.getSourceFile = (name, language, ...rest) => (name === fixture ? ts.createSourceFile(name, text, language) : read(name, language, ...rest));
    const program = ts.createProgram([fixture], { ...config.options, noEmit: true }, host, previous);
    previous = program;
    const file = program.getSourceFile(fixture)!;
    // The compiler found the libraries and the sources (a check on the check).
    expect([...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()]).toEqual([]);
    expect(program.getSourceFiles().some((f) => f.fileName.endsWith('src/engine/store/fingerprint.ts'))).toBe(true);
    return [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)].map((d) => [
      file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1,
      ts.flattenDiagnosticMessageText(d.messageText, ' '),
    ]);
  };
  const lines = source.split('\n');
  const marked = lines.flatMap((line, i) => (line.trim().startsWith('// @ts-expect-error') ? [i + 2] : []));

  it('compiles as written: every marked misuse is an error where it is marked', () => {
    expect(marked.length).toBeGreaterThanOrEqual(9);
    expect(compile(source)).toEqual([]);
  });

  it('without the markers, exactly the marked lines fail, each on a brand (a digest is no key, a key no digest, a string neither)', () => {
    const unmarked = lines.map((line) => line.replace('// @ts-expect-error', '// (expected error)')).join('\n');
    const errors = compile(unmarked);
    expect([...new Set(errors.map(([line]) => line))].sort((a, b) => a - b)).toEqual(marked);
    for (const [line, message] of errors) expect(message, `line ${line}`).toMatch(/StageKey|OutputDigest/);
  });
});

describe('parseStageKey / parseOutputDigest', () => {
  it('accepts 64 lowercase hex characters, unchanged', () => {
    expect(parseStageKey(HEX)).toBe(HEX);
    expect(parseOutputDigest(HEX)).toBe(HEX);
    expect(isStageKey(HEX) && isOutputDigest(HEX)).toBe(true);
  });

  it.each([
    ['too short', 'ab'.repeat(31)],
    ['too long', 'ab'.repeat(33)],
    ['upper case', 'AB'.repeat(32)],
    ['not hex', 'g'.repeat(64)],
    ['a path', '../../etc'],
    ['padded', ` ${'a'.repeat(63)}`],
  ])('rejects a malformed key (%s) with a typed error naming it', (_what, bad) => {
    const err = (() => {
      try {
        return parseStageKey(bad);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MalformedFingerprintError);
    expect(err).toBeInstanceOf(UserError);
    expect(err).toMatchObject({ code: 'bad-key', expected: 'stage key', value: bad });
    expect((err as Error).message).toBe(`"${bad}" is not a stage key (64 lowercase hex characters)`);
    expect(isStageKey(bad) || isOutputDigest(bad)).toBe(false);
  });

  it('rejects a non-string key and a malformed digest', () => {
    expect(() => parseStageKey(42)).toThrow(/"42" is not a stage key/);
    expect(() => parseStageKey(undefined)).toThrow(MalformedFingerprintError);
    expect(() => parseOutputDigest('d')).toThrow(expect.objectContaining({ code: 'bad-digest', expected: 'output digest', message: '"d" is not an output digest (64 lowercase hex characters)' }));
    expect(isStageKey(null)).toBe(false);
  });
});

describe('digestOutputs', () => {
  it('is the tree digest of the folder and its files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-fingerprint-'));
    try {
      writeFileSync(join(dir, 'a.txt'), 'hello\n');
      const out = await digestOutputs(dir);
      // One file: sha256 of the line `<sha256 of the content> <size> <path>\n` (digest.ts, construction version 1).
      const file = createHash('sha256').update('hello\n').digest('hex');
      expect(out.digest).toBe(createHash('sha256').update(`${file} 6 a.txt\n`).digest('hex'));
      expect(out).toEqual(await digestTree(dir));
      expect(isOutputDigest(out.digest)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
