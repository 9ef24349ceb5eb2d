import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.js';
import { parsePipeline, PipelineError } from '../../../src/engine/pipeline/index.js';
import { testRegistry } from './fixtures.js';

const FILE = 'p.yaml';

/** The error's lines (`file:line:col: path: message`); fails the test when the text loads. */
function errorsOf(text: string): string[] {
  try {
    parsePipeline(text, FILE, testRegistry());
  } catch (err) {
    expect(err).toBeInstanceOf(PipelineError);
    expect(err).toBeInstanceOf(UserError);
    const e = err as PipelineError;
    expect(e.message.split('\n')).toHaveLength(e.issues.length);
    return e.message.split('\n');
  }
  throw new Error('expected a PipelineError');
}

const lines = (...l: string[]): string => l.join('\n') + '\n';

describe('pipeline errors name file, line, column and field', () => {
  it('malformed YAML, with the parser position', () => {
    expect(errorsOf(lines('version: 1', 'stages:', '  a: { uses: init-model', '  b: 1'))).toEqual([
      'p.yaml:4:3: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }',
    ]);
    expect(errorsOf(lines('version: 1', 'stages:', '  a:', '    uses: init-model', '   b: 2'))[0]).toMatch(/^p\.yaml:5:\d+: invalid YAML: /);
  });

  it('an empty file', () => {
    expect(errorsOf('# nothing\n')).toEqual(['p.yaml:1:1: the pipeline file is empty']);
  });

  it('duplicate stage ids', () => {
    expect(errorsOf(lines('version: 1', 'stages:', '  base: { uses: init-model }', '  base: { uses: init-model }'))).toEqual([
      'p.yaml:4:3: duplicate key "base" (stage ids must be unique)',
    ]);
  });

  it('unknown top-level field, with a suggestion, and the missing field it hid', () => {
    expect(errorsOf(lines('verison: 1', 'stages:', '  base: { uses: init-model }'))).toEqual([
      'p.yaml:1:1: missing required field "version"',
      'p.yaml:1:1: verison: unknown field (did you mean version?)',
    ]);
  });

  it('unknown stage field', () => {
    expect(errorsOf(lines('version: 1', 'stages:', '  base: { uses: init-model }', '  q:', '    uses: quantize', '    neds: [base]'))).toEqual([
      'p.yaml:6:5: stages.q.neds: unknown field (did you mean needs?)',
    ]);
  });

  it('a version other than 1', () => {
    expect(errorsOf(lines('version: 2', 'stages:', '  base: { uses: init-model }'))).toEqual([
      'p.yaml:1:10: version: unsupported version 2 (this polypersona reads version 1)',
    ]);
  });

  it('wrong shapes in the pipeline schema', () => {
    expect(errorsOf(lines('version: 1', 'params: 3', 'stages:', '  base:', '    uses: init-model', '    needs: { a: 1 }'))).toEqual([
      'p.yaml:2:9: params: must be object (got number 3)',
      'p.yaml:6:12: stages.base.needs: must be string or array (got a map)',
    ]);
  });

  it('an invalid stage id', () => {
    expect(errorsOf(lines('version: 1', 'stages:', '  1base: { uses: init-model }'))).toEqual([
      'p.yaml:3:3: stages.1base: invalid stage id "1base" (letters, digits, "_" and "-"; not starting with a digit or "-")',
    ]);
  });

  it('an unknown stage type, with a suggestion', () => {
    const [line] = errorsOf(lines('version: 1', 'stages:', '  base:', '    uses: init-modle'));
    expect(line).toMatch(/^p\.yaml:4:11: stages\.base\.uses: unknown stage type "init-modle" \(did you mean "init-model"\?\); known types: build-chatml, command, /);
  });

  it('a stage with neither uses nor run', () => {
    expect(errorsOf(lines('version: 1', 'stages:', '  base:', '    description: nothing'))).toEqual([
      'p.yaml:3:3: stages.base: a stage needs "uses:" (a stage type) or "run:" (a shell command)',
    ]);
  });

  it('an unknown param (a typo), with a suggestion from the stage schema', () => {
    const text = lines(
      'version: 1',
      'stages:',
      '  base: { uses: init-model }',
      '  data: { uses: import-dataset, with: { path: d.jsonl } }',
      '  chatml: { uses: build-chatml, needs: data }',
      '  adapter:',
      '    uses: lora-train',
      '    needs: [base, chatml]',
      '    with:',
      '      lerning_rate: 0.001',
      '      zzz: 1',
    );
    expect(errorsOf(text)).toEqual([
      'p.yaml:10:7: stages.adapter.with.lerning_rate: unknown field (did you mean learning_rate?)',
      'p.yaml:11:7: stages.adapter.with.zzz: unknown field; known fields: learning_rate, lora_alpha, lora_dropout, model, num_train_epochs, r, target_modules',
    ]);
  });

  it('an unknown nested param', () => {
    expect(errorsOf(lines('version: 1', 'stages:', '  d: { uses: import-dataset, with: { path: x } }', '  c:', '    uses: build-chatml', '    needs: d', '    with: { split: { trian: 0.5 } }'))).toEqual([
      'p.yaml:7:22: stages.c.with.split.trian: unknown field (did you mean train?)',
    ]);
  });

  it('a param of the wrong type, and a value outside an enum', () => {
    expect(errorsOf(lines('version: 1', 'stages:', '  base:', '    uses: init-model', '    with: { preset: huge, seed: "7" }'))).toEqual([
      'p.yaml:5:21: stages.base.with.preset: must be one of "tiny", "small" (got string "huge")',
      'p.yaml:5:33: stages.base.with.seed: must be integer (got string "7")',
    ]);
  });

  it('a missing required param', () => {
    expect(errorsOf(lines('version: 1', 'stages:', '  data:', '    uses: import-dataset'))).toEqual([
      'p.yaml:3:3: stages.data.with: missing required field "path"',
    ]);
    expect(errorsOf(lines('version: 1', 'stages:', '  data:', '    uses: import-dataset', '    with: {}'))).toEqual([
      'p.yaml:5:11: stages.data.with: missing required field "path"',
    ]);
  });

  it('needs naming a missing stage, with a suggestion', () => {
    expect(errorsOf(lines('version: 1', 'stages:', '  base: { uses: init-model }', '  q:', '    uses: quantize', '    needs: [bsae]'))).toEqual([
      'p.yaml:6:13: stages.q.needs[0]: unknown stage "bsae" (did you mean base?)',
    ]);
    expect(errorsOf(lines('version: 1', 'stages:', '  base: { uses: init-model }', '  q: { uses: quantize, needs: nothing-like-it }'))[0]).toBe(
      'p.yaml:4:31: stages.q.needs: unknown stage "nothing-like-it"',
    );
  });

  it('a cycle, shown stage by stage', () => {
    const text = lines(
      'version: 1',
      'stages:',
      '  a: { run: "true", needs: c }',
      '  b: { run: "true", needs: a }',
      '  c:',
      '    run: "true"',
      '    needs: [b]',
      '  d: { run: "true", needs: d }',
    );
    expect(errorsOf(text)).toEqual([
      'p.yaml:3:28: stages.a.needs: needs form a cycle: a → c → b → a',
      'p.yaml:8:28: stages.d.needs: needs form a cycle: d → d',
    ]);
  });

  it('a cycle made by a runtime expression', () => {
    expect(errorsOf(lines('version: 1', 'stages:', '  a: { run: "cat ${{ stages.b.outputs.dir }}/x" }', '  b: { run: "true", needs: a }'))).toEqual([
      'p.yaml:3:3: stages.a.needs: needs form a cycle: a → b → a',
    ]);
  });

  it('an input the needs do not provide (consumes), naming the kind', () => {
    const text = lines('version: 1', 'stages:', '  base: { uses: init-model }', '  gen:', '    uses: generate', '    needs: [base]');
    expect(errorsOf(text)).toEqual([
      'p.yaml:6:12: stages.gen.needs: input "adapter" is missing: none of its needs produces adapter (generate needs one; add such a stage to needs)',
      'p.yaml:6:12: stages.gen.needs: input "data" is missing: none of its needs produces chatml (generate needs one; add such a stage to needs)',
    ]);
    expect(errorsOf(lines('version: 1', 'stages:', '  s:', '    uses: score'))).toEqual([
      'p.yaml:3:3: stages.s: input "predictions" is missing: none of its needs produces predictions (score needs one; add such a stage to needs)',
    ]);
  });

  it('an input kind that depends on the upstream stage\'s params (producesFor)', () => {
    const stagesWith = (trainable: string) => lines(
      'version: 1',
      'stages:',
      '  base: { uses: init-model }',
      `  a: { uses: train-any, needs: [base], with: { trainable: ${trainable} } }`,
      '  q: { uses: quantize, needs: [a] }',
    );
    // trainable: full produces a model, which quantize takes; an adapter it does not
    expect(parsePipeline(stagesWith('full'), FILE, testRegistry()).stages.get('q')!.needs).toEqual(['a']);
    expect(errorsOf(stagesWith('lora'))).toEqual(['p.yaml:5:31: stages.q.needs: input "model" is missing: none of its needs produces model (quantize needs one; add such a stage to needs)']);
  });

  it('a transitive input is found upstream, and reported when absent', () => {
    const ok = lines(
      'version: 1',
      'stages:',
      '  base: { uses: init-model }',
      '  d: { uses: import-dataset, with: { path: x } }',
      '  c: { uses: build-chatml, needs: d }',
      '  a: { uses: lora-train, needs: [base, c] }',
      '  g: { uses: generate, needs: [a, c] }',
    );
    expect(parsePipeline(ok, FILE, testRegistry()).stages.get('g')!.needs).toEqual(['a', 'c']);
    const text = lines('version: 1', 'stages:', '  d: { uses: import-dataset, with: { path: x } }', '  c: { uses: build-chatml, needs: d }', '  a: { run: "true" }', '  g: { uses: generate, needs: [a, c] }');
    const adapterFromCommand = errorsOf(text);
    expect(adapterFromCommand).toContain(
      'p.yaml:6:31: stages.g.needs: input "base" is missing: no stage it needs, directly or through others, produces model (generate needs one; add such a stage to needs)',
    );
  });

  it('bad expressions, each at its exact column', () => {
    const text = lines(
      'version: 1',
      'params: { seed: 7, model: { name: tiny } }',
      'stages:',
      '  base:',
      '    uses: init-model',
      '    with: { seed: ${{ params.sed }}, preset: "${{ params.model.nmae }}" }',
      '  c:',
      '    run: echo ${{ matrix.model }} ${{ params.seed + 1 }} ${{ env.HOME }} ${{ stages.bsae.outputs.dir }} ${{ params.seed.x }}',
    );
    expect(errorsOf(text)).toEqual([
      'p.yaml:6:19: stages.base.with.seed: unknown param "sed" (did you mean seed?); params defines model, seed',
      'p.yaml:6:47: stages.base.with.preset: unknown param "model.nmae" (did you mean name?); params.model defines name',
      'p.yaml:8:15: stages.c.run: matrix.model is used in a stage without a matrix',
      'p.yaml:8:35: stages.c.run: bad expression "params.seed + 1" (expected params.NAME; expressions have no operators)',
      'p.yaml:8:58: stages.c.run: unknown expression "env.HOME"; expressions are params.NAME, matrix.AXIS, stages.ID.outputs.dir or outputs.dir',
      'p.yaml:8:74: stages.c.run: unknown stage "bsae" (did you mean base?)',
      'p.yaml:8:105: stages.c.run: params.seed is not a map, so it has no field "x"',
    ]);
  });

  it('expressions where they cannot stand', () => {
    const text = lines(
      'version: 1',
      'params: { a: "${{ params.b }}", b: 1 }',
      'stages:',
      '  base: { uses: init-model }',
      '  q:',
      '    uses: quantize',
      '    needs: [base, "${{ params.x }}"]',
      '  c:',
      '    run: "true"',
      '    deps: [${{ outputs.dir }}/x]',
      '    outs: [${{ stages.q.outputs.dir }}]',
      '  m:',
      '    matrix: { x: [1, "${{ matrix.x }}"] }',
      '    run: "true"',
    );
    expect(errorsOf(text)).toEqual([
      'p.yaml:2:15: params.a: expressions are not allowed in params (only in the pipeline\'s executor and in a stage\'s with, run, env, deps, outs, description, matrix and executor)',
      'p.yaml:7:20: stages.q.needs[1]: expressions are not allowed in stages.q.needs (only in the pipeline\'s executor and in a stage\'s with, run, env, deps, outs, description, matrix and executor)',
      'p.yaml:10:12: stages.c.deps[0]: ${{ outputs.dir }} is known only when the stage runs; it may stand in with, run and env, not in deps',
      'p.yaml:11:12: stages.c.outs[0]: ${{ stages.q.outputs.dir }} is known only when the stage runs; it may stand in with, run and env, not in outs',
      'p.yaml:13:23: stages.m.matrix.x[1]: ${{ matrix.x }} is not allowed in matrix (only params.NAME)',
    ]);
  });

  it('an unterminated expression', () => {
    expect(errorsOf(lines('version: 1', 'stages:', '  c:', '    run: echo ${{ params.x')).map((l) => l.replace(/ {2,}/g, ' '))).toEqual([
      'p.yaml:4:15: stages.c.run: unterminated expression: "${{" without "}}" on the same line',
    ]);
  });

  it('command outputs that escape the stage directory', () => {
    expect(errorsOf(lines('version: 1', 'stages:', '  c:', '    run: "true"', '    outs: [ok.txt, /etc/passwd, a/../../b, sub/x]'))).toEqual([
      'p.yaml:5:20: stages.c.outs[1]: output path "/etc/passwd" escapes the stage\'s output directory (give a path inside it, without ".." or a leading "/")',
      'p.yaml:5:33: stages.c.outs[2]: output path "a/../../b" escapes the stage\'s output directory (give a path inside it, without ".." or a leading "/")',
    ]);
  });

  it('command fields on other stages, and with on a command stage', () => {
    expect(errorsOf(lines('version: 1', 'stages:', '  base:', '    uses: init-model', '    run: echo', '  c:', '    run: echo', '    with: { x: 1 }'))).toEqual([
      'p.yaml:5:5: stages.base.run: only command stages take "run" (this stage uses init-model)',
      'p.yaml:8:5: stages.c.with: a command stage takes run, deps, outs and env, not with',
    ]);
  });

  it('a command param of the wrong type', () => {
    expect(errorsOf(lines('version: 1', 'stages:', '  c:', '    uses: command', '    deps: [a]'))).toEqual([
      'p.yaml:3:3: stages.c: missing required field "run"',
    ]);
    expect(errorsOf(lines('version: 1', 'stages:', '  c:', '    run: "true"', '    env: { A: [1] }'))).toEqual([
      'p.yaml:5:15: stages.c.env.A: must be string or number or boolean (got a list)',
    ]);
  });

  it('structural edge cases: an empty stage, no stages, a list, several documents, tabs', () => {
    expect(errorsOf(lines('version: 1', 'stages:', '  a:'))).toEqual(['p.yaml:3:5: stages.a: must be object (got nothing)']);
    expect(errorsOf(lines('version: 1', 'stages: {}'))).toEqual(['p.yaml:2:9: stages: must not be empty']);
    expect(errorsOf(lines('- a', '- b'))).toEqual(['p.yaml:1:1: must be object (got a list)']);
    expect(errorsOf(lines('version: 1', 'stages:', '  a: { uses: init-model }', '---', 'x: 1'))).toEqual([
      'p.yaml:4:1: invalid YAML: the file holds several documents (a "---" line); a pipeline is one document',
    ]);
    expect(errorsOf('\tversion: 1\n')).toEqual(['p.yaml:1:1: invalid YAML: Tabs are not allowed as indentation']);
  });

  it('needs listing a stage twice, and a stage reading its own output by id', () => {
    expect(errorsOf(lines('version: 1', 'stages:', '  a: { uses: init-model }', '  b: { uses: quantize, needs: [a, a] }'))).toEqual([
      'p.yaml:4:31: stages.b.needs: lists the same stage twice',
    ]);
    expect(errorsOf(lines('version: 1', 'stages:', '  a: { run: "echo ${{ stages.a.outputs.dir }}" }'))).toEqual([
      'p.yaml:3:19: stages.a.run: a stage cannot read its own output through stages.ID; use ${{ outputs.dir }}',
    ]);
  });

  it('an expression in a map key', () => {
    expect(errorsOf(lines('version: 1', 'params: { q: 1 }', 'stages:', '  a: { run: "x", env: { "${{ params.q }}": 1 } }'))).toEqual([
      'p.yaml:4:26: stages.a.env.${{ params.q }}: expressions are not allowed in keys (${{ params.q }})',
    ]);
  });

  it('a matrix reference with no expansion to pair with', () => {
    const text = lines(
      'version: 1',
      'stages:',
      '  a: { uses: init-model, matrix: { preset: [tiny] }, with: { preset: ${{ matrix.preset }} } }',
      '  b: { run: "ls ${{ stages.a.outputs.dir }}", matrix: { preset: [small] } }',
      '  c: { run: "true", needs: a, matrix: { preset: [small] } }',
    );
    expect(errorsOf(text)).toEqual([
      "p.yaml:4:17: stages.b.run: matrix stage a has no expansion for this stage's values (preset=small); pairing needs equal values on its axes",
      "p.yaml:5:28: stages.c.needs: matrix stage a has no expansion for this stage's values (preset=small); pairing needs equal values on its axes",
    ]);
  });

  it('reports every problem at once, in file order', () => {
    const text = lines('version: 3', 'stages:', '  a: { uses: nope }', '  b: { uses: init-model, with: { sede: 1 } }', '  c: { run: "true", needs: zz }');
    expect(errorsOf(text)).toEqual([
      'p.yaml:1:10: version: unsupported version 3 (this polypersona reads version 1)',
      expect.stringMatching(/^p\.yaml:3:14: stages\.a\.uses: unknown stage type "nope"; known types: build-chatml, /),
      'p.yaml:4:34: stages.b.with.sede: unknown field (did you mean seed?)',
      'p.yaml:5:28: stages.c.needs: unknown stage "zz"',
    ]);
  });

  it('the first issue is the error location', () => {
    try {
      parsePipeline(lines('version: 1', 'stages:', '  b: { uses: init-model, with: { sede: 1 } }'), FILE, testRegistry());
    } catch (err) {
      expect((err as PipelineError).location).toEqual({ file: FILE, line: 3, column: 34 });
      expect((err as PipelineError).issues[0]).toEqual({ location: { file: FILE, line: 3, column: 34 }, path: 'stages.b.with.sede', message: 'unknown field (did you mean seed?)' });
      expect((err as PipelineError).code).toBe('invalid-pipeline');
      return;
    }
    throw new Error('expected a PipelineError');
  });
});

describe('a pipeline file saved half-written', () => {
  it('prefixes of the DESIGN example load or fail with a PipelineError, never anything else', async () => {
    const { designExample } = await import('./fixtures.js');
    const registry = testRegistry();
    let failures = 0;
    // Cut every 4 characters and right around every line break (where an editor's save stops).
    const ends = new Set<number>();
    for (let end = 0; end <= designExample.length; end += 4) ends.add(end);
    for (let i = designExample.indexOf('\n'); i >= 0; i = designExample.indexOf('\n', i + 1)) for (const d of [-1, 0, 1, 2]) ends.add(i + d);
    for (const end of ends) {
      try {
        parsePipeline(designExample.slice(0, end), FILE, registry);
      } catch (err) {
        if (!(err instanceof PipelineError)) throw new Error(`prefix of ${end} chars threw ${String(err)}`);
        for (const issue of err.issues) {
          expect(issue.location.line).toBeGreaterThanOrEqual(1);
          expect(issue.location.column).toBeGreaterThanOrEqual(1);
        }
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(0);
  });
});
