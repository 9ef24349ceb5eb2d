/**
 * The one-node test cluster as the SLURM tests see it: started by `test/slurm/cluster.sh start`
 * (which .ci/run runs before `npm test`), found through POLYPERSONA_TEST_SLURM. Without it the
 * tests skip and say why; they never start or touch any other cluster.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SlurmClient } from '../../src/engine/executors/slurm/client.js';
import { SlurmExecutor } from '../../src/engine/executors/slurm/executor.js';

export const CLUSTER_DIR = process.env.POLYPERSONA_TEST_SLURM;
export const CLUSTER_SCRIPT = fileURLToPath(new URL('./cluster.sh', import.meta.url));

/** Why the SLURM tests cannot run here, or undefined when they can. */
export function skipReason(): string | undefined {
  if (!CLUSTER_DIR) return 'no test cluster: POLYPERSONA_TEST_SLURM is unset (.ci/run sets it when `test/slurm/cluster.sh start` succeeds; run that yourself and eval its output)';
  if (!existsSync(join(CLUSTER_DIR, 'slurm.conf'))) return `no test cluster: ${CLUSTER_DIR}/slurm.conf does not exist`;
  return undefined;
}

/** This process's environment pointed at the test cluster (and only at it). */
export function slurmEnv(): NodeJS.ProcessEnv {
  return { ...process.env, SLURM_CONF: join(CLUSTER_DIR!, 'slurm.conf') };
}

export function slurm(command: string, args: string[]): string {
  return execFileSync(command, args, { env: slurmEnv(), encoding: 'utf8' });
}

export function clusterScript(...args: string[]): void {
  execFileSync(CLUSTER_SCRIPT, args, { env: slurmEnv(), stdio: 'ignore' });
}

/** Ids and states of this user's jobs with this name, oldest first. */
export function jobsNamed(name: string): Array<{ id: string; state: string }> {
  return slurm('squeue', ['--noheader', '--me', '--states=all', `--name=${name}`, '--format=%i|%T'])
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id, state] = l.split('|');
      return { id: id!, state: state! };
    })
    .sort((a, b) => Number(a.id) - Number(b.id));
}

export function nodeState(): string {
  return slurm('sinfo', ['--noheader', '--nodes=ppnode', '--format=%T']).trim();
}

/** argv that starts polypersona from these sources on the node (the cluster runs this machine's files). */
export function polypersonaArgv(): string[] {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return [process.execPath, '--import', tsx, fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))];
}

export function slurmExecutor(): SlurmExecutor {
  return new SlurmExecutor({ client: new SlurmClient({ env: slurmEnv() }), polypersona: polypersonaArgv(), pollMs: { min: 100, max: 1000 } });
}

/** Resolves once `cond` holds, checked every 50 ms: for events only the cluster can tell (a job started). */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 50));
}

/** The node takes jobs (not drained, down or unresponsive; it may be running some). */
export function nodeUsable(): boolean {
  return /^(idle|mixed|allocated)$/.test(nodeState());
}

/** A temp project folder; `remove()` deletes it. */
export class ClusterProject {
  readonly dir: string;
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'pp-slurm-test-'));
    mkdirSync(join(this.dir, 'counters'));
  }
  write(rel: string, text: string): string {
    writeFileSync(join(this.dir, rel), text);
    return join(this.dir, rel);
  }
  touch(rel: string): void {
    writeFileSync(join(this.dir, rel), '');
  }
  exists(rel: string): boolean {
    return existsSync(join(this.dir, rel));
  }
  count(name: string): number {
    const path = join(this.dir, 'counters', name);
    return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).length : 0;
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A command stage that counts its runs, says it started (file started-NAME), then waits for the
 * test to create go-NAME before it writes its output: a stage the test holds in RUNNING.
 */
export function gatedStage(name: string, extra = ''): string {
  return [
    `  ${name}:`,
    ...(extra ? [`    ${extra}`] : []),
    `    run: echo x >> counters/${name} && touch started-${name} && while [ ! -e go-${name} ]; do sleep 0.05; done && echo done > \${{ outputs.dir }}/${name}.txt`,
  ].join('\n');
}
