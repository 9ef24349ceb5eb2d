/**
 * The stage DAG over expanded ids: cycle finding, a stable topological order, closures.
 * `order` is the declaration order (YAML order, expansions in matrix order); `needs` maps an
 * id to the ids it depends on.
 */
import { InternalError } from '../../core/errors.js';

/** Every elementary cycle reachable by DFS, each once, as `[a, b, c, a]` in needs direction. */
export function findCycles(order: readonly string[], needs: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const seen = new Set<string>();
  // Iterative DFS: a 1,000-deep chain must not overflow the call stack.
  for (const root of order) {
    if (state.has(root)) continue;
    const frames: Array<{ id: string; next: number }> = [{ id: root, next: 0 }];
    state.set(root, 'open');
    stack.push(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const deps = needs.get(frame.id) ?? [];
      if (frame.next < deps.length) {
        const dep = deps[frame.next++]!;
        const s = state.get(dep);
        if (s === 'open') {
          const cycle = [...stack.slice(stack.indexOf(dep)), dep];
          const id = [...cycle.slice(0, -1)].sort().join('\u0000');
          if (!seen.has(id)) {
            seen.add(id);
            cycles.push(cycle);
          }
        } else if (s === undefined && needs.has(dep)) {
          state.set(dep, 'open');
          stack.push(dep);
          frames.push({ id: dep, next: 0 });
        }
      } else {
        state.set(frame.id, 'done');
        stack.pop();
        frames.pop();
      }
    }
  }
  return cycles;
}

/**
 * Kahn's algorithm; among ready stages the one declared first goes first, so the order is
 * stable under edits elsewhere in the file. Assumes no cycles.
 */
export function topologicalOrder(order: readonly string[], needs: ReadonlyMap<string, readonly string[]>): string[] {
  const index = new Map(order.map((id, i) => [id, i]));
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const id of order) {
    const deps = needs.get(id) ?? [];
    waiting.set(id, deps.length);
    for (const d of deps) {
      let list = dependents.get(d);
      if (!list) dependents.set(d, (list = []));
      list.push(id);
    }
  }
  const ready = new MinHeap();
  for (const id of order) if (waiting.get(id) === 0) ready.push(index.get(id)!);
  const out: string[] = [];
  while (ready.size > 0) {
    const id = order[ready.pop()]!;
    out.push(id);
    for (const dep of dependents.get(id) ?? []) {
      const left = waiting.get(dep)! - 1;
      waiting.set(dep, left);
      if (left === 0) ready.push(index.get(dep)!);
    }
  }
  if (out.length !== order.length) throw new InternalError('topologicalOrder: the graph has a cycle');
  return out;
}

/** Everything reachable from `starts` through `edges` (starts excluded unless reached again). */
export function reachable(starts: readonly string[], edges: (id: string) => readonly string[]): Set<string> {
  const found = new Set<string>();
  const todo = [...starts];
  while (todo.length > 0) {
    for (const next of edges(todo.pop()!)) {
      if (!found.has(next)) {
        found.add(next);
        todo.push(next);
      }
    }
  }
  return found;
}

/** Binary min-heap of declaration indexes. */
class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(value: number): void {
    const a = this.items;
    a.push(value);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= a[i]!) break;
      [a[parent], a[i]] = [a[i]!, a[parent]!];
      i = parent;
    }
  }
  pop(): number {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]! < a[m]!) m = l;
        if (r < a.length && a[r]! < a[m]!) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}
