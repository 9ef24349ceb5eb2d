import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CliRig } from '../helpers/cli-rig.js';
import { watchPipeline, type WatchEvent } from '../../src/engine/watch.js';
import { builtinRegistry } from '../../stages/index.js';
import { ArtifactStore } from '../../src/engine/store/index.js';
import { StageRegistry } from '../../src/engine/registry.js';
import type { StageDefinition } from '../../src/engine/contract.js';

/** Collects watch events and lets the test wait for the next one matching a predicate. */
class EventLog {
  readonly events: WatchEvent[] = [];
  private waiters: Array<{ test: (e: WatchEvent) => boolean; resolve: (e: WatchEvent) => void; from: number }> = [];
  push = (e: WatchEvent): void => {
    this.events.push(e);
    this.waiters = this.waiters.filter((w) => {
      if (w.test(e)) {
        w.resolve(e);
        return false;
      }
      return true;
    });
  };
  next(test: (e: WatchEvent) => boolean, timeoutMs = 20_000): Promise<WatchEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; events: ${this.events.map((e) => e.type).join(', ')}`)), timeoutMs);
      this.waiters.push({ test, resolve: (e) => (clearTimeout(timer), resolve(e)), from: this.events.length });
    });
  }
}

const pipeline = (param: string, sleep = '0') => `version: 1
name: w
params: { word: ${param} }
stages:
  a:
    run: ${CliRig.counted('a', 'echo ${{ params.word }} > ${{ outputs.dir }}/a')}
  b:
    needs: [a]
    deps: [dep.txt]
    run: ${CliRig.counted('b', `sleep ${sleep}; cat dep.txt \${{ stages.a.outputs.dir }}/a > \${{ outputs.dir }}/b`)}
`;

describe('watch', () => {
  it('re-runs what an edit touches, survives a half-written save, restarts on a change mid-run', async () => {
    const rig = new CliRig();
    rig.write('dep.txt', 'v1\n');
    const file = rig.write('p.yaml', pipeline('one'));
    const log = new EventLog();
    const controller = new AbortController();
    const runEnd = (): Promise<WatchEvent> => log.next((e) => e.type === 'watch-run-end');
    const firstRun = runEnd();
    const watching = watchPipeline({
      pipelineFile: file,
      registry: builtinRegistry(),
      store: new ArtifactStore(join(rig.dir, 'runs')),
      debounceMs: 100,
      onEvent: log.push,
      signal: controller.signal,
    });
    await firstRun;
    expect([rig.count('a'), rig.count('b')]).toEqual([1, 1]);

    // Editing a dep reruns only the stage that declares it.
    let next = runEnd();
    rig.write('dep.txt', 'v2\n');
    await next;
    expect([rig.count('a'), rig.count('b')]).toEqual([1, 2]);

    // A half-written pipeline: the error is reported and watching goes on.
    const invalid = log.next((e) => e.type === 'watch-invalid');
    rig.write('p.yaml', 'version: 1\nname: w\nstages:\n  a:\n    run: [oops\n');
    await invalid;
    next = runEnd();
    rig.write('p.yaml', pipeline('two'));
    await next;
    expect([rig.count('a'), rig.count('b')]).toEqual([2, 3]);

    // A change while b runs cancels the run and starts again.
    rig.write('p.yaml', pipeline('two', '3'));
    await log.next((e) => e.type === 'stage-start' && e.id === 'b');
    const restarted = log.next((e) => e.type === 'watch-restart');
    const finished = log.next((e) => e.type === 'watch-run-end' && e.summary.status === 'ok', 30_000);
    rig.write('dep.txt', 'v3\n');
    await restarted;
    await finished;
    expect(rig.read('dep.txt')).toBe('v3\n');
    expect(log.events.some((e) => e.type === 'stage-cancelled' && e.id === 'b')).toBe(true);

    controller.abort();
    await watching;
  });

  it('starts no new run when watching stops while a restarted run is settling', async () => {
    const rig = new CliRig();
    const sleeper: StageDefinition = {
      type: 'sleeper',
      version: 1,
      description: 'waits for abort',
      produces: 'files',
      paramsSchema: { type: 'object', additionalProperties: false, properties: {} },
      async run(ctx) {
        await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      },
    };
    const yaml = 'version: 1\nname: w\nstages:\n  z: { uses: sleeper }\n';
    const file = rig.write('p.yaml', yaml);
    const log = new EventLog();
    const controller = new AbortController();
    const started = log.next((e) => e.type === 'stage-start' && e.id === 'z');
    const watching = watchPipeline({
      pipelineFile: file,
      registry: new StageRegistry().register(sleeper),
      store: new ArtifactStore(join(rig.dir, 'runs')),
      debounceMs: 50,
      onEvent: (e) => {
        log.push(e);
        // Stop watching at the moment a change restarts the running pipeline.
        if (e.type === 'watch-restart') controller.abort();
      },
      signal: controller.signal,
    });
    await started;
    rig.write('p.yaml', `${yaml}# edited\n`);
    await watching;
    const types = log.events.map((e) => e.type);
    expect(types).toContain('watch-restart');
    expect(types).not.toContain('watch-change');
    expect(types.filter((t) => t === 'run-start')).toHaveLength(1);
  });
});
