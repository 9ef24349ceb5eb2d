/**
 * `npm run bench -- optimizer [ROUNDS]`: the optimizer step of full fine-tuning at the small-25m
 * shape (every weight, 23.9 M float32 elements in the preset's tensors; decay on matrices, not on
 * norm gains), old (the float64 JavaScript loops, optimizer-reference.ts) against new (the
 * WebAssembly kernels the trainer runs), in ns per element: scaleAndNorm (g/tokens and the norm),
 * clipAndUpdate (clipping + AdamW) and addInto (gradient accumulation), beside a memcpy ceiling
 * measured in the same rounds (Float32Array.set over the same tensors: 4 bytes read and 4 written an
 * element). Each round runs everything once, old and new interleaved, so that a shared machine's
 * load falls on both; the table gives each row's best and median round. Old and new start from the
 * same tensors and must stay bit-identical (checked after every round). Also the same passes on one
 * 2048-element tensor repeated (in cache: the float64 divides and square root bound it, not memory).
 */
import { loadavg } from 'node:os';
import { Prng } from '../src/core/prng.js';
import { expectedWeights } from '../src/model/architectures/index.js';
import { presetConfig } from '../src/model/presets.js';
import { adamWMoments, addInto, clipAndUpdate, scaleAndNorm, type AdamWMoments } from '../src/train/optimizer.js';
import { addIntoReference, clipAndUpdateReference, scaleAndNormReference } from '../src/train/optimizer-reference.js';

const ARGS = { adam_beta1: 0.9, adam_beta2: 0.999, adam_epsilon: 1e-8, weight_decay: 0.01 };
const TOKENS = 1019; // labelled tokens of a step (any count: the division is the same work)

interface Side {
  params: Float32Array[];
  grads: Float32Array[];
  moments: AdamWMoments[];
}

function side(sizes: number[], prng: Prng): Side {
  const rand = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => prng.normal() * s);
  return { params: sizes.map((n) => rand(n, 0.02)), grads: sizes.map((n) => rand(n, 50)), moments: sizes.map(adamWMoments) };
}
const cloneSide = (s: Side): Side => ({ params: s.params.map((p) => p.slice()), grads: s.grads.map((g) => g.slice()), moments: s.moments.map(({ m, v }) => ({ m: m.slice(), v: v.slice() })) });
const bytes = (x: Float32Array): Buffer => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
const same = (a: Float32Array[], b: Float32Array[]): boolean => a.every((x, i) => bytes(x).equals(bytes(b[i]!)));

/** Nanoseconds per element of one call of f over `elements`. */
function nsPerElement(elements: number, f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / elements;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export default async function bench(args: string[]): Promise<void> {
  const rounds = Number(args[0] ?? 7);
  const weights = [...expectedWeights(presetConfig('small-25m')).values()];
  const sizes = weights.map((shape) => shape.reduce((a, b) => a * b, 1));
  const decay = weights.map((shape) => shape.length >= 2);
  const elements = sizes.reduce((a, b) => a + b, 0);
  const prng = new Prng(1);
  const oldSide = side(sizes, prng), newSide = cloneSide(oldSide);
  const fresh = side(sizes, prng).grads; // each round's gradients, copied in before the step
  const copies = sizes.map((n) => new Float32Array(n));
  const acc = { old: sizes.map((n) => new Float32Array(n)), new: sizes.map((n) => new Float32Array(n)) };
  const rows: Record<string, number[]> = {};
  const rec = (name: string, ns: number): void => void (rows[name] ??= []).push(ns);
  console.log(`optimizer step, small-25m full fine-tuning: ${weights.length} tensors, ${(elements / 1e6).toFixed(1)} M elements; ${rounds} rounds; load ${loadavg()[0]!.toFixed(2)}`);
  let identical = true;
  for (let r = 0; r < rounds; r++) {
    rec('memcpy (ceiling: 4 B read + 4 B written)', nsPerElement(elements, () => oldSide.params.forEach((p, i) => copies[i]!.set(p))));
    for (const s of [oldSide, newSide]) s.grads.forEach((g, i) => g.set(fresh[i]!));
    const t = r + 1, lr = 1e-4, maxNorm = 1; // the norm of these gradients is far above 1: every step clips
    let normOld = 0, normNew = 0;
    rec('scaleAndNorm old', nsPerElement(elements, () => void (normOld = scaleAndNormReference(oldSide.grads, TOKENS))));
    rec('scaleAndNorm new', nsPerElement(elements, () => void (normNew = scaleAndNorm(newSide.grads, TOKENS))));
    rec('clipAndUpdate old', nsPerElement(elements, () => clipAndUpdateReference(oldSide.params, oldSide.grads, oldSide.moments, decay, normOld, maxNorm, t, lr, ARGS)));
    rec('clipAndUpdate new', nsPerElement(elements, () => clipAndUpdate(newSide.params, newSide.grads, newSide.moments, decay, normNew, maxNorm, t, lr, ARGS)));
    rec('addInto old', nsPerElement(elements, () => acc.old.forEach((a, i) => addIntoReference(a, fresh[i]!))));
    rec('addInto new', nsPerElement(elements, () => acc.new.forEach((a, i) => addInto(a, fresh[i]!))));
    identical &&= normOld === normNew && same(oldSide.params, newSide.params) && same(oldSide.grads, newSide.grads) && same(acc.old, acc.new)
      && same(oldSide.moments.map((x) => x.m), newSide.moments.map((x) => x.m)) && same(oldSide.moments.map((x) => x.v), newSide.moments.map((x) => x.v));
  }
  // In cache: one 2048-element tensor, stepped 500 times a round, 15 rounds (old and new interleaved).
  const small = side([2048], new Prng(2)), smallNew = cloneSide(small), reps = 500;
  for (let r = 0; r < 15; r++) {
    rec('clipAndUpdate old, 2048 in cache', nsPerElement(2048 * reps, () => { for (let k = 0; k < reps; k++) clipAndUpdateReference(small.params, small.grads, small.moments, [true], 2, 1, k + 1, 1e-4, ARGS); }));
    rec('clipAndUpdate new, 2048 in cache', nsPerElement(2048 * reps, () => { for (let k = 0; k < reps; k++) clipAndUpdate(smallNew.params, smallNew.grads, smallNew.moments, [true], 2, 1, k + 1, 1e-4, ARGS); }));
  }
  identical &&= same(small.params, smallNew.params) && same(small.moments.map((x) => x.v), smallNew.moments.map((x) => x.v));
  const memcpy = Math.min(...rows['memcpy (ceiling: 4 B read + 4 B written)']!);
  // Memory traffic of each pass in memcpy units (8 B an element): scaleAndNorm reads and writes g (1);
  // clipAndUpdate reads p, g, m, v and writes them back (4); addInto reads acc and x, writes acc (1.5).
  const traffic: Record<string, number> = { scaleAndNorm: 1, clipAndUpdate: 4, addInto: 1.5 };
  console.log(`${'pass'.padEnd(42)} ${'best'.padStart(8)} ${'median'.padStart(8)}  ns/element   old/new (best)   floor at memcpy speed`);
  for (const [name, xs] of Object.entries(rows)) {
    const base = name.split(' ')[0]!;
    const old = rows[name.replace(' new', ' old')];
    const ratio = name.includes(' new') && old ? `${(Math.min(...old) / Math.min(...xs)).toFixed(2)}×` : '';
    const floor = traffic[base] && !name.includes('cache') ? `${(traffic[base]! * memcpy).toFixed(2)}` : '';
    console.log(`${name.padEnd(42)} ${Math.min(...xs).toFixed(2).padStart(8)} ${median(xs).toFixed(2).padStart(8)}  ${ratio.padStart(22)}   ${floor.padStart(8)}`);
  }
  const stepOld = Math.min(...rows['scaleAndNorm old']!) + Math.min(...rows['clipAndUpdate old']!);
  const stepNew = Math.min(...rows['scaleAndNorm new']!) + Math.min(...rows['clipAndUpdate new']!);
  console.log(`optimizer step (scaleAndNorm + clipAndUpdate), best rounds: old ${(stepOld * elements / 1e6).toFixed(0)} ms, new ${(stepNew * elements / 1e6).toFixed(0)} ms (${(stepOld / stepNew).toFixed(2)}×); memcpy floor ${(5 * memcpy * elements / 1e6).toFixed(0)} ms`);
  console.log(`old and new bit-identical after every round: ${identical ? 'yes' : 'NO'}; load ${loadavg()[0]!.toFixed(2)}`);
  if (!identical) process.exitCode = 1;
}
