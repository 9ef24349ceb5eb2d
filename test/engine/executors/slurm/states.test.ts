import { describe, expect, it } from 'vitest';
import { describeExitCode, isUnavailableReason, phaseOf } from '../../../../src/engine/executors/slurm/states.js';

describe('SLURM job states', () => {
  it('map to what the executor does next', () => {
    for (const s of ['PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'RESIZING', 'SIGNALING', 'STAGE_OUT']) expect(phaseOf(s)).toBe('active');
    expect(phaseOf('COMPLETED')).toBe('completed');
    for (const s of ['FAILED', 'TIMEOUT', 'OUT_OF_MEMORY', 'DEADLINE', 'SPECIAL_EXIT']) expect(phaseOf(s)).toBe('failed');
    expect(phaseOf('CANCELLED')).toBe('cancelled');
    // scontrol prints "CANCELLED by 0"; sacct "CANCELLED+".
    expect(phaseOf('CANCELLED by 0')).toBe('cancelled');
    expect(phaseOf('CANCELLED+')).toBe('cancelled');
    for (const s of ['NODE_FAIL', 'BOOT_FAIL', 'PREEMPTED']) expect(phaseOf(s)).toBe('lost');
    // A state a newer Slurm adds is waited on, never taken for success or failure.
    expect(phaseOf('SOMETHING_NEW')).toBe('active');
  });

  it('tell reasons that need an administrator from a busy queue', () => {
    expect(isUnavailableReason('Nodes required for job are DOWN, DRAINED or reserved for jobs in higher priority partitions')).toBe(true);
    expect(isUnavailableReason('ReqNodeNotAvail, UnavailableNodes:node[1-4]')).toBe(true);
    expect(isUnavailableReason('PartitionDown')).toBe(true);
    expect(isUnavailableReason('PartitionTimeLimit')).toBe(true);
    expect(isUnavailableReason('InvalidQOS')).toBe(true);
    for (const r of ['Resources', 'Priority', 'BeginTime', 'Dependency', 'AssocGrpCPULimit', 'None', '']) expect(isUnavailableReason(r)).toBe(false);
  });

  it('describe exit codes as exit status or signal', () => {
    expect(describeExitCode('3:0')).toBe('exit code 3');
    expect(describeExitCode('0:9')).toBe('signal 9');
    expect(describeExitCode(undefined)).toBeUndefined();
  });
});
