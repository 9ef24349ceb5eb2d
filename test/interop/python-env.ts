/**
 * The interop suite's Python: a venv with the CPU torch wheel, transformers, peft, tokenizers,
 * safetensors and numpy (test/interop/requirements.txt), installed once from the machine's
 * configured package sources (`pip config list`) and kept across runs:
 *
 *   $POLYPERSONA_INTEROP_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/polypersona)/interop-venv/<key>/
 *     bin/python …                 the venv
 *     polypersona-ready.json       { key, versions } — written last: a venv without it is unfinished
 *
 * key = sha256(requirements.txt, the base interpreter's version and path, VENV_LAYOUT)[0:16], so a
 * changed pin or another Python gets a fresh venv. A venv is built under a temporary name and
 * renamed into place, so a run killed mid-install leaves no half-made venv under the final name
 * (Python finds its prefix from the executable's location, so a renamed venv works when its
 * interpreter is called directly, as here; its pip/console scripts keep the old path and are
 * never used). Before use the venv is verified: the marker's key matches and the installed
 * versions (read by importlib.metadata, without importing torch) satisfy the pins.
 *
 * pip runs with `--retries 0`: the default index (PyPI) is unreachable here, and pip's retry
 * back-off on it costs ~8 s per package; the local sources answer at once.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bump when the venv's layout or the way it is made changes. */
const VENV_LAYOUT = 1;
export const REQUIREMENTS_FILE = fileURLToPath(new URL('./requirements.txt', import.meta.url));
const MARKER = 'polypersona-ready.json';

export type PythonEnv = { python: string; versions: Record<string, string>; created: boolean; seconds: number } | { skip: string };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) => resolve({ code: -1, stdout, stderr: err.message }));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** `name==1.2.*` lines of requirements.txt. */
export function readPins(text: string): Array<{ name: string; spec: string }> {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^([A-Za-z0-9_.-]+)==(\S+)$/.exec(l);
      if (!m) throw new Error(`${REQUIREMENTS_FILE}: "${l}" is not a name==version pin`);
      return { name: m[1]!.toLowerCase(), spec: m[2]! };
    });
}

/** Does an installed version satisfy a `==` pin (`2.13.*` matches 2.13.0+cpu)? */
export function satisfiesPin(version: string, spec: string): boolean {
  const local = version.split('+')[0]!;
  if (spec.endsWith('.*')) return local === spec.slice(0, -2) || local.startsWith(spec.slice(0, -1));
  return local === spec;
}

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.POLYPERSONA_INTEROP_CACHE) return env.POLYPERSONA_INTEROP_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'polypersona');
}

const VERSIONS_SCRIPT = `
import importlib.metadata as m, json, sys
names = sys.argv[1:]
out = {}
for n in names:
    try: out[n] = m.version(n)
    except m.PackageNotFoundError: out[n] = None
print(json.dumps(out))
`;

async function installedVersions(python: string, names: string[]): Promise<Record<string, string | null> | undefined> {
  const r = await run(python, ['-c', VERSIONS_SCRIPT, ...names]);
  if (r.code !== 0) return undefined;
  try {
    return JSON.parse(r.stdout) as Record<string, string | null>;
  } catch {
    return undefined;
  }
}

function mismatch(pins: Array<{ name: string; spec: string }>, versions: Record<string, string | null> | undefined): string | undefined {
  if (!versions) return 'cannot read the installed versions';
  for (const p of pins) {
    const v = versions[p.name];
    if (!v) return `${p.name} is not installed`;
    if (!satisfiesPin(v, p.spec)) return `${p.name} ${v} does not satisfy ==${p.spec}`;
  }
  return undefined;
}

/**
 * Finds or makes the venv. Never throws: anything missing (no python3, no venv module, a package
 * the local sources lack) becomes `{ skip: reason }`.
 */
export async function ensurePythonEnv(env: NodeJS.ProcessEnv = process.env): Promise<PythonEnv> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const basePython = env.POLYPERSONA_PYTHON || 'python3';
  const probe = await run(basePython, ['-c', 'import sys, venv; print(sys.version.split()[0]); print(sys.executable)']);
  if (probe.code !== 0) return { skip: `no usable Python (${basePython}: ${probe.stderr.trim().split('\n').pop() || `exit ${probe.code}`}); set POLYPERSONA_PYTHON to a Python ≥ 3.10 with the venv module` };
  const [pyVersion, pyPath] = probe.stdout.trim().split('\n');
  const [major, minor] = pyVersion!.split('.').map(Number);
  if (major! < 3 || (major === 3 && minor! < 10)) return { skip: `Python ${pyVersion} at ${pyPath} is too old (torch 2.13 needs ≥ 3.10); set POLYPERSONA_PYTHON` };
  const requirements = readFileSync(REQUIREMENTS_FILE, 'utf8');
  const pins = readPins(requirements);
  const key = createHash('sha256').update(JSON.stringify({ requirements, pyVersion, pyPath, VENV_LAYOUT })).digest('hex').slice(0, 16);
  const root = join(cacheRoot(env), 'interop-venv');
  const venv = join(root, key);
  const python = join(venv, 'bin', 'python');
  const names = pins.map((p) => p.name);

  if (existsSync(join(venv, MARKER))) {
    const marker = JSON.parse(readFileSync(join(venv, MARKER), 'utf8')) as { key?: string };
    const versions = marker.key === key ? await installedVersions(python, names) : undefined;
    const bad = marker.key !== key ? `marker key ${marker.key} ≠ ${key}` : mismatch(pins, versions);
    if (!bad) return { python, versions: versions as Record<string, string>, created: false, seconds: seconds() };
    // A broken venv under the final name (edited by hand, a Python upgraded in place): rebuild it.
    rmSync(venv, { recursive: true, force: true });
  }

  mkdirSync(root, { recursive: true });
  const staging = `${venv}.tmp-${process.pid}-${Date.now().toString(36)}`;
  const stagingPython = join(staging, 'bin', 'python');
  try {
    const made = await run(basePython, ['-m', 'venv', staging]);
    if (made.code !== 0) return { skip: `cannot create a venv with ${pyPath} (${lastLine(made.stderr)}); on Debian: apt-get install python3-venv` };
    const pip = await run(stagingPython, ['-m', 'pip', 'install', '--retries', '0', '--disable-pip-version-check', '--no-input', '-r', REQUIREMENTS_FILE], { PIP_NO_INPUT: '1' });
    writeFileSync(join(staging, 'pip-install.log'), `${pip.stdout}\n${pip.stderr}`);
    if (pip.code !== 0) {
      return { skip: `pip could not install ${REQUIREMENTS_FILE} from this machine's package sources (pip config list): ${lastLine(pip.stderr)}` };
    }
    const versions = await installedVersions(stagingPython, names);
    const bad = mismatch(pins, versions);
    if (bad) return { skip: `the new venv does not satisfy the pins: ${bad}` };
    writeFileSync(join(staging, MARKER), `${JSON.stringify({ key, python: pyPath, pyVersion, versions }, null, 2)}\n`);
    try {
      renameSync(staging, venv);
    } catch (err) {
      // Another run finished first: use its venv (checked on the next call), drop ours.
      if (!existsSync(join(venv, MARKER))) throw err;
    }
    return { python, versions: versions as Record<string, string>, created: true, seconds: seconds() };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter((l) => l.trim() && !l.startsWith('WARNING: Retrying'));
  return lines.pop() ?? 'no output';
}
