import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SlurmClient, SlurmMissingError, SlurmUnreachableError } from '../../../../src/engine/executors/slurm/client.js';

/**
 * The client against stand-in sbatch/squeue/scontrol/scancel scripts that print what Slurm
 * 22.05 prints (captured from the one-node test cluster) and record their arguments.
 */
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fakeBin(scripts: Record<string, string>): { client: SlurmClient; calls: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'pp-fake-slurm-'));
  dirs.push(dir);
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(dir, name), `#!/bin/sh\necho "${name} $*" >> '${log}'\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return { client: new SlurmClient({ binDir: dir, env: { PATH: process.env.PATH } }), calls: () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) };
}

describe('SlurmClient', () => {
  it('submits with --parsable and reads the id (with or without a cluster name)', async () => {
    const { client, calls } = fakeBin({ sbatch: 'echo "42;cluster1"' });
    expect(await client.submit(['--job-name=pp-x', '--mem=1G'], '/j/job.sh')).toBe('42');
    expect(calls()).toEqual(['sbatch --parsable --job-name=pp-x --mem=1G /j/job.sh']);
  });

  it('says why sbatch refused a job', async () => {
    const { client } = fakeBin({ sbatch: 'echo "sbatch: error: Batch job submission failed: Invalid partition name specified" >&2; exit 1' });
    await expect(client.submit([], '/j/job.sh')).rejects.toThrow('sbatch refused the job: sbatch: error: Batch job submission failed: Invalid partition name specified');
    const down = fakeBin({ sbatch: 'echo "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)" >&2; exit 1' });
    await expect(down.client.submit([], '/j/job.sh')).rejects.toBeInstanceOf(SlurmUnreachableError);
  });

  it('queries many jobs in one squeue; ids it no longer knows are unknown', async () => {
    const { client, calls } = fakeBin({ squeue: 'printf "7|RUNNING|debug|None\\n8|PENDING|gpu|Nodes required for job are DOWN, DRAINED or reserved for jobs in higher priority partitions\\n"' });
    const q = await client.query(['7', '8', '9']);
    expect(q.get('7')).toEqual({ state: 'RUNNING', reason: 'None', partition: 'debug' });
    expect(q.get('8')).toEqual({ state: 'PENDING', reason: 'Nodes required for job are DOWN, DRAINED or reserved for jobs in higher priority partitions', partition: 'gpu' });
    expect(q.get('9')).toBe('unknown');
    expect(calls()).toEqual(['squeue --noheader --states=all --jobs=7,8,9 --format=%i|%T|%P|%r']);
  });

  it('tells a controller that is down from ids that are gone', async () => {
    const down = fakeBin({ squeue: 'echo "slurm_load_jobs error: Unable to contact slurm controller (connect failure)" >&2; exit 1' });
    expect((await down.client.query(['7'])).get('7')).toBe('unreachable');
    const gone = fakeBin({ squeue: 'echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1' });
    expect((await gone.client.query(['7'])).get('7')).toBe('unknown');
  });

  it('reads state, reason and exit code from scontrol show job', async () => {
    const { client } = fakeBin({ scontrol: 'echo "JobId=5 JobName=pp-a UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) ExitCode=3:0 RunTime=00:00:01"' });
    expect(await client.show('5')).toEqual({ state: 'FAILED', reason: 'NonZeroExitCode', exitCode: '3:0' });
    const gone = fakeBin({ scontrol: 'echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1' });
    expect(await gone.client.show('5')).toBe('unknown');
  });

  it('finds this user’s jobs by name; cancels, tolerating jobs that already ended', async () => {
    const { client, calls } = fakeBin({ squeue: 'printf "11|RUNNING\\n"', scancel: 'echo "scancel: error: Kill job error on job id 11: Job/step already completing or completed" >&2; exit 1' });
    expect(await client.findByName('pp-a-123')).toEqual(['11']);
    await client.cancel('11');
    expect(calls()).toEqual(['squeue --noheader --me --states=all --name=pp-a-123 --format=%i|%T', 'scancel 11']);
  });

  it('describes nodes for messages: state and the admin’s reason', async () => {
    const { client, calls } = fakeBin({ sinfo: 'printf "n1|drained|disk swap\\nn2|idle|none\\n"' });
    expect(await client.describeNodes({ nodes: 'n[1-2]' })).toBe('n1: drained (disk swap), n2: idle');
    // For a partition, only the nodes that cannot take jobs.
    expect(await client.describeNodes({ partition: 'gpu' })).toBe('n1: drained (disk swap)');
    expect(calls()).toEqual(['sinfo --noheader --Node --nodes=n[1-2] --format=%N|%T|%E', 'sinfo --noheader --Node --partition=gpu --format=%N|%T|%E']);
  });

  it('names the missing command when SLURM is not installed', async () => {
    const { client } = fakeBin({});
    await expect(client.submit([], '/j/job.sh')).rejects.toBeInstanceOf(SlurmMissingError);
    await expect(client.query(['1'])).rejects.toThrow(/squeue is not installed or not on PATH/);
    expect(await client.available()).toBe(false);
  });
});
