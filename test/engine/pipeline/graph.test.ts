import { describe, expect, it } from 'vitest';
import { findCycles, reachable, topologicalOrder } from '../../../src/engine/pipeline/graph.js';
import { parsePipeline, renderDag } from '../../../src/engine/pipeline/index.js';
import { designExample, testRegistry } from './fixtures.js';

const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges));

describe('topologicalOrder', () => {
  it('puts needs first and keeps declaration order among ready stages', () => {
    const needs = graph({ report: ['b', 'a'], a: [], b: ['c'], c: [], d: [] });
    expect(topologicalOrder(['report', 'a', 'b', 'c', 'd'], needs)).toEqual(['a', 'c', 'b', 'report', 'd']);
  });

  it('handles a 5,000-stage chain declared backwards', () => {
    const order = Array.from({ length: 5000 }, (_, i) => `s${4999 - i}`);
    const needs = new Map(order.map((id) => [id, id === 's0' ? [] : [`s${Number(id.slice(1)) - 1}`]]));
    const sorted = topologicalOrder(order, needs);
    expect(sorted[0]).toBe('s0');
    expect(sorted[4999]).toBe('s4999');
    expect(findCycles(order, needs)).toEqual([]);
  });

  it('refuses a cyclic graph', () => {
    expect(() => topologicalOrder(['a', 'b'], graph({ a: ['b'], b: ['a'] }))).toThrow(/cycle/);
  });
});

describe('findCycles', () => {
  it('reports each cycle once, in needs direction', () => {
    const needs = graph({ a: ['b'], b: ['c'], c: ['a'], d: ['d'], e: ['a'] });
    expect(findCycles(['a', 'b', 'c', 'd', 'e'], needs)).toEqual([
      ['a', 'b', 'c', 'a'],
      ['d', 'd'],
    ]);
  });
});

describe('reachable', () => {
  it('excludes the starts unless reached again', () => {
    const next = (id: string) => ({ a: ['b'], b: ['c'], c: [] as string[] })[id as 'a'];
    expect([...reachable(['a'], next)].sort()).toEqual(['b', 'c']);
    expect([...reachable(['a', 'b'], next)].sort()).toEqual(['b', 'c']);
  });
});

describe('renderDag', () => {
  const p = parsePipeline(designExample, 'smoke.yaml', testRegistry());

  it('text: one line per stage in run order, with its needs', () => {
    const text = renderDag(p, 'text').split('\n');
    expect(text[0]).toBe('personas     (sample-personas)');
    expect(text[5]).toBe('adapter      (lora-train)  <- quantized, chatml');
    expect(text[8]).toBe('custom       (command)  <- predictions');
    expect(text).toHaveLength(10);
  });

  it('mermaid: a flowchart with one edge per need', () => {
    const m = renderDag(p, 'mermaid');
    expect(m.startsWith('flowchart TD\n')).toBe(true);
    expect(m).toContain('  s5["adapter<br/><small>lora-train</small>"]');
    expect(m).toContain('  s4 --> s5');
    expect(m.match(/-->/g)).toHaveLength([...p.stages.values()].reduce((n, s) => n + s.needs.length, 0));
  });

  it('dot: quoted ids, so matrix brackets are safe', () => {
    const withMatrix = parsePipeline(
      'version: 1\nstages:\n  b:\n    uses: init-model\n    matrix: { preset: [tiny, small] }\n  c: { run: "true", needs: b }\n',
      'm.yaml',
      testRegistry(),
    );
    const dot = renderDag(withMatrix, 'dot');
    expect(dot).toContain('digraph "m" {');
    expect(dot).toContain('  "b[tiny]" [label="b[tiny]\\ninit-model"];');
    expect(dot).toContain('  "b[small]" -> "c";');
    expect(dot.trimEnd().endsWith('}')).toBe(true);
  });
});
