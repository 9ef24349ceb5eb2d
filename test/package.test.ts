/**
 * The package as a user installs it: `npm pack`, then a global install into a temp prefix on a
 * machine that reaches only the npm registry, then the installed command running a small
 * pipeline on ONNX Runtime. Slow (~30 s of npm, from its cache), so one test does it all.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/stage-context.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

/** The environment of a fresh shell: no npm_config_* inherited from `npm test` (the repo's .npmrc among them). */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'INIT_CWD') env[k] = v;
  return { ...env, ...extra };
}

const PIPELINE = `version: 1
name: installed
params: { seed: 3 }
stages:
  personas:
    uses: sample-personas
    with: { source: synthetic, count: 8, records: 24, seed: \${{ params.seed }} }
  dataset:
    uses: synthesize-responses
    needs: [personas]
  chatml:
    uses: build-chatml
    needs: [dataset]
    with: { split: { train: 0.5, val: 0.25, test: 0.25 } }
  base:
    uses: init-model
    needs: [chatml]
    with: { preset: tiny, seed: 3, tokenizer: { train_on: chatml, vocab_size: 300 } }
  predictions:
    uses: generate
    needs: [base, chatml]
    with: { split: test, max_new_tokens: 4, seed: 3 }
  scores:
    uses: score
    needs: [predictions]
  report:
    uses: report
    needs: [scores]
`;

describe('the packed package', () => {
  it('ships no tests, benchmarks or CI files, installs globally from the registry alone and runs a pipeline', () => {
    expect(existsSync(join(root, 'dist', 'src', 'cli', 'main.js')), 'dist/ is missing: run npm run build').toBe(true);
    const work = tempDir('pp-pack-');
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: root, env: cleanEnv(), stdio: 'pipe' });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
    const listed = execFileSync('tar', ['tzf', join(work, tarball)], { encoding: 'utf8' }).split('\n').filter(Boolean).map((p) => p.replace(/^package\//, ''));
    expect(listed.filter((p) => /^(test|bench|\.ci)\//.test(p))).toEqual([]);
    expect(listed).toEqual(expect.arrayContaining(['dist/src/cli/main.js', 'schemas/pipeline.schema.json', 'question-bank/finance.json', 'stages/lora-train/params.schema.json', 'src/metrics/sentiment/vader_lexicon.tsv', 'pipelines/smoke.yaml']));
    expect(listed.some((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toBe(false);

    // As the README says, from a folder without the repo's .npmrc, skipping onnxruntime-node's CUDA download.
    const prefix = join(work, 'prefix');
    const install = spawnSync('npm', ['i', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', `./${tarball}`], {
      cwd: work,
      env: cleanEnv({ ONNXRUNTIME_NODE_INSTALL: 'skip' }),
      encoding: 'utf8',
    });
    expect(install.status, install.stderr).toBe(0);
    const bin = join(prefix, 'bin', 'polypersona');
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toBe(pkg.version);

    const project = join(work, 'study');
    mkdirSync(project);
    writeFileSync(join(project, 'polypersona.yaml'), PIPELINE);
    const run = spawnSync(bin, ['run'], { cwd: project, env: cleanEnv({ CI: '1' }), encoding: 'utf8' });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/ok: 7 ran, 0 cached/);
    expect(run.stdout).toContain('report: runs/latest/installed/report/report.md');
    expect(readFileSync(join(project, 'runs', 'latest', 'installed', 'report', 'report.md'), 'utf8')).toMatch(/^#/);
  }, 600_000);
});
