/**
 * Where a stage runs: the `executor:` setting of a pipeline (for every stage) and of a stage (its
 * own fields win), or `run --executor KIND` (overrides the kind for every stage). The settings
 * never join a stage key: a stage built on a cluster node is the same cache entry as one built
 * here. Shapes, as written in YAML:
 *
 *   executor: slurm                         # shorthand for { kind: slurm }
 *   executor: { kind: slurm, partition: gpu, time: "2:00:00", cpus: 4, mem: 16G, gres: "gpu:1" }
 *   executor: { cpus: 8 }                   # resources only: used when the stage goes to a cluster
 *
 * Resource values follow sbatch's own syntax (`time` as `--time`, `mem` as `--mem`), so a SLURM
 * user reads them without a manual. `${{ params.* }}` and `${{ matrix.* }}` may stand in a stage's
 * executor (a matrix cell per model can ask for its own memory).
 */

export const EXECUTOR_KINDS = ['local', 'slurm'] as const;
export type ExecutorKind = (typeof EXECUTOR_KINDS)[number];

/** The settings of one stage after merging; `kind` is always set. */
export interface ExecutorSettings {
  kind: ExecutorKind;
  /** sbatch --partition. */
  partition?: string;
  /** sbatch --time: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS. */
  time?: string;
  /** sbatch --cpus-per-task; also the stage's thread count on the node. */
  cpus?: number;
  /** sbatch --mem: megabytes, or a number with a K/M/G/T suffix. */
  mem?: string;
  /** sbatch --gres, e.g. `gpu:1` or `gpu:a100:2`. */
  gres?: string;
  /** sbatch --account. */
  account?: string;
  /** sbatch --qos. */
  qos?: string;
  /** More sbatch options, each one argument (`--constraint=avx512`). */
  sbatch_args?: string[];
  /** Shell lines the job script runs before polypersona (`module load nodejs/20`). */
  setup?: string[];
  /**
   * How long a job may wait for nodes that are down, drained or otherwise unavailable before the
   * stage fails (sbatch time syntax; "0" fails at once). Default 10 minutes.
   */
  unavailable_timeout?: string;
  /** Resubmissions after the cluster lost the job (NODE_FAIL, BOOT_FAIL, PREEMPTED). Default 1. */
  retries?: number;
}

export type ExecutorFields = Partial<ExecutorSettings>;

const FIELDS = ['kind', 'partition', 'time', 'cpus', 'mem', 'gres', 'account', 'qos', 'sbatch_args', 'setup', 'unavailable_timeout', 'retries'] as const;
export const EXECUTOR_FIELDS: readonly string[] = FIELDS;

const NAME_RE = /^[A-Za-z0-9_.,+-]+$/;
const GRES_RE = /^[A-Za-z0-9_.,:+-]+$/;
const MEM_RE = /^\d+[KMGT]?$/;
const TIME_RE = /^(\d+-\d+(:\d+(:\d+)?)?|\d+(:\d+(:\d+)?)?|UNLIMITED|INFINITE)$/;
/** sbatch options the executor sets itself: giving them again would break tracking or logs. */
const RESERVED_SBATCH = ['--output', '--error', '--job-name', '--chdir', '--array', '--wrap', '--parsable', '--open-mode', '-o', '-e', '-J', '-D', '-a'];

/** Where a problem is, below the `executor:` key (map keys and list indexes), and what it is. */
export type Report = (path: Array<string | number>, message: string) => void;

/**
 * Checks one `executor:` value (already expression-resolved) and returns its fields; problems go
 * to `report` with the field's path relative to the executor key. Undefined when it is unusable.
 */
export function parseExecutorFields(value: unknown, report: Report): ExecutorFields | undefined {
  // An expression left unresolved has been reported where it stands; a type error on top would only confuse.
  if (holdsExpression(value)) return undefined;
  if (typeof value === 'string') {
    if (!(EXECUTOR_KINDS as readonly string[]).includes(value)) {
      report([], `unknown executor "${value}" (one of: ${EXECUTOR_KINDS.join(', ')})`);
      return undefined;
    }
    return { kind: value as ExecutorKind };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    report([], `an executor is one of ${EXECUTOR_KINDS.join(', ')} or a map of settings (kind, partition, time, cpus, mem, gres, …)`);
    return undefined;
  }
  const raw = value as Record<string, unknown>;
  const out: ExecutorFields = {};
  let ok = true;
  const bad = (field: string, message: string): void => {
    report([field], message);
    ok = false;
  };
  for (const [field, v] of Object.entries(raw)) {
    switch (field as (typeof FIELDS)[number]) {
      case 'kind':
        if (typeof v === 'string' && (EXECUTOR_KINDS as readonly string[]).includes(v)) out.kind = v as ExecutorKind;
        else bad(field, `unknown executor kind ${JSON.stringify(v)} (one of: ${EXECUTOR_KINDS.join(', ')})`);
        break;
      case 'partition':
      case 'account':
      case 'qos':
        if (typeof v === 'string' && NAME_RE.test(v)) out[field as 'partition'] = v;
        else bad(field, `${field} must be a SLURM name (letters, digits, "_", ".", "-", "+"; "," between several), got ${JSON.stringify(v)}`);
        break;
      case 'gres':
        if (typeof v === 'string' && GRES_RE.test(v)) out.gres = v;
        else bad(field, `gres must look like "gpu:1" or "gpu:a100:2", got ${JSON.stringify(v)}`);
        break;
      case 'time':
      case 'unavailable_timeout': {
        const text = typeof v === 'number' && Number.isInteger(v) && v >= 0 ? String(v) : v;
        if (typeof text === 'string' && TIME_RE.test(text)) out[field as 'time' | 'unavailable_timeout'] = text;
        else bad(field, `${field} must be a SLURM time (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS), got ${JSON.stringify(v)}`);
        break;
      }
      case 'mem': {
        const text = typeof v === 'number' && Number.isInteger(v) && v > 0 ? String(v) : v;
        if (typeof text === 'string' && MEM_RE.test(text)) out.mem = text;
        else bad(field, `mem must be megabytes or a size with a K, M, G or T suffix (as sbatch --mem), got ${JSON.stringify(v)}`);
        break;
      }
      case 'cpus':
        if (typeof v === 'number' && Number.isInteger(v) && v >= 1) out.cpus = v;
        else bad(field, `cpus must be an integer ≥ 1, got ${JSON.stringify(v)}`);
        break;
      case 'retries':
        if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 10) out.retries = v;
        else bad(field, `retries must be an integer from 0 to 10, got ${JSON.stringify(v)}`);
        break;
      case 'sbatch_args': {
        const list = stringList(v);
        const wrong = list?.find((a) => !a.startsWith('-') || /[\n\r]/.test(a));
        const reserved = list?.find((a) => RESERVED_SBATCH.includes(a.split('=')[0]!));
        if (!list || wrong !== undefined) bad(field, `sbatch_args must be a list of sbatch options, one per item ("--constraint=avx512")${wrong !== undefined ? `, got ${JSON.stringify(wrong)}` : ''}`);
        else if (reserved !== undefined) bad(field, `${reserved.split('=')[0]} is set by polypersona itself (it tracks the job and its log); remove it`);
        else out.sbatch_args = list;
        break;
      }
      case 'setup': {
        const list = typeof v === 'string' ? [v] : stringList(v);
        if (!list) bad(field, 'setup must be a shell line or a list of them');
        else out.setup = list;
        break;
      }
      default:
        bad(field, `unknown executor setting "${field}" (known: ${FIELDS.join(', ')})`);
    }
  }
  return ok ? out : undefined;
}

function holdsExpression(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('${{');
  if (Array.isArray(value)) return value.some(holdsExpression);
  if (value !== null && typeof value === 'object') return Object.values(value).some(holdsExpression);
  return false;
}

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

/**
 * A stage's settings: the pipeline's, then the stage's own fields over them. The kind defaults
 * to local; resources given without a kind wait for `run --executor slurm`.
 */
export function mergeExecutorSettings(pipelineWide: ExecutorFields | undefined, stage: ExecutorFields | undefined): ExecutorSettings {
  return { kind: 'local', ...pipelineWide, ...stage } as ExecutorSettings;
}

/** Seconds in a SLURM time string (minutes when a bare number, as sbatch reads it). */
export function slurmTimeSeconds(time: string): number {
  if (time === 'UNLIMITED' || time === 'INFINITE') return Number.POSITIVE_INFINITY;
  let days = 0;
  let rest = time;
  const dash = time.indexOf('-');
  if (dash >= 0) {
    days = Number(time.slice(0, dash));
    rest = time.slice(dash + 1);
  }
  const parts = rest.split(':').map(Number);
  let seconds: number;
  if (dash >= 0) {
    // D-HH, D-HH:MM, D-HH:MM:SS
    const [h = 0, m = 0, s = 0] = parts;
    seconds = h * 3600 + m * 60 + s;
  } else if (parts.length === 1) seconds = parts[0]! * 60; // minutes
  else if (parts.length === 2) seconds = parts[0]! * 60 + parts[1]!; // MM:SS
  else seconds = parts[0]! * 3600 + parts[1]! * 60 + parts[2]!; // HH:MM:SS
  return days * 86400 + seconds;
}
