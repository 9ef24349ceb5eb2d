/**
 * The stage contract: what a stage declares and what the engine hands it when it runs.
 * The engine knows nothing domain-specific; stages describe themselves through this interface
 * and register in a StageRegistry (see registry.ts). Built-in stages live in `stages/<type>/`.
 *
 * Rule for stage modules: `stages/<type>/index.ts` must be cheap to import (engine types, node
 * built-ins, its params schema). Heavy libraries (onnxruntime-node, @huggingface/transformers)
 * and domain code are imported dynamically inside `run()`, so that `status`, `dag` and a fully
 * cached `run` of a 1,000-stage pipeline never load them.
 */
import type { OutputDigest, StageKey } from './store/fingerprint.js';

/** What a stage's output directory holds. Free-form strings are allowed for user stages. */
export type ArtifactKind =
  | 'personas' // personas.jsonl + assignments.jsonl (sample-personas)
  | 'responses' // dataset.jsonl: persona + question + reference answer records (synthesize-responses, import-dataset)
  | 'chatml' // train.jsonl / val.jsonl / test.jsonl in HF `messages` format + stats.json (build-chatml)
  | 'model' // a Hugging Face model dir (+ model.onnx) (init-model, fetch-model, quantize, merge-adapter)
  | 'adapter' // a PEFT adapter dir (lora-train)
  | 'predictions' // predictions.jsonl (generate)
  | 'scores' // metrics.json + records.jsonl (score)
  | 'report' // tables and charts (report)
  | 'files' // anything (command stages)
  | (string & {});

/** A published, read-only output of an upstream stage. */
export interface ArtifactRef {
  /** Pipeline stage id that produced it (after matrix expansion, e.g. `adapter[model=phi-2]`). */
  stageId: string;
  /** Stage type, e.g. `lora-train`. */
  type: string;
  kind: ArtifactKind;
  /** Absolute path of the published output directory. Never write into it. */
  dir: string;
  /** Output digest: Merkle sha256 over relative paths and file sha256s (hex). */
  digest: OutputDigest;
  /** Stage key of the producing stage (hex sha256). */
  key: StageKey;
  /** The producing stage's own inputs, for transitive lookups (e.g. generate finds the base model behind an adapter). */
  upstream: ArtifactRef[];
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

export interface InputLookup {
  transitive?: boolean;
  /** With `transitive`: descend only through inputs of these kinds. Default: through all. */
  via?: ArtifactKind[];
}

export interface StageContext<P = Record<string, unknown>> {
  stageId: string;
  /** Validated against the stage's params schema, defaults filled, expressions resolved. */
  params: P;
  /** Upstream outputs keyed by upstream stage id. */
  inputs: Record<string, ArtifactRef>;
  /**
   * The one input of this kind. With `transitive`, also searches inputs' upstreams (breadth
   * first, nearest wins); `via` limits that descent to inputs of the given kinds (generate finds
   * the base model behind its adapter, not the one behind its ChatML data). Throws a UserError
   * naming the stage when none or several match.
   */
  input(kind: ArtifactKind, options?: InputLookup): ArtifactRef;
  /** Like input(), but returns undefined when none matches. */
  optionalInput(kind: ArtifactKind, options?: InputLookup): ArtifactRef | undefined;
  /** An empty directory; published atomically (renamed into the cache) after run() resolves. */
  outDir: string;
  /**
   * Scratch space that survives a crash or kill and is keyed by the stage key: checkpoints go
   * here so that the next `run` of the same stage resumes. Removed after a successful publish.
   */
  workDir: string;
  /** Directory of the pipeline file: resolve user-relative paths (data files) against it. */
  pipelineDir: string;
  /** uint32 derived from the pipeline seed and the stage's id, matrix coordinates, type and own params (never upstream digests; engine/stage-seed.ts stageSeed). Use with core/prng.ts. */
  seed: number;
  /** Intra-op thread count the stage may use (ONNX Runtime sessions). */
  threads: number;
  progress(done: number, total?: number, note?: string): void;
  log: Logger;
  /** Aborted when the run is cancelled (Ctrl-C, watch restart): stop promptly, throw signal.reason. */
  signal: AbortSignal;
  /**
   * Adds fields to the entry's `stage.json` provenance (file sha256s of a download, throughput,
   * notes on non-bitwise-reproducible results). Values must be JSON-serialisable.
   */
  recordProvenance(fields: Record<string, unknown>): void;
}

export interface InputSpec {
  /** Kinds accepted for this input. */
  kinds: ArtifactKind[];
  /** May be absent. Default false. */
  optional?: boolean;
  /** Also satisfied by an upstream's upstream (e.g. the base model behind an adapter). */
  transitive?: boolean;
}

export interface StageDefinition<P = any> {
  /** The `uses:` name, e.g. `lora-train`. */
  type: string;
  /** Bump when the same inputs would now give other outputs (joins the stage key). */
  version: number;
  /** One line, shown by `polypersona stages` and `--help`. */
  description: string;
  /** What the output directory holds. */
  produces: ArtifactKind;
  /**
   * When the kind depends on the params (lora-train with `trainable: full` writes a model, not an
   * adapter): the kind for these params. Default: `produces`.
   */
  producesFor?(params: P): ArtifactKind;
  /** Named inputs this stage needs; checked against `needs:` before anything runs. */
  consumes?: Record<string, InputSpec>;
  /** JSON Schema (draft 2020-12 or 07) for `with:`; ajv validates it with useDefaults. */
  paramsSchema: Record<string, unknown>;
  /** Runs alone (training, generation): heavy stages must not fight for the cores. */
  exclusive?: boolean;
  /**
   * 'float': some outputs are float results of onnxruntime kernels (trained weights, sampled
   * text, BERTScore), which another CPU or thread count changes in the last bits; `verify`
   * compares them within tolerance. 'bitwise' (the default): pure JS, the same bytes on any
   * x86-64/arm64 machine from the same inputs (docs/reproducibility.md lists every stage).
   */
  reproducibility?: 'bitwise' | 'float';
  /**
   * Files or directories (relative to the pipeline dir, or absolute) whose content joins the
   * stage key, derived from params: a user's data file, a question bank folder.
   */
  fileDeps?(params: P, pipelineDir: string): string[];
  /**
   * Top-level params that are POSIX shell command lines (the command stage's `run`): runtime
   * directories (`${{ outputs.dir }}`, `${{ stages.ID.outputs.dir }}`) are substituted there as
   * quoted shell words, so a folder name never runs as shell syntax. Elsewhere they are plain text.
   */
  shellParams?: readonly string[];
  run(ctx: StageContext<P>): Promise<void>;
}

/** The kind of artifact a planned stage produces with its params. */
export function producedKind(stage: { definition: StageDefinition; params: unknown }): ArtifactKind {
  return stage.definition.producesFor?.(stage.params) ?? stage.definition.produces;
}
