import { MAX_MATRIX_COMBINATIONS } from './limits.js';
import type { MatrixCombo } from './types.js';

/**
 * Matrix expansion. A stage with `matrix: { model: [a, b], lr: [1, 2] }` runs once per
 * combination; its expanded ids list the values in sorted axis-name order (`x[1,a]` for lr=1,
 * model=a), so reordering axes in the YAML changes no id. Combinations come out in
 * cartesian order (sorted axes, the first axis slowest), minus `exclude` (partial combos),
 * plus `include` (full combos).
 */
export type Scalar = string | number | boolean;

export interface MatrixSpec {
  axes: Record<string, Scalar[]>;
  include: MatrixCombo[];
  exclude: MatrixCombo[];
}

/** Returns the combinations, or an error message. */
export function expandMatrix(spec: MatrixSpec): MatrixCombo[] | string {
  const axes = Object.keys(spec.axes).sort();
  if (axes.length === 0) return 'a matrix needs at least one axis';
  // Counted before expanding: 10 axes of 10 values would be 10^10 combinations.
  let cells = 1;
  for (const axis of axes) cells *= spec.axes[axis]!.length;
  if (cells + spec.include.length > MAX_MATRIX_COMBINATIONS) {
    const shown = cells > 1e15 ? cells.toExponential(1) : cells.toLocaleString('en-US');
    return `the matrix has ${shown} combinations (${axes.map((a) => spec.axes[a]!.length).join(' × ')}${spec.include.length ? ` + ${spec.include.length} included` : ''}), more than the limit of ${MAX_MATRIX_COMBINATIONS} per stage (the limit on matrix combinations)`;
  }
  let combos: MatrixCombo[] = [{}];
  for (const axis of axes) {
    const next: MatrixCombo[] = [];
    for (const combo of combos) for (const value of spec.axes[axis]!) next.push({ ...combo, [axis]: value });
    combos = next;
  }
  for (const ex of spec.exclude) {
    const unknown = Object.keys(ex).find((k) => !axes.includes(k));
    if (unknown !== undefined) return `exclude names unknown axis "${unknown}" (axes: ${axes.join(', ')})`;
  }
  combos = combos.filter((c) => !spec.exclude.some((ex) => Object.entries(ex).every(([k, v]) => c[k] === v)));
  for (const inc of spec.include) {
    const keys = Object.keys(inc).sort();
    if (keys.join(',') !== axes.join(',')) return `include entries must give every axis (${axes.join(', ')}), got ${keys.join(', ') || 'none'}`;
    if (!combos.some((c) => axes.every((a) => c[a] === inc[a]))) combos.push({ ...inc });
  }
  if (combos.length === 0) return 'exclude removes every combination';
  const ids = new Set<string>();
  for (const c of combos) {
    const suffix = comboSuffix(c);
    if (ids.has(suffix)) return `two combinations print the same: [${suffix}] (values must differ as text)`;
    ids.add(suffix);
  }
  return combos;
}

/** Values in sorted axis-name order, comma-joined: `phi-2` or `1,a`. */
export function comboSuffix(combo: MatrixCombo): string {
  return Object.keys(combo)
    .sort()
    .map((axis) => String(combo[axis]))
    .join(',');
}

export function expandedId(baseId: string, combo: MatrixCombo | undefined): string {
  return combo ? `${baseId}[${comboSuffix(combo)}]` : baseId;
}

/**
 * Which expansions of a needed stage one expansion of a dependent stage reads. When every axis
 * of the needed stage is also an axis of the dependent, they pair on those axes (equal values);
 * otherwise the dependent reads all expansions (a `report` stage gathering a model sweep).
 */
export function pairExpansions(
  needed: { id: string; combos?: MatrixCombo[] },
  dependentCombo: MatrixCombo | undefined,
): { ids: string[]; paired: boolean } {
  if (!needed.combos) return { ids: [needed.id], paired: true };
  const neededAxes = Object.keys(needed.combos[0] ?? {});
  if (dependentCombo && neededAxes.every((a) => a in dependentCombo)) {
    const ids = needed.combos.filter((c) => neededAxes.every((a) => c[a] === dependentCombo[a])).map((c) => expandedId(needed.id, c));
    return { ids, paired: true };
  }
  return { ids: needed.combos.map((c) => expandedId(needed.id, c)), paired: false };
}
