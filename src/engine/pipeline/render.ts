import type { LoadedPipeline } from './types.js';
import { unreachable } from '../../core/errors.js';

/**
 * The DAG as text (one line per stage in run order: `id (type) <- needs`), a Mermaid flowchart
 * or a Graphviz digraph. Edges point from a need to its dependent (the direction data flows).
 */
export function renderDag(p: LoadedPipeline, format: 'text' | 'mermaid' | 'dot'): string {
  const stages = [...p.stages.values()];
  switch (format) {
    case 'text': {
      const width = Math.max(0, ...stages.map((s) => s.id.length));
      return stages.map((s) => `${s.id.padEnd(width)}  (${s.type})${s.needs.length ? `  <- ${s.needs.join(', ')}` : ''}`).join('\n') + '\n';
    }
    case 'mermaid': {
      // Mermaid node ids must be simple words; labels carry the real ids.
      const node = new Map(stages.map((s, i) => [s.id, `s${i}`]));
      const lines = ['flowchart TD'];
      for (const s of stages) lines.push(`  ${node.get(s.id)}["${mermaidText(s.id)}<br/><small>${mermaidText(s.type)}</small>"]`);
      for (const s of stages) for (const need of s.needs) lines.push(`  ${node.get(need)} --> ${node.get(s.id)}`);
      return lines.join('\n') + '\n';
    }
    case 'dot': {
      const lines = [`digraph ${dotId(p.name)} {`, '  rankdir=LR;', '  node [shape=box];'];
      for (const s of stages) lines.push(`  ${dotId(s.id)} [label=${dotId(`${s.id}\n${s.type}`)}];`);
      for (const s of stages) for (const need of s.needs) lines.push(`  ${dotId(need)} -> ${dotId(s.id)};`);
      lines.push('}');
      return lines.join('\n') + '\n';
    }
    default: {
      return unreachable(format);
    }
  }
}

function mermaidText(text: string): string {
  return text.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}

function dotId(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
