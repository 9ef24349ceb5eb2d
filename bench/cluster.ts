/**
 * `npm run bench -- cluster [--stages=100] [--shape=both|chain|fan]`: what a stage costs when it
 * goes through SLURM instead of running here, for a pipeline of trivial command stages
 * (`echo N > out`), on the one-node test cluster (test/slurm/cluster.sh; started for the run
 * and stopped after, unless POLYPERSONA_TEST_SLURM names one already running).
 *
 * Shapes: `chain` (each stage needs the previous one: per-stage latency, nothing overlaps) and
 * `fan` (all independent: throughput, jobs overlap up to the node's CPUs). For each, in the same
 * run and on fresh runs dirs:
 *   local        polypersona run --executor local   (the CLI as a user runs it, from dist/)
 *   slurm        polypersona run --executor slurm   (sbatch + exec-job per stage + polling + publish)
 *   sbatch floor the same number of `sbatch --wrap true` jobs, one after another or all at once,
 *                watched with squeue every 50 ms: what SLURM itself costs per job, no polypersona
 * and the overhead per stage: (slurm − local) / stages, beside (floor) / stages.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const clusterScript = join(root, 'test', 'slurm', 'cluster.sh');

export default async function clusterBench(args: string[]): Promise<void> {
  const opt = (name: string, fallback: string): string => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
  const stages = Number(opt('stages', '100'));
  const shape = opt('shape', 'both');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first (cluster jobs run the built CLI)`);
  let dir = process.env.POLYPERSONA_TEST_SLURM;
  let started = false;
  if (!dir) {
    try {
      const out = execFileSync(clusterScript, ['start'], { encoding: 'utf8' });
      dir = /POLYPERSONA_TEST_SLURM='([^']+)'/.exec(out)![1]!;
      started = true;
    } catch (err) {
      console.log(`cluster: skipped — no one-node SLURM cluster could be started (${(err as Error).message.split('\n')[0]}); install slurm-wlm and munge (test/slurm/cluster.sh install)`);
      return;
    }
  }
  const env = { ...process.env, SLURM_CONF: join(dir, 'slurm.conf'), CI: '1' };
  const project = mkdtempSync(join(tmpdir(), 'pp-bench-cluster-'));
  try {
    console.log(`cluster: ${stages} trivial command stages; one-node SLURM cluster in ${dir}; ${cpus().length} CPUs; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at ${new Date().toISOString()}`);
    for (const s of shape === 'both' ? ['chain', 'fan'] : [shape]) {
      const file = join(project, `${s}.yaml`);
      writeFileSync(file, pipelineText(s, stages));
      const local = await timed(() => runCli(['run', file, '--executor', 'local', '--runs-dir', join(project, `${s}-local`)], project, env));
      const slurm = await timed(() => runCli(['run', file, '--executor', 'slurm', '--runs-dir', join(project, `${s}-slurm`)], project, env));
      const floor = await timed(() => (s === 'chain' ? sbatchChain(stages, project, env) : sbatchFan(stages, project, env)));
      const per = (ms: number): string => `${(ms / stages).toFixed(0).padStart(5)} ms/stage`;
      console.log(`  ${s}:`);
      console.log(`    local        ${(local / 1000).toFixed(1).padStart(6)} s  ${per(local)}`);
      console.log(`    slurm        ${(slurm / 1000).toFixed(1).padStart(6)} s  ${per(slurm)}`);
      console.log(`    sbatch floor ${(floor / 1000).toFixed(1).padStart(6)} s  ${per(floor)}  (the same jobs as bare \`sbatch --wrap true\`, no polypersona)`);
      console.log(`    overhead through SLURM: ${((slurm - local) / stages).toFixed(0)} ms/stage, of which SLURM itself ≈ ${(floor / stages).toFixed(0)} ms/stage; polypersona's share ≈ ${((slurm - local - floor) / stages).toFixed(0)} ms/stage (node start-up of exec-job, polling, publish)`);
    }
  } finally {
    rmSync(project, { recursive: true, force: true });
    if (started) execFileSync(clusterScript, ['stop', dir]);
  }
}

function pipelineText(shape: string, stages: number): string {
  const lines = ['version: 1', `name: bench-${shape}`, 'stages:'];
  for (let i = 0; i < stages; i++) {
    lines.push(`  s${i}:`);
    if (shape === 'chain' && i > 0) lines.push(`    needs: [s${i - 1}]`);
    lines.push(`    run: echo ${i} > \${{ outputs.dir }}/n.txt`);
  }
  return `${lines.join('\n')}\n`;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function runCli(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...argv], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`polypersona ${argv.join(' ')} exited ${code}: ${err}`))));
  });
}

/** n bare jobs one after another, each waited for before the next is submitted. */
async function sbatchChain(n: number, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  for (let i = 0; i < n; i++) {
    const id = (await run('sbatch', ['--parsable', '--output=/dev/null', '--wrap', 'true'], { cwd, env })).stdout.trim();
    await waitGone([id], cwd, env);
  }
}

/** n bare jobs submitted at once, then waited for. */
async function sbatchFan(n: number, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await run('sbatch', ['--parsable', '--output=/dev/null', '--wrap', 'true'], { cwd, env })).stdout.trim());
  await waitGone(ids, cwd, env);
}

/**
 * Until squeue lists none of `ids` as pending, running or completing, asking every 50 ms: a
 * tighter watch than the executor's (its first polls are 100 ms apart, then a quarter of the
 * time waited), so the floor is what SLURM costs, not what polling costs.
 */
async function waitGone(ids: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  for (;;) {
    const { stdout } = await run('squeue', ['--noheader', `--jobs=${ids.join(',')}`, '--states=PD,R,CG,CF', '--format=%i'], { cwd, env }).catch(() => ({ stdout: 'retry' }));
    if (stdout.trim() === '') return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
