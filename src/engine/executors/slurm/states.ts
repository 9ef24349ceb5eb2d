/**
 * SLURM job states (as `squeue -o %T` and `scontrol show job` print them) mapped to what the
 * executor does next. Taken from the JOB STATE CODES section of squeue(1), Slurm 22.05–24.x.
 */

export interface JobStatus {
  /** Long state name: PENDING, RUNNING, COMPLETED, … */
  state: string;
  /** Why a job pends (or why it ended): `Resources`, `ReqNodeNotAvail, …`, `NonZeroExitCode`. */
  reason: string;
  /** `scontrol`'s `ExitCode=3:0` (exit status : signal), when known. */
  exitCode?: string;
  /** The partition the job is queued in (squeue's %P), when known. */
  partition?: string;
}

export type JobPhase =
  /** Queued or running: keep watching. */
  | 'active'
  /** Ended with exit code 0: the entry should be in the cache. */
  | 'completed'
  /** The job's own failure (its command failed, it ran out of time or memory): the stage failed. */
  | 'failed'
  /** scancel: by us (interrupted run) or by someone else. */
  | 'cancelled'
  /** The cluster lost the job (a node died, it was preempted): resubmitting may succeed. */
  | 'lost';

const PHASES: Record<string, JobPhase> = {
  PENDING: 'active',
  CONFIGURING: 'active',
  RUNNING: 'active',
  COMPLETING: 'active',
  SUSPENDED: 'active',
  STOPPED: 'active',
  REQUEUED: 'active',
  REQUEUE_HOLD: 'active',
  REQUEUE_FED: 'active',
  RESIZING: 'active',
  SIGNALING: 'active',
  STAGE_OUT: 'active',
  RESV_DEL_HOLD: 'active',
  SPECIAL_EXIT: 'failed',
  COMPLETED: 'completed',
  FAILED: 'failed',
  TIMEOUT: 'failed',
  OUT_OF_MEMORY: 'failed',
  DEADLINE: 'failed',
  CANCELLED: 'cancelled',
  NODE_FAIL: 'lost',
  BOOT_FAIL: 'lost',
  PREEMPTED: 'lost',
  REVOKED: 'lost',
};

/** The phase of a state; an unknown state name counts as active (a newer Slurm's transient state). */
export function phaseOf(state: string): JobPhase {
  // `CANCELLED by 0` (scontrol) and `CANCELLED+` (sacct) carry a suffix.
  const name = state.split(/[\s+]/)[0]!.toUpperCase();
  return PHASES[name] ?? 'active';
}

/**
 * Pending reasons that no amount of waiting resolves on its own: nodes down or drained, the
 * partition down or too small for the request, a bad account, QOS or constraint, an admin hold.
 * (`Resources`, `Priority`, `BeginTime`, `Dependency`, association limits: the queue moves; wait.)
 */
const UNAVAILABLE = [
  /ReqNodeNotAvail/i,
  /Nodes required for job are DOWN/i,
  /NodeDown/i,
  /PartitionDown/i,
  /PartitionInactive/i,
  /PartitionNodeLimit/i,
  /PartitionTimeLimit/i,
  /PartitionConfig/i,
  /InvalidAccount/i,
  /InvalidQOS/i,
  /BadConstraints/i,
  /JobHeldAdmin/i,
  /JobHeldUser/i,
  /DependencyNeverSatisfied/i,
];

export function isUnavailableReason(reason: string): boolean {
  return UNAVAILABLE.some((re) => re.test(reason));
}

/** `ExitCode=3:0` -> "exit code 3"; `0:9` -> "signal 9". */
export function describeExitCode(exitCode: string | undefined): string | undefined {
  if (!exitCode) return undefined;
  const m = /^(\d+):(\d+)$/.exec(exitCode);
  if (!m) return `exit code ${exitCode}`;
  if (m[2] !== '0') return `signal ${m[2]}`;
  return `exit code ${m[1]}`;
}
