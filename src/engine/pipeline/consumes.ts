import { producedKind } from '../contract.js';
import type { IssueList } from './issues.js';
import { reachable } from './graph.js';
import type { PlannedStage } from './types.js';

/**
 * Checks each stage's declared inputs (definition.consumes) against its needs before anything
 * runs: a required input needs a direct need producing one of its kinds, or for a `transitive`
 * input any stage upstream (the base model behind an adapter).
 */
export function checkConsumes(stages: ReadonlyMap<string, PlannedStage>, issues: IssueList): void {
  for (const stage of stages.values()) {
    for (const [input, spec] of Object.entries(stage.definition.consumes ?? {})) {
      if (spec.optional) continue;
      const candidates = spec.transitive ? [...reachable([stage.id], (id) => stages.get(id)?.needs ?? [])] : stage.needs;
      if (candidates.some((id) => {
        const upstream = stages.get(id);
        return upstream !== undefined && spec.kinds.includes(producedKind(upstream));
      })) continue;
      const kinds = spec.kinds.join(' or ');
      const where = spec.transitive ? 'no stage it needs, directly or through others,' : 'none of its needs';
      const hasNeeds = stage.needs.length > 0;
      issues.add(
        hasNeeds ? ['stages', stage.baseId, 'needs'] : ['stages', stage.baseId],
        `input "${input}" is missing: ${where} produces ${kinds} (${stage.type} needs one; add such a stage to needs)`,
        { key: !hasNeeds },
      );
    }
  }
}
