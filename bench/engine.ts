/**
 * `npm run bench -- engine [--mb=1024]`: engine benchmarks.
 *
 * Hashing section: builds a ~1 GiB artifact tree in a temp dir (4 files of 200 MiB plus ~4,000
 * small files of 1–100 KiB in 40 folders), then, with the page cache warm, times digestTree against
 * `sha256sum` (the ceiling the issue names) and, when installed, `openssl dgst -sha256` (OpenSSL
 * with SHA-NI: the single-core ceiling) on the same files in the same run. Each tool runs twice;
 * the best time counts. Target: digestTree ≥ 0.8× sha256sum throughput.
 *
 * Pipeline sections (1,000-stage no-op re-run, status) are added by the integrator beside this.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { digestTree } from '../src/engine/store/index.js';
import { pipelineBench } from './_pipeline.js';

export interface HashingBenchOptions {
  /** Approximate tree size in MiB (default 1024). */
  totalMiB?: number;
}

const MiB = 1 << 20;

export async function hashingBench(opts: HashingBenchOptions = {}): Promise<void> {
  const totalMiB = opts.totalMiB ?? 1024;
  const root = mkdtempSync(join(tmpdir(), 'pp-bench-hash-'));
  try {
    const tree = join(root, 'tree');
    const files = buildTree(tree, totalMiB);
    const bytes = files.reduce((s, f) => s + f.size, 0);
    console.log(`hashing: tree of ${files.length} files, ${(bytes / MiB).toFixed(0)} MiB (${files.filter((f) => f.size >= 100 * MiB).length} big) in ${tree}`);

    const paths = files.map((f) => f.path);
    // Warm the page cache for everyone: one untimed pass.
    await runTool('sha256sum', [], paths);

    const hasOpenssl = await commandExists('openssl');
    const times: Record<string, number[]> = { digestTree: [], sha256sum: [], openssl: [] };
    let ours: Awaited<ReturnType<typeof digestTree>> | undefined;
    let theirs = '';
    for (let round = 0; round < 2; round++) {
      let t = performance.now();
      theirs = await runTool('sha256sum', [], paths);
      times.sha256sum!.push(performance.now() - t);
      t = performance.now();
      ours = await digestTree(tree);
      times.digestTree!.push(performance.now() - t);
      if (hasOpenssl) {
        t = performance.now();
        await runTool('openssl', ['dgst', '-sha256', '-r'], paths);
        times.openssl!.push(performance.now() - t);
      }
    }
    checkAgreement(ours!, theirs, tree);

    const rate = (name: string): number => bytes / MiB / (Math.min(...times[name]!) / 1000);
    const line = (name: string, note: string): void => {
      const best = Math.min(...times[name]!);
      console.log(`  ${name.padEnd(11)} ${(best / 1000).toFixed(2).padStart(6)} s  ${rate(name).toFixed(0).padStart(6)} MiB/s  ${note}`);
    };
    line('digestTree', `(Merkle digest ${ours!.digest.slice(0, 12)}…)`);
    line('sha256sum', '(ceiling named by the issue; coreutils, one process at a time via xargs)');
    if (hasOpenssl) line('openssl', '(OpenSSL sha256 single core: the practical ceiling)');
    const ratio = rate('digestTree') / rate('sha256sum');
    console.log(`  ratio digestTree / sha256sum = ${ratio.toFixed(2)}×  (target ≥ 0.80×: ${ratio >= 0.8 ? 'met' : 'NOT met'})`);
    if (hasOpenssl) console.log(`  ratio digestTree / openssl   = ${(rate('digestTree') / rate('openssl')).toFixed(2)}×`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** 4 × 200 MiB files (scaled with the total) and small files of 1–100 KiB filling the rest. */
function buildTree(dir: string, totalMiB: number): Array<{ path: string; size: number }> {
  const files: Array<{ path: string; size: number }> = [];
  const pool = randomBytes(8 * MiB); // content does not matter for hashing speed; sizes do
  const bigSize = Math.round((totalMiB * 200) / 1024) * MiB;
  mkdirSync(join(dir, 'models'), { recursive: true });
  for (let i = 0; i < 4; i++) {
    const path = join(dir, 'models', `shard-${i}.bin`);
    const buf = Buffer.allocUnsafe(bigSize);
    for (let off = 0; off < bigSize; off += pool.length) pool.copy(buf, off, 0, Math.min(pool.length, bigSize - off));
    buf.writeUInt32LE(i, 0); // four different files
    writeFileSync(path, buf);
    files.push({ path, size: bigSize });
  }
  let smallBudget = totalMiB * MiB - 4 * bigSize;
  let n = 0;
  while (smallBudget > 0) {
    // Sizes 1..100 KiB, deterministic spread (mean ~50 KiB).
    const size = Math.min(smallBudget, 1024 * (1 + ((n * 7919) % 100)));
    const folder = join(dir, 'records', `part-${String(n % 40).padStart(2, '0')}`);
    if (n < 40) mkdirSync(folder, { recursive: true });
    const path = join(folder, `r${n}.jsonl`);
    const start = (n * 104729) % (pool.length - size);
    writeFileSync(path, pool.subarray(start, start + size));
    files.push({ path, size });
    smallBudget -= size;
    n++;
  }
  return files;
}

/** Runs `cmd args... FILES` through `xargs -0` (file list on stdin), returns stdout. */
function runTool(cmd: string, args: string[], paths: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('xargs', ['-0', cmd, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`${cmd} exited with ${code}`))));
    child.stdin.end(paths.join('\0'));
  });
}

async function commandExists(cmd: string): Promise<boolean> {
  try {
    await promisify(execFile)('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}

/** digestTree and sha256sum must agree file by file, or the timing compares different work. */
function checkAgreement(ours: Awaited<ReturnType<typeof digestTree>>, sha256sumOut: string, tree: string): void {
  const theirs = new Map<string, string>();
  for (const line of sha256sumOut.split('\n')) {
    if (!line) continue;
    theirs.set(line.slice(66).slice(tree.length + 1), line.slice(0, 64));
  }
  for (const f of ours.files) {
    if (theirs.get(f.path) !== f.sha256) throw new Error(`hash mismatch for ${f.path}: digestTree ${f.sha256}, sha256sum ${theirs.get(f.path)}`);
  }
  if (theirs.size !== ours.files.length) throw new Error(`file count mismatch: digestTree ${ours.files.length}, sha256sum ${theirs.size}`);
}

interface EngineBenchArgs {
  hashing: HashingBenchOptions;
  stages: number;
  only?: 'pipeline' | 'hashing';
}

function parseArgs(args: string[]): EngineBenchArgs {
  const opts: EngineBenchArgs = { hashing: {}, stages: 1000 };
  for (const a of args) {
    const mb = /^--mb=(\d+)$/.exec(a);
    const stages = /^--stages=(\d+)$/.exec(a);
    if (mb) opts.hashing.totalMiB = Number(mb[1]);
    else if (stages) opts.stages = Number(stages[1]);
    else if (a === '--only=pipeline' || a === '--only=hashing') opts.only = a.slice(7) as EngineBenchArgs['only'];
    else throw new Error(`bench engine: unknown argument ${a} (known: --mb=N, --stages=N, --only=pipeline|hashing)`);
  }
  return opts;
}

/** `npm run bench -- engine`: the 1,000-stage no-op re-run and status, then hashing vs sha256sum. */
export default async function engineBench(args: string[]): Promise<void> {
  const opts = parseArgs(args);
  if (opts.only !== 'hashing') await pipelineBench(opts.stages);
  if (opts.only !== 'pipeline') await hashingBench(opts.hashing);
}
