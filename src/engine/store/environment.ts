/**
 * What a stage ran on, recorded in every `stage.json`: enough to tell why two machines gave
 * different bytes (Node and ONNX Runtime versions, CPU, thread counts are set per stage).
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, hostname, release } from 'node:os';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../core/paths.js';

export interface EnvironmentInfo {
  node: string;
  platform: string;
  arch: string;
  osRelease: string;
  cpuModel: string;
  cpuCount: number;
  hostname: string;
  /** Package versions; null when the package is not installed. */
  polypersona: string | null;
  onnxruntimeNode: string | null;
  transformers: string | null;
}

let cached: EnvironmentInfo | undefined;

/** Reads package versions once per process; cheap afterwards. Never imports the heavy packages. */
export function environmentInfo(): EnvironmentInfo {
  if (cached) return { ...cached };
  const cpuList = cpus();
  let root: string | undefined;
  try {
    root = packageRoot();
  } catch {
    root = undefined;
  }
  cached = {
    node: process.versions.node,
    platform: process.platform,
    arch: process.arch,
    osRelease: release(),
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cpuCount: cpuList.length,
    hostname: hostname(),
    polypersona: root ? readVersion(join(root, 'package.json')) : null,
    onnxruntimeNode: root ? installedVersion(root, 'onnxruntime-node') : null,
    transformers: root ? installedVersion(root, '@huggingface/transformers') : null,
  };
  return { ...cached };
}

/** The version of `name` installed in the nearest node_modules above `from`. */
function installedVersion(from: string, name: string): string | null {
  let dir = from;
  for (;;) {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) return readVersion(manifest);
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

function readVersion(manifest: string): string | null {
  try {
    const v = (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}
