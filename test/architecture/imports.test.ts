/**
 * The import graph of the sources (src/, stages/, bench/): no circles, type-only ones included
 * (an `import type` circle still ties two modules together), and the one-way arrows that
 * docs/architecture.md draws for src/core, src/formats and src/model. Imports are read with TypeScript's
 * own pre-parser (static, `export … from` and dynamic `import()`), so nothing is executed.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { root, sourceFiles } from './sources.js';

/** file (relative to the root) → the project files it imports. */
function importGraph(): Map<string, string[]> {
  const files = ['src', 'stages', 'bench'].flatMap(sourceFiles);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
    const targets: string[] = [];
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = resolve(root, dirname(file), fileName.replace(/\.js$/, '.ts'));
      if (existsSync(target)) targets.push(relative(root, target));
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Every circle, each as the list of files around it (Tarjan's strongly connected components). */
function circles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>(), low = new Map<string, number>(), onStack = new Set<string>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indexOf.has(v)) visit(v);
  return found;
}

describe('import graph', () => {
  const graph = importGraph();

  it('reads the sources (a check on the check)', () => {
    expect(graph.size).toBeGreaterThan(150);
    expect(graph.get('stages/generate/index.ts')).toContain('stages/generate/run.ts');
    expect(circles(new Map([['a', ['b']], ['b', ['a']], ['c', ['a']]]))).toEqual([['a', 'b']]);
  });

  it('has no import circles', () => {
    expect(circles(graph)).toEqual([]);
  });

  it('src/core imports only src/core; src/formats only core, itself and the safetensors container; src/model never src/train; blocks and architectures only what graphs are built from', () => {
    // The typed errors are a leaf every layer throws (src/core/errors.ts imports nothing).
    const errors = (t: string): boolean => t === 'src/core/errors.ts';
    const allowed: Record<string, (target: string) => boolean> = {
      'src/core/': (t) => t.startsWith('src/core/'),
      'src/formats/': (t) => t.startsWith('src/core/') || t.startsWith('src/formats/') || t.startsWith('src/model/safetensors/') || t === 'src/model/tensor.ts',
      'src/model/': (t) => !t.startsWith('src/train/') && !t.startsWith('stages/'),
      'src/model/blocks/': (t) => errors(t) || t.startsWith('src/model/blocks/') || t.startsWith('src/model/onnx/') || ['src/model/config.ts', 'src/model/tensor.ts', 'src/model/quantize/nbits.ts'].includes(t),
      'src/model/architectures/': (t) => errors(t) || t.startsWith('src/model/architectures/') || t.startsWith('src/model/blocks/') || t.startsWith('src/model/onnx/') || t === 'src/model/config.ts',
    };
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      for (const [folder, ok] of Object.entries(allowed)) {
        if (file.startsWith(folder)) wrong.push(...targets.filter((t) => !ok(t)).map((t) => `${file} → ${t}`));
      }
    }
    expect(wrong).toEqual([]);
  });
});
