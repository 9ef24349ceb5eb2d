/**
 * Child process: the ONNX Runtime MatMul ceiling at the 1.1B training step's big shapes (forward
 * Gemm(transB) and backward MatMul, q/o and gate/up, prepacked weights, best of 3 runs each).
 * Run in its own process so that the caller's peak RSS stays its own; the training benchmark
 * runs it between timed steps, so each step's share uses a ceiling measured minutes from it.
 * Prints one JSON line: { gflops, shapes: { name: GFLOP/s } }.
 */
import { timeKernel, trainingShapeCases } from './_train-kernels.js';

const threads = Number(process.argv[2] ?? 2);
const shapes: Record<string, number> = {};
for (const c of trainingShapeCases().filter((k) => /^(fwd q\/o|fwd gate\/up|bwd dX q\/o|bwd dX gate\/up)/.test(k.name))) shapes[c.name] = (await timeKernel(c, threads, 3)).gflops;
console.log(JSON.stringify({ gflops: Math.max(...Object.values(shapes)), shapes }));
