import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint, type Checkpoint } from '../../src/train/checkpoint.js';
import { tempDir as makeTempDir } from '../helpers/stage-context.js';

const made: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = makeTempDir(prefix);
  made.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function checkpoint(step: number, fingerprint = 'fp-1'): Checkpoint {
  const t = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i + k + step)));
  return {
    state: { step, fingerprint, logHistory: [{ step, epoch: step / 4, loss: 1.5 / step }], best: { step, evalLoss: 0.25 } },
    params: [t(6, 1), t(3, 2)],
    moments: [{ m: t(6, 3), v: t(6, 4) }, { m: t(3, 5), v: t(3, 6) }],
    best: [t(6, 7), t(3, 8)],
  };
}

describe('training checkpoints', () => {
  it('load what was saved: state, trained tensors, AdamW moments and the best tensors', () => {
    const dir = tempDir('pp-ckpt-');
    const saved = checkpoint(4);
    saveCheckpoint(dir, saved);
    const loaded = loadCheckpoint(dir, 'fp-1', 2)!;
    expect(loaded.state).toEqual(saved.state);
    expect(loaded.params).toEqual(saved.params);
    expect(loaded.moments).toEqual(saved.moments);
    expect(loaded.best).toEqual(saved.best);
    // copies: the trainer updates its tensors in place
    expect(loaded.params[0]!.buffer).not.toBe(saved.params[0]!.buffer);
  });

  it('have nothing to resume in an empty work dir or for another configuration', () => {
    const dir = tempDir('pp-ckpt-');
    expect(loadCheckpoint(dir, 'fp-1', 2)).toBeUndefined();
    saveCheckpoint(dir, checkpoint(2));
    expect(loadCheckpoint(dir, 'fp-2', 2)).toBeUndefined();
  });

  it('keep the last complete checkpoint when a save dies midway, and remove the partial one at the next save', () => {
    const dir = tempDir('pp-ckpt-');
    saveCheckpoint(dir, checkpoint(2));
    // A kill after the tensors of step 4 were written but before its state.json and latest.json.
    mkdirSync(join(dir, 'checkpoint-4'));
    writeFileSync(join(dir, 'checkpoint-4', 'params.safetensors'), 'partial');
    expect(loadCheckpoint(dir, 'fp-1', 2)!.state.step).toBe(2);
    saveCheckpoint(dir, checkpoint(6));
    expect(readdirSync(dir).filter((e) => e.startsWith('checkpoint-'))).toEqual(['checkpoint-6']);
    expect(loadCheckpoint(dir, 'fp-1', 2)!.state.step).toBe(6);
  });

  it('resume nothing when latest.json points at a directory without state.json', () => {
    const dir = tempDir('pp-ckpt-');
    saveCheckpoint(dir, checkpoint(2));
    rmSync(join(dir, 'checkpoint-2', 'state.json'));
    expect(loadCheckpoint(dir, 'fp-1', 2)).toBeUndefined();
  });

  it('name a tensor the checkpoint lacks', () => {
    const dir = tempDir('pp-ckpt-');
    saveCheckpoint(dir, { ...checkpoint(2), best: undefined });
    expect(() => loadCheckpoint(dir, 'fp-1', 3)).toThrow(/tensor param\.2 is missing/);
    expect(existsSync(join(dir, 'checkpoint-2', 'best.safetensors'))).toBe(false);
    expect(loadCheckpoint(dir, 'fp-1', 2)!.best).toBeUndefined();
  });
});
