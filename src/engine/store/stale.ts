/**
 * Why a stage is stale, in words: compares what a stage was last built from (its lock file entry
 * or its cache record) with what its key would be made of now. Used by `status` and `run`.
 */
import { canonicalJson } from '../../core/canonical-json.js';
import { stageKey, type StageKeyInputs } from './fingerprint.js';
import type { LockedStage } from './pipeline-lock.js';
import type { StageRecord } from './record.js';

/** Longest value shown in a reason before it is cut with an ellipsis. */
const MAX_SHOWN = 60;

/**
 * Human reasons, e.g. `new stage`, `stage version 1 -> 2`, `param with.count: 40 -> 50`,
 * `input dataset changed`, `dep tools/extra.py changed`. Empty when nothing differs.
 */
export function explainStale(previous: LockedStage | StageRecord | undefined, current: StageKeyInputs): string[] {
  if (!previous) return ['new stage'];
  const reasons: string[] = [];
  if (previous.type !== current.type) reasons.push(`stage type ${previous.type} -> ${current.type}`);
  if (previous.version !== current.version) reasons.push(`stage version ${previous.version} -> ${current.version}`);
  diffValue(previous.params, current.params, 'with', reasons);
  diffDigests('input', previous.inputs ?? {}, current.inputs, reasons);
  diffDigests('dep', previous.deps ?? {}, current.deps, reasons);
  if (reasons.length === 0 && previous.key !== stageKey(current)) {
    // Everything we can compare is equal, yet the key moved: the engine's key scheme changed.
    reasons.push('engine key version changed');
  }
  return reasons;
}

function diffDigests(what: string, before: Record<string, string>, after: Record<string, string>, out: string[]): void {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const name of names) {
    const a = before[name];
    const b = after[name];
    if (a === undefined) out.push(`${what} ${name} added`);
    else if (b === undefined) out.push(`${what} ${name} removed`);
    else if (a !== b) out.push(`${what} ${name} changed`);
  }
}

/** Deep diff with dotted paths (`with.teacher.kind`, `with.metrics[2]`). */
function diffValue(a: unknown, b: unknown, path: string, out: string[]): void {
  if (isRecord(a) && isRecord(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      const sub = `${path}.${k}`;
      if (a[k] === undefined && b[k] !== undefined) out.push(`param ${sub} added: ${show(b[k])}`);
      else if (b[k] === undefined && a[k] !== undefined) out.push(`param ${sub} removed (was ${show(a[k])})`);
      else diffValue(a[k], b[k], sub, out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (let i = 0; i < a.length; i++) diffValue(a[i], b[i], `${path}[${i}]`, out);
    return;
  }
  if (!sameJson(a, b)) out.push(`param ${path}: ${show(a)} -> ${show(b)}`);
}

function sameJson(a: unknown, b: unknown): boolean {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return a === b;
  }
}

function show(v: unknown): string {
  let s: string;
  try {
    s = v === undefined ? 'undefined' : canonicalJson(v);
  } catch {
    s = String(v);
  }
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN - 1)}…` : s;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
