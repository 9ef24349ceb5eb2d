import { describe, expect, it } from 'vitest';
import { relative, resolve } from 'node:path';
import { ArtifactStore, parseStageKey } from '../../src/engine/store/index.js';
import { peftBaseModelPath } from '../../src/train/peft-base-path.js';

describe('peftBaseModelPath', () => {
  const key = parseStageKey('ab'.repeat(32));

  it("is the base model's published folder relative to the project folder, as the artifact store lays it out", () => {
    const project = resolve('/somewhere/project');
    const store = new ArtifactStore(resolve(project, 'runs'));
    expect(peftBaseModelPath(key)).toBe(relative(project, resolve(store.entryDir(key), 'out')));
  });

  it('depends on the key alone (the same bytes on every machine and in a scratch store)', () => {
    expect(peftBaseModelPath(key)).toBe(`runs/cache/ab/${key}/out`);
  });
});
