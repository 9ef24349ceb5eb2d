/**
 * Engine benchmark, pipeline section: a 1,000-stage synthetic pipeline (a tree of command
 * stages, each with a dep file), built once, then timed as users run it — the built CLI in a
 * fresh Node process, start-up included:
 *   - `run` with everything cached (target < 1.5 s),
 *   - `status`.
 * Ceiling printed beside it: `node -e 0` (bare Node start-up) on the same machine, same run.
 * Wall time on a shared machine is noisy, so each figure comes with the CPU time (user + sys) of
 * the process, read with bash's `times` in extra runs, and the load average.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli/main.js');

function pipelineYaml(stages: number): string {
  const lines = ['version: 1', 'name: bench', 'params: { seed: 1 }', 'stages:'];
  for (let i = 0; i < stages; i++) {
    lines.push(`  s${i}:`);
    // A binary tree: each stage needs its parent, so the DAG is deep and wide.
    if (i > 0) lines.push(`    needs: [s${Math.floor((i - 1) / 2)}]`);
    lines.push(`    deps: [deps/d${i % 50}.txt]`);
    lines.push(`    run: echo ${i} > \${{ outputs.dir }}/o.txt`);
  }
  return `${lines.join('\n')}\n`;
}

function timeCli(args: string[], cwd: string, repeats: number): number[] {
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    const res = spawnSync(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, CI: '1' }, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (res.status !== 0) throw new Error(`polypersona ${args.join(' ')} exited ${res.status}: ${res.stderr}`);
    times.push(ms);
  }
  return times;
}

/** CPU seconds (user + sys) of `polypersona ARGS` per run, from bash's `times`; [] without bash. */
function cpuCli(args: string[], cwd: string, repeats: number): number[] {
  const cpu: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const res = spawnSync('bash', ['-c', '"$0" "$@" >/dev/null 2>&1; times', process.execPath, CLI, ...args], { cwd, env: { ...process.env, CI: '1' }, encoding: 'utf8' });
    const children = res.status === 0 ? res.stdout.trim().split('\n')[1] : undefined;
    const m = children ? /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(children.trim()) : null;
    if (!m) return [];
    cpu.push((Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000);
  }
  return cpu;
}

const cpusCount = (): number => availableParallelism();
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function pipelineBench(stages = 1000): Promise<void> {
  if (!existsSync(CLI)) {
    console.log('building dist/ (npm run build) ...');
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
  const dir = mkdtempSync(join(tmpdir(), 'pp-bench-engine-'));
  try {
    mkdirSync(join(dir, 'deps'));
    for (let i = 0; i < 50; i++) writeFileSync(join(dir, 'deps', `d${i}.txt`), `dep ${i}\n`);
    writeFileSync(join(dir, 'pipeline.yaml'), pipelineYaml(stages));
    const t0 = Date.now();
    const first = spawnSync(process.execPath, [CLI, 'run', '--jobs', '2'], { cwd: dir, env: { ...process.env, CI: '1' }, encoding: 'utf8' });
    if (first.status !== 0) throw new Error(`first run failed: ${first.stderr}`);
    console.log(`first run of ${stages} command stages (sh -c each, --jobs 2): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const nodeStart = timeCli(['--version'], dir, 5);
    const bare: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t = process.hrtime.bigint();
      spawnSync(process.execPath, ['-e', '0']);
      bare.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const loadBefore = load();
    const noop = timeCli(['run'], dir, 5);
    const status = timeCli(['status'], dir, 3);
    const noopCpu = cpuCli(['run'], dir, 3);
    const statusCpu = cpuCli(['status'], dir, 3);
    const cpu = (xs: number[]): string => (xs.length ? `; CPU (user+sys) median ${median(xs).toFixed(0)} ms` : '');
    console.log(`load average before / after: ${loadBefore} / ${load()} (on ${cpusCount()} cores)`);
    console.log(`ceiling: bare \`node -e 0\` ${median(bare).toFixed(0)} ms; \`polypersona --version\` ${median(nodeStart).toFixed(0)} ms`);
    console.log(`no-op re-run, ${stages} stages all cached: median ${median(noop).toFixed(0)} ms (min ${Math.min(...noop).toFixed(0)})${cpu(noopCpu)} — target < 1500 ms ${median(noop) < 1500 ? 'MET' : 'NOT MET'}`);
    console.log(`status, ${stages} stages: median ${median(status).toFixed(0)} ms (min ${Math.min(...status).toFixed(0)})${cpu(statusCpu)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
