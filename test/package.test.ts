/**
 * The package as a user installs it: `npm pack`, then a global install into a temp prefix on a
 * machine that reaches only the npm registry, then the installed command running a small
 * pipeline on ONNX Runtime. Slow (~30 s of npm, from its cache), so one test does it all.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/stage-context.js';

/**
 * Child processes without blocking: a synchronous npm install would stall the test worker's
 * event loop for its whole duration, and vitest's worker RPC times out under load.
 */
async function run(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(file, args, { ...options, encoding: 'utf8', maxBuffer: 64 << 20 });
    return { status: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { status: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

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
  it('ships no tests, benchmarks or CI files, installs globally from the registry alone and runs a pipeline', async () => {
    expect(existsSync(join(root, 'dist', 'src', 'cli', 'main.js')), 'dist/ is missing: run npm run build').toBe(true);
    const work = tempDir('pp-pack-');
    const pack = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: root, env: cleanEnv() });
    expect(pack.status, pack.stderr).toBe(0);
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
    const listed = (await run('tar', ['tzf', join(work, tarball)])).stdout.split('\n').filter(Boolean).map((p) => p.replace(/^package\//, ''));
    expect(listed.filter((p) => /^(test|bench|\.ci)\//.test(p))).toEqual([]);
    expect(listed).toEqual(expect.arrayContaining(['dist/src/cli/main.js', 'schemas/pipeline.schema.json', 'question-bank/finance.json', 'stages/lora-train/params.schema.json', 'src/metrics/sentiment/vader_lexicon.tsv', 'pipelines/smoke.yaml']));
    expect(listed.some((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toBe(false);
    // Every asset the code reads at run time from beside its source (lexicons, tables, schemas).
    const assets = ['src', 'stages'].flatMap((d) => readdirSync(join(root, d), { recursive: true, encoding: 'utf8' }).map((f) => `${d}/${f.split('\\').join('/')}`)).filter((f) => /\.(tsv|json|md)$/.test(f));
    expect(listed).toEqual(expect.arrayContaining(assets));

    // As the README says, from a folder without the repo's .npmrc, skipping onnxruntime-node's CUDA download.
    const prefix = join(work, 'prefix');
    const install = await run('npm', ['i', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', `./${tarball}`], {
      cwd: work,
      env: cleanEnv({ ONNXRUNTIME_NODE_INSTALL: 'skip' }),
    });
    expect(install.status, install.stderr).toBe(0);
    const bin = join(prefix, 'bin', 'polypersona');
    expect((await run(bin, ['--version'])).stdout.trim()).toBe(pkg.version);

    const project = join(work, 'study');
    mkdirSync(project);
    writeFileSync(join(project, 'polypersona.yaml'), PIPELINE);
    const ran = await run(bin, ['run'], { cwd: project, env: cleanEnv({ CI: '1' }) });
    expect(ran.status, `${ran.stdout}\n${ran.stderr}`).toBe(0);
    expect(ran.stdout).toMatch(/ok: 7 ran, 0 cached/);
    expect(ran.stdout).toContain('report: runs/latest/installed/report/report.md');
    expect(readFileSync(join(project, 'runs', 'latest', 'installed', 'report', 'report.md'), 'utf8')).toMatch(/^#/);
    // The run record carries the scores' metrics, for run comparisons.
    const historyDir = join(project, 'runs', 'history', 'installed');
    const record = JSON.parse(readFileSync(join(historyDir, readdirSync(historyDir)[0]!), 'utf8')) as { metrics: Record<string, { overall: Record<string, unknown> }> };
    expect(Object.keys(record.metrics)).toEqual(['scores']);
    expect(typeof record.metrics.scores!.overall.bleu).toBe('number');
  }, 600_000);
});
