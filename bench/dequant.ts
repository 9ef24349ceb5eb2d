/**
 * `npm run bench -- dequant [ROUNDS]`: 4-bit dequantization as the QLoRA step runs it (once per
 * layer per backward, blocks of 32 as bench/_train-step.ts quantizes), old (the JavaScript loop,
 * dequantize4BitReference) against new (dequantize4BitInto: the WebAssembly SIMD kernel, chunks
 * copied into and out of its memory), at TinyLlama-1.1B's gate/up shape [11264 × 2048] and a
 * projection [2048 × 2048], symmetric (as the step) and with zero points. Beside them a memcpy
 * ceiling measured in the same rounds (Float32Array.set of an equal float32 tensor: 4 B read and
 * 4 B written an element). GB/s counts the float32 output (4 B an element). Rounds interleave old,
 * new and memcpy, so a shared machine's load falls on all; the table gives best and median. Old and
 * new must be bit-identical (checked every round).
 */
import { loadavg } from 'node:os';
import { Prng } from '../src/core/prng.js';
import { dequantize4BitInto, dequantize4BitReference, quantizeNBits, type NBitsWeight } from '../src/model/quantize/nbits.js';
import { dequantWasmAvailable } from '../src/model/quantize/dequant-wasm.js';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const bytes = (x: Float32Array): Buffer => Buffer.from(x.buffer, x.byteOffset, x.byteLength);

/** Milliseconds of one call of f. */
function ms(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export default async function bench(args: string[]): Promise<void> {
  const rounds = Number(args[0] ?? 7);
  console.log(`4-bit dequantization, blocks of 32; ${rounds} rounds; WebAssembly SIMD ${dequantWasmAvailable() ? 'available' : 'MISSING (new = the JS loop)'}; load ${loadavg()[0]!.toFixed(2)}`);
  console.log(`${'shape'.padEnd(30)} ${'pass'.padEnd(8)} ${'best ms'.padStart(8)} ${'median'.padStart(8)} ${'GB/s'.padStart(6)}   old/new   new/memcpy (best)`);
  let identical = true;
  const prng = new Prng(3);
  for (const [N, K] of [[11264, 2048], [2048, 2048]] as const)
    for (const symmetric of [true, false]) {
      const w = Float32Array.from({ length: N * K }, () => prng.normal() * 0.02);
      const q: NBitsWeight = quantizeNBits(w, N, K, { bits: 4, blockSize: 32, symmetric });
      const src = w, outOld = new Float32Array(N * K), outNew = new Float32Array(N * K), copy = new Float32Array(N * K);
      const t: Record<string, number[]> = { old: [], new: [], memcpy: [] };
      for (let r = 0; r < rounds; r++) {
        outNew.fill(0);
        t.memcpy!.push(ms(() => copy.set(src)));
        t.old!.push(ms(() => dequantize4BitReference(q, outOld)));
        t.new!.push(ms(() => dequantize4BitInto(q, outNew)));
        identical &&= bytes(outOld).equals(bytes(outNew));
      }
      const best = (k: string): number => Math.min(...t[k]!);
      const label = `[${N} × ${K}] ${symmetric ? 'symmetric' : 'zero points'}`;
      for (const k of ['old', 'new', 'memcpy']) {
        const gbs = (4 * N * K) / (best(k) * 1e6);
        const ratio = k === 'new' ? `${(best('old') / best('new')).toFixed(2)}×`.padStart(7) + `   ${(best('new') / best('memcpy')).toFixed(2)}×`.padStart(10) : '';
        console.log(`${label.padEnd(30)} ${k.padEnd(8)} ${best(k).toFixed(2).padStart(8)} ${median(t[k]!).toFixed(2).padStart(8)} ${gbs.toFixed(1).padStart(6)}   ${ratio}`);
      }
    }
  console.log(`old and new bit-identical every round: ${identical ? 'yes' : 'NO'}; load ${loadavg()[0]!.toFixed(2)}`);
  if (!identical) process.exitCode = 1;
}
