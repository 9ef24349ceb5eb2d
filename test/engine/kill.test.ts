import { describe, expect, it } from 'vitest';
import { CliRig } from '../helpers/cli-rig.js';
import { exitOf, spawnCli } from '../helpers/spawn-cli.js';
import { ArtifactStore, verifyEntry } from '../../src/engine/store/index.js';
import { join } from 'node:path';
import { Prng } from '../../src/core/prng.js';

const STAGES = ['s1', 's2', 's3', 's4'];

/** Four stages in a chain, each writing several files slowly, so a kill lands mid-write. */
function slowChain(rig: CliRig): void {
  const lines = ['version: 1', 'name: slow', 'stages:'];
  STAGES.forEach((id, i) => {
    lines.push(`  ${id}:`);
    if (i > 0) lines.push(`    needs: [${STAGES[i - 1]}]`);
    lines.push(`    run: ${CliRig.counted(id, `for f in 1 2 3; do head -c 200000 /dev/zero > \${{ outputs.dir }}/part$f; sleep 0.1; done`)}`);
  });
  rig.write('pipeline.yaml', `${lines.join('\n')}\n`);
}

describe('kill -9 during a run', () => {
  it('never leaves an entry that reads as complete and is not; the next run redoes only the interrupted work', async () => {
    const prng = new Prng(2024);
    for (let round = 0; round < 3; round++) {
      const rig = new CliRig();
      slowChain(rig);
      const child = spawnCli(['run'], rig.dir);
      const done = exitOf(child);
      // tsx start-up takes ~1 s; the stages then take ~0.35 s each.
      await new Promise((r) => setTimeout(r, 1200 + prng.int(1400)));
      child.kill('SIGKILL');
      const killed = await done;
      expect(killed.signal === 'SIGKILL' || killed.code === 0).toBe(true);

      const store = new ArtifactStore(join(rig.dir, 'runs'));
      const entries = await store.list();
      for (const entry of entries) expect((await verifyEntry(entry)).ok).toBe(true);
      const completedBefore = STAGES.filter((s) => rig.count(s) > 0).length;

      const again = await rig.run(['run']);
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
      const counts = STAGES.map((s) => rig.count(s));
      // Stages published before the kill ran once; at most the one interrupted stage ran twice.
      expect(counts.every((c) => c === 1 || c === 2)).toBe(true);
      expect(counts.filter((c) => c === 2).length).toBeLessThanOrEqual(1);
      expect(entries.length).toBeLessThanOrEqual(completedBefore);
      expect(again.stdout).toMatch(new RegExp(`${4 - entries.length} ran, ${entries.length} cached`));
    }
  });
});
