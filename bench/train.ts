/**
 * `npm run bench -- train [kernels]`: training throughput on ONNX Runtime CPU.
 *
 * `kernels`: the feasibility table — every matmul and non-matmul kernel of one training step at
 * the TinyLlama-1.1B shape (N = 4 × 256 tokens), with the per-step estimate derived from it.
 */
import { cpus } from 'node:os';
import { timeKernel, trainingShapeCases, type KernelTiming } from './_train-kernels.js';

export default async function bench(args: string[]): Promise<void> {
  const threads = Number(process.env.POLYPERSONA_THREADS ?? 2);
  const mode = args[0] ?? 'kernels';
  if (mode === 'kernels') {
    console.log(`ONNX Runtime CPU kernels at the 1.1B training shapes, ${threads} threads, ${cpus()[0]?.model ?? 'cpu'}`);
    const rows: KernelTiming[] = [];
    for (const c of trainingShapeCases()) {
      const t = await timeKernel(c, threads);
      rows.push(t);
      console.log(`${t.name.padEnd(58)} ${t.ms.toFixed(2).padStart(9)} ms ${t.gflops > 0 ? `${t.gflops.toFixed(1).padStart(7)} GFLOP/s` : `${t.gbps.toFixed(1).padStart(7)} GB/s`}`);
    }
    const ceiling = Math.max(...rows.map((r) => r.gflops));
    console.log(`MatMul ceiling (best matmul above): ${ceiling.toFixed(1)} GFLOP/s`);
    return;
  }
  throw new Error(`bench train: unknown mode "${mode}" (kernels)`);
}
