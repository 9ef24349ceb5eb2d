/**
 * The SLURM commands the executor needs, and nothing else: `sbatch` to submit, `squeue` and
 * `scontrol show job` to track (no accounting database: slurmdbd is often absent, and `sacct`
 * would be one more service to depend on), `scancel` to cancel. Each runs through execa without
 * a shell; which cluster they talk to comes from the environment as for any SLURM user
 * (SLURM_CONF, or the system's slurm.conf).
 *
 * Queries answer one of three things, kept apart because the executor acts differently on each:
 * a job's status, `unknown` (slurmctld no longer knows the id: it ended more than MinJobAge ago,
 * or its state was lost), or `unreachable` (slurmctld is down or restarting: wait and ask again).
 */
import { execa } from 'execa';
import { StageFailure } from '../../../core/errors.js';
import type { JobStatus } from './states.js';

export type JobQuery = JobStatus | 'unknown' | 'unreachable';

/** slurmctld could not be reached (down, restarting, network). */
export class SlurmUnreachableError extends StageFailure {
  constructor(command: string, detail: string) {
    super('slurm-unreachable', `${command}: cannot reach the SLURM controller (${detail.trim()})`);
  }
}

/** The SLURM client commands are not installed here. */
export class SlurmMissingError extends StageFailure {
  constructor(command: string) {
    super('slurm-missing', `${command} is not installed or not on PATH; the slurm executor needs the SLURM client commands (sbatch, squeue, scontrol, scancel; see docs/cluster.md)`);
  }
}

const UNREACHABLE_RE = /Unable to contact slurm controller|Socket timed out|Zero Bytes were transmitted|Connection refused|Communication connection failure|Slurm backup controller in standby mode|Transport endpoint is not connected/i;
const INVALID_ID_RE = /Invalid job id specified/i;

export interface SlurmClientOptions {
  /** Environment for the commands (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Folder with sbatch, squeue, scontrol and scancel (default: found on PATH). */
  binDir?: string;
}

export class SlurmClient {
  private readonly env: NodeJS.ProcessEnv | undefined;
  private readonly binDir: string | undefined;

  constructor(options: SlurmClientOptions = {}) {
    this.env = options.env;
    this.binDir = options.binDir;
  }

  private bin(name: string): string {
    return this.binDir ? `${this.binDir}/${name}` : name;
  }

  private async exec(name: string, args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string; missing: boolean }> {
    const r = await execa(this.bin(name), args, {
      reject: false,
      stdin: 'ignore',
      ...(this.env ? { env: this.env, extendEnv: false } : {}),
    });
    const missing = (r as { code?: string }).code === 'ENOENT';
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? r.message ?? ''), missing };
  }

  /** Whether sbatch can be run at all (installed, on PATH). */
  async available(): Promise<boolean> {
    const r = await this.exec('sbatch', ['--version']);
    return !r.missing && r.exitCode === 0;
  }

  /** Submits a batch script; returns the job id. `args` are sbatch options (no shell involved). */
  async submit(args: string[], script: string): Promise<string> {
    const r = await this.exec('sbatch', ['--parsable', ...args, script]);
    if (r.missing) throw new SlurmMissingError('sbatch');
    if (r.exitCode !== 0) {
      if (UNREACHABLE_RE.test(r.stderr)) throw new SlurmUnreachableError('sbatch', r.stderr);
      throw new StageFailure('slurm-submit-failed', `sbatch refused the job: ${r.stderr.trim() || `exit code ${r.exitCode}`}`);
    }
    // --parsable prints "jobid" or "jobid;cluster".
    const id = r.stdout.trim().split(/\s+/).pop()?.split(';')[0] ?? '';
    if (!/^\d+$/.test(id)) throw new StageFailure('slurm-submit-failed', `sbatch printed no job id (${JSON.stringify(r.stdout.trim())})`);
    return id;
  }

  /** Statuses of several jobs in one squeue call; ids slurmctld no longer knows are `unknown`. */
  async query(ids: readonly string[]): Promise<Map<string, JobQuery>> {
    const out = new Map<string, JobQuery>();
    if (ids.length === 0) return out;
    const r = await this.exec('squeue', ['--noheader', '--states=all', `--jobs=${ids.join(',')}`, '--format=%i|%T|%P|%r']);
    if (r.missing) throw new SlurmMissingError('squeue');
    if (r.exitCode !== 0) {
      const everyone: JobQuery = UNREACHABLE_RE.test(r.stderr) ? 'unreachable' : INVALID_ID_RE.test(r.stderr) ? 'unknown' : 'unreachable';
      for (const id of ids) out.set(id, everyone);
      return out;
    }
    for (const line of r.stdout.split('\n')) {
      // The reason comes last: it is free text.
      const [id, state, partition, ...reason] = line.trim().split('|');
      if (id && state) out.set(id, { state, reason: reason.join('|'), ...(partition ? { partition } : {}) });
    }
    for (const id of ids) if (!out.has(id)) out.set(id, 'unknown');
    return out;
  }

  /** One job in detail (`scontrol show job`): its exit code too. */
  async show(id: string): Promise<JobQuery> {
    const r = await this.exec('scontrol', ['show', 'job', '--oneliner', id]);
    if (r.missing) throw new SlurmMissingError('scontrol');
    if (r.exitCode !== 0) return INVALID_ID_RE.test(r.stderr) ? 'unknown' : 'unreachable';
    const field = (name: string): string | undefined => new RegExp(`(?:^|\\s)${name}=(\\S*)`).exec(r.stdout)?.[1];
    const state = field('JobState');
    if (!state) return 'unknown';
    return { state, reason: field('Reason') ?? '', ...(field('ExitCode') ? { exitCode: field('ExitCode')! } : {}) };
  }

  /** Ids of this user's jobs with this name still known to slurmctld (any state). */
  async findByName(name: string): Promise<string[] | 'unreachable'> {
    const r = await this.exec('squeue', ['--noheader', '--me', '--states=all', `--name=${name}`, '--format=%i|%T']);
    if (r.missing) throw new SlurmMissingError('squeue');
    if (r.exitCode !== 0) return 'unreachable';
    return r.stdout
      .split('\n')
      .map((l) => l.trim().split('|'))
      .filter(([id]) => id && /^\d+$/.test(id))
      .map(([id]) => id!);
  }

  /**
   * `node: state (reason)` for messages: the nodes of a host list (`node[1-4],gpu7`), or those of a
   * partition that cannot take jobs now (down, drained, …). Undefined when sinfo cannot tell.
   */
  async describeNodes(which: { nodes: string } | { partition: string }): Promise<string | undefined> {
    const select = 'nodes' in which ? `--nodes=${which.nodes}` : `--partition=${which.partition}`;
    const r = await this.exec('sinfo', ['--noheader', '--Node', select, '--format=%N|%T|%E']);
    if (r.missing || r.exitCode !== 0) return undefined;
    const rows = [...new Set(r.stdout.split('\n').filter(Boolean))].map((l) => l.split('|'));
    const shown = 'nodes' in which ? rows : rows.filter(([, state]) => !/^(idle|mixed|allocated|completing)$/.test(state ?? ''));
    const lines = shown.map(([node, state, why]) => (why && why !== 'none' ? `${node}: ${state} (${why})` : `${node}: ${state}`));
    return lines.length > 0 ? lines.join(', ') : undefined;
  }

  /** scancel; a job that already ended is fine. Throws only when slurmctld cannot be reached. */
  async cancel(id: string): Promise<void> {
    const r = await this.exec('scancel', [id]);
    if (r.missing) throw new SlurmMissingError('scancel');
    if (r.exitCode !== 0 && UNREACHABLE_RE.test(r.stderr)) throw new SlurmUnreachableError('scancel', r.stderr);
  }
}
