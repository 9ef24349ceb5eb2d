import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../../core/errors.js';
import { readJsonFile } from '../../core/files.js';
import { writeFileAtomic } from '../../core/atomic.js';
import type { HostTensor } from '../tensor.js';
import type { TensorEntry } from './header.js';
import { openSafetensors, readSafetensors, readSafetensorsHeader } from './read.js';
import { safetensorsFileSize, tensorBytes, writeSafetensors, type LazyTensor, type TensorSource } from './write.js';

/**
 * Hugging Face checkpoints in a directory: either one `model.safetensors`, or shards
 * `model-00001-of-00003.safetensors` … listed by `model.safetensors.index.json`
 * (`{ metadata: { total_size }, weight_map: { tensorName: shardFile } }`).
 */
export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';
/** Default shard cap. Transformers' save_pretrained uses 5 GB; 2 GiB keeps each shard readable in one piece. */
export const DEFAULT_MAX_SHARD_BYTES = 2 * 1024 ** 3;

export interface LocatedTensor {
  /** File name inside the directory. */
  file: string;
  entry: TensorEntry;
}

/**
 * Writes `tensors` into `dir` as one file, or as shards plus an index when the total exceeds
 * `maxShardBytes`. Shards are filled in the map's insertion order (the model's module order, as
 * transformers does). Returns the file names written.
 */
export function writeSafetensorsDir(
  dir: string,
  tensors: TensorSource,
  options: { maxShardBytes?: number; metadata?: Record<string, string> } = {},
): string[] {
  const maxShard = options.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  const metadata = { format: 'pt', ...options.metadata };
  const groups: Array<Map<string, HostTensor | LazyTensor>> = [];
  let current = new Map<string, HostTensor | LazyTensor>();
  let currentBytes = 0;
  let totalBytes = 0;
  for (const [name, t] of tensors) {
    const bytes = tensorBytes(t);
    if (current.size > 0 && currentBytes + bytes > maxShard) {
      groups.push(current);
      current = new Map();
      currentBytes = 0;
    }
    current.set(name, t);
    currentBytes += bytes;
    totalBytes += bytes;
  }
  groups.push(current);
  if (groups.length === 1) {
    writeSafetensors(join(dir, SINGLE_FILE), tensors, metadata);
    rmSync(join(dir, INDEX_FILE), { force: true });
    return [SINGLE_FILE];
  }
  const files: string[] = [];
  const weightMap: Record<string, string> = {};
  groups.forEach((group, i) => {
    const file = `model-${pad5(i + 1)}-of-${pad5(groups.length)}.safetensors`;
    writeSafetensors(join(dir, file), group, metadata);
    files.push(file);
    for (const name of group.keys()) weightMap[name] = file;
  });
  const sortedMap = Object.fromEntries(Object.keys(weightMap).sort().map((k) => [k, weightMap[k]]));
  writeFileAtomic(join(dir, INDEX_FILE), `${JSON.stringify({ metadata: { total_size: totalBytes }, weight_map: sortedMap }, null, 2)}\n`);
  rmSync(join(dir, SINGLE_FILE), { force: true });
  return [...files, INDEX_FILE];
}

/** Where each tensor of a checkpoint directory lives, from headers only (no data read). */
export function locateSafetensors(dir: string): Map<string, LocatedTensor> {
  const located = new Map<string, LocatedTensor>();
  const indexPath = join(dir, INDEX_FILE);
  if (existsSync(indexPath)) {
    const weightMap = readIndex(indexPath);
    const shards = [...new Set(weightMap.values())].sort();
    const headers = new Map(shards.map((f) => [f, readSafetensorsHeader(join(dir, f))]));
    for (const [name, file] of weightMap) {
      const entry = headers.get(file)!.tensors.find((t) => t.name === name);
      if (!entry) throw new DataError('bad-safetensors', `${indexPath}: weight_map puts "${name}" in ${file}, which has no such tensor`, { location: { file: indexPath } });
      located.set(name, { file, entry });
    }
    return located;
  }
  const single = join(dir, SINGLE_FILE);
  if (!existsSync(single)) {
    throw new DataError('missing-weights', `${dir}: no ${SINGLE_FILE} or ${INDEX_FILE}`, { location: { file: dir } });
  }
  for (const entry of readSafetensorsHeader(single).tensors) located.set(entry.name, { file: SINGLE_FILE, entry });
  return located;
}

/** Reads every tensor of a checkpoint directory (single file or shards). */
export function readSafetensorsDir(dir: string): Map<string, HostTensor> {
  const indexPath = join(dir, INDEX_FILE);
  if (!existsSync(indexPath)) {
    locateSafetensors(dir); // same missing-file error as the sharded path
    return readSafetensors(join(dir, SINGLE_FILE)).tensors;
  }
  const located = locateSafetensors(dir);
  const byFile = new Map<string, string[]>();
  for (const [name, { file }] of located) byFile.set(file, [...(byFile.get(file) ?? []), name]);
  const out = new Map<string, HostTensor>();
  for (const [file, names] of [...byFile].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const shard = openSafetensors(join(dir, file));
    try {
      for (const name of names) out.set(name, shard.read(name));
    } finally {
      shard.close();
    }
  }
  return out;
}

/** Parses an index file: tensor name → shard file name (plain names only, no paths). */
export function readIndex(indexPath: string): Map<string, string> {
  const json = readJsonFile(indexPath, 'the safetensors index');
  const weightMap = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new DataError('bad-safetensors-index', `${indexPath}: missing "weight_map" object`, { location: { file: indexPath } });
  }
  const out = new Map<string, string>();
  for (const [name, file] of Object.entries(weightMap as Record<string, unknown>)) {
    if (typeof file !== 'string' || !/^[\w.-]+\.safetensors$/.test(file) || file.startsWith('.')) {
      throw new DataError('bad-safetensors-index', `${indexPath}: weight_map["${name}"] must be a shard file name in the same directory, got ${JSON.stringify(file)}`, { location: { file: indexPath } });
    }
    out.set(name, file);
  }
  return out;
}

/** Bytes the directory writer would use for these tensors in one file (header included). */
export function checkpointBytes(tensors: TensorSource): number {
  return safetensorsFileSize(tensors, { format: 'pt' });
}

function pad5(n: number): string {
  return String(n).padStart(5, '0');
}
