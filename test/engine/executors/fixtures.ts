/** A throw-away project for executor tests: a pipeline of command stages and a store. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinRegistry } from '../../../stages/index.js';
import { parsePipeline, type LoadedPipeline } from '../../../src/engine/pipeline/index.js';
import { ArtifactStore, type CacheEntry } from '../../../src/engine/store/index.js';
import type { RunSummary } from '../../../src/engine/scheduler.js';

export const registry = builtinRegistry();

export class Project {
  readonly dir: string;
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'pp-exec-'));
    mkdirSync(join(this.dir, 'counters'));
  }

  pipeline(text: string): LoadedPipeline {
    const file = join(this.dir, 'p.yaml');
    writeFileSync(file, text);
    return parsePipeline(text, file, registry);
  }

  store(name = 'runs', cacheDir?: string): ArtifactStore {
    return new ArtifactStore(join(this.dir, name), cacheDir === undefined ? {} : { cacheDir: join(this.dir, cacheDir) });
  }

  /** How many times a command stage that appends to counters/NAME ran. */
  count(name: string): number {
    const path = join(this.dir, 'counters', name);
    return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).length : 0;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** id -> [key, output digest] of every stage that has an entry after a run. */
export function keysAndDigests(summary: RunSummary): Record<string, [string, string]> {
  const out: Record<string, [string, string]> = {};
  for (const [id, r] of summary.results) if (r.entry) out[id] = [r.entry.key, r.entry.record.outputDigest];
  return out;
}

/** Relative path -> bytes (as base64) of every file in an entry's out/. */
export function filesOf(entry: CacheEntry): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, prefix: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(dir, e.name), rel);
      else out[rel] = readFileSync(join(dir, e.name)).toString('base64');
    }
  };
  walk(entry.outDir, '');
  return out;
}

/** A small pipeline of command stages, one reading another's output, one per matrix cell. */
export const COMMAND_PIPELINE = [
  'version: 1',
  'name: cmds',
  'params: { seed: 5 }',
  'stages:',
  '  a:',
  '    run: echo x >> counters/a && printf "alpha\\n" > "$POLYPERSONA_OUTPUTS_DIR/a.txt"',
  '  b:',
  '    needs: [a]',
  '    run: echo x >> counters/b && cat ${{ stages.a.outputs.dir }}/a.txt > ${{ outputs.dir }}/b.txt && echo "seed $POLYPERSONA_SEED" >> ${{ outputs.dir }}/b.txt',
  '  cell:',
  '    matrix: { n: [1, 3] }',
  '    run: seq ${{ matrix.n }} > ${{ outputs.dir }}/seq.txt',
  '',
].join('\n');
