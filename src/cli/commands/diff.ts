import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { EXIT, type Command } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { pipelinePath, runsDir, RUNS_DIR_HELP, stageRegistry } from '../project.js';
import { keyParams } from '../../engine/key-params.js';
import { UserError } from '../../core/errors.js';
import { diffRuns, runViewOfLock, runViewOfRecord, type RunDiff, type RunView } from '../../engine/run-diff.js';
import { listRunRecords, lockFilePath, parsePipelineLock, readPipelineLock } from '../../engine/store/index.js';
import type { CliIO } from '../io.js';

const command: Command = {
  summary: 'compare two runs of a pipeline: params that changed, metrics side by side with deltas',
  usage: `
usage: polypersona diff [RUN_A] [RUN_B] [--pipeline FILE] [--all] [--json] [--runs-dir DIR]

A run is one of:
  a lock file (FILE.lock.yaml) or a pipeline file (its lock file)
  history:N        the N-th most recent run record of the pipeline (history:1 is the latest)
  history:ID       the run record whose id or file name starts with ID
  a git revision   the pipeline's lock file committed at it (HEAD, main, a1b2c3d, v1.0)
Defaults: RUN_A is HEAD, RUN_B the lock file in the working tree. Lock files carry each stage's
params (defaults left out) and, from lock version 2, every metrics.json value; run records carry
their -S overrides and their metrics.

Prints the params that differ (stage, path, A -> B), then per scores stage every metric that
differs — overall, by domain, by question type — with A, B and B − A (--all: unchanged ones too).
options:
  --pipeline FILE  the pipeline (default: as for run)
  --json           { a, b, params: [{stage, path, a, b}], metrics: [{stage, metric, a, b, delta}] }
  --runs-dir DIR   ${RUNS_DIR_HELP}
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs('diff', argv, {
      pipeline: { type: 'string' },
      all: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (positionals.length > 2) throw new UserError('usage', `diff takes at most two runs, got ${positionals.length}: ${positionals.join(' ')}`);
    const pipelineFile = pipelinePath(io, values.pipeline);
    const runs = runsDir(io, values['runs-dir'], pipelineFile);
    const a = openRun(io, positionals[0] ?? 'HEAD', pipelineFile, runs);
    const b = positionals[1] !== undefined ? openRun(io, positionals[1], pipelineFile, runs) : workingTreeLock(pipelineFile);
    const diff = diffRuns(a, b);
    if (!values.all) diff.metrics = diff.metrics.filter((m) => m.delta !== 0);
    if (values.json) io.stdout.write(`${JSON.stringify(diff, null, 2)}\n`);
    else io.stdout.write(formatDiff(diff));
    return EXIT.ok;
  },
};

function workingTreeLock(pipelineFile: string): RunView {
  const file = lockFilePath(pipelineFile);
  const lock = readPipelineLock(file);
  if (!lock) throw new UserError('no-lock-file', `${file} does not exist: run the pipeline first, or name two runs`, { location: { file } });
  return runViewOfLock(basename(file), lock, keyParamsOf);
}

/** Resolves one RUN argument (see usage). */
function openRun(io: CliIO, spec: string, pipelineFile: string, runs: string): RunView {
  const history = /^history:(.+)$/.exec(spec);
  if (history) return openRecord(spec, history[1]!, pipelineFile, runs);
  const path = resolve(io.cwd, spec);
  if (existsSync(path)) {
    const lockFile = /\.lock\.ya?ml$/.test(path) ? path : lockFilePath(path);
    const lock = readPipelineLock(lockFile);
    if (!lock) throw new UserError('no-lock-file', `${lockFile} does not exist (the lock file of ${spec})`, { location: { file: lockFile } });
    return runViewOfLock(spec, lock, keyParamsOf);
  }
  return openGitRevision(spec, pipelineFile);
}

function openRecord(spec: string, which: string, pipelineFile: string, runs: string): RunView {
  const name = pipelineName(pipelineFile);
  const records = listRunRecords(runs, name);
  if (records.length === 0) throw new UserError('no-run-record', `${spec}: pipeline "${name}" has no run records in ${runs}/history`);
  let record;
  if (/^\d+$/.test(which)) {
    record = records[Number(which) - 1];
    if (!record || which === '0') throw new UserError('no-run-record', `${spec}: pipeline "${name}" has ${records.length} run record(s); history:1 is the latest`);
  } else {
    const matches = records.filter((r) => r.id.startsWith(which) || `${r.startedAt.replace(/[-:]/g, '')}-${r.id}`.startsWith(which));
    if (matches.length !== 1) throw new UserError('no-run-record', `${spec}: ${matches.length === 0 ? 'no' : `${matches.length}`} run records of "${name}" match "${which}"${matches.length ? ' (give more of the id)' : ''}`);
    record = matches[0]!;
  }
  return runViewOfRecord(`${spec} (${record.startedAt} ${record.id})`, record);
}

function openGitRevision(rev: string, pipelineFile: string): RunView {
  const lockFile = lockFilePath(pipelineFile);
  const cwd = dirname(lockFile);
  let text: string;
  try {
    text = execFileSync('git', ['show', `${rev}:./${basename(lockFile)}`], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? (err as Error).message).trim().split('\n')[0];
    throw new UserError('bad-run', `"${rev}" is not a lock file, a pipeline file, history:N or a git revision holding ${basename(lockFile)} (git: ${stderr})`);
  }
  return runViewOfLock(rev, parsePipelineLock(`${rev}:${basename(lockFile)}`, text), keyParamsOf);
}

/** Locked params less their schema defaults (a version 1 lock wrote every default out). */
function keyParamsOf(type: string, params: unknown): unknown {
  const registry = stageRegistry();
  if (!registry.has(type) || typeof params !== 'object' || params === null || Array.isArray(params)) return params;
  return keyParams(params as Record<string, unknown>, registry.get(type).paramsSchema);
}

/** The pipeline's `name:` (run records are filed by it), read without loading the pipeline's stages. */
function pipelineName(file: string): string {
  const m = /^name:\s*["']?([^"'#\n]+?)["']?\s*(#.*)?$/m.exec(readFileSync(file, 'utf8'));
  return m ? m[1]! : basename(file).replace(/\.ya?ml$/, '');
}

function formatDiff(d: RunDiff): string {
  const lines = [`A: ${d.a}`, `B: ${d.b}`, ''];
  if (d.params.length === 0) lines.push('params: no differences');
  else {
    lines.push('params (A -> B):');
    const w = Math.max(...d.params.map((p) => p.stage.length));
    for (const p of d.params) lines.push(`  ${p.stage.padEnd(w)}  ${p.path}: ${show(p.a)} -> ${show(p.b)}`);
  }
  lines.push('');
  if (d.metrics.length === 0) lines.push('metrics: no differences');
  else {
    const stages = [...new Set(d.metrics.map((m) => m.stage))];
    for (const stage of stages) {
      const rows = d.metrics.filter((m) => m.stage === stage);
      const w = Math.max(6, ...rows.map((r) => r.metric.length));
      lines.push(`metrics of ${stage}:`, `  ${'metric'.padEnd(w)}  ${'A'.padStart(12)}  ${'B'.padStart(12)}  ${'B − A'.padStart(12)}`);
      for (const r of rows) lines.push(`  ${r.metric.padEnd(w)}  ${num(r.a)}  ${num(r.b)}  ${r.delta === undefined ? '-'.padStart(12) : signed(r.delta)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function show(v: unknown): string {
  return v === undefined ? '(unset)' : JSON.stringify(v);
}

function num(v: number | undefined): string {
  return (v === undefined ? '-' : Number(v.toPrecision(6)).toString()).padStart(12);
}

function signed(v: number): string {
  return `${v > 0 ? '+' : ''}${Number(v.toPrecision(4))}`.padStart(12);
}

export default command;
