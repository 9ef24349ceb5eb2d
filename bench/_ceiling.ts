/**
 * Child process: the ONNX Runtime MatMul ceiling at the 1.1B training step's big shapes (forward
 * Gemm(transB) and backward MatMul, q/o and gate/up, prepacked weights, best of 3 runs each).
 * Run in its own process so that the caller's peak RSS stays its own; the training benchmark
 * runs it between timed steps, so each step's share uses a ceiling measured minutes from it.
 * Prints one JSON line: { gflops, shapes: { name: GFLOP/s } }. With a second argument SECONDS, the
 * sustained rate instead: the same shapes run back to back in turn for SECONDS (the average).
 */
import { sustainedGflops, timeKernel, trainingShapeCases } from './_train-kernels.js';

const threads = Number(process.argv[2] ?? 2);
const sustainSeconds = Number(process.argv[3] ?? 0);
const cases = trainingShapeCases().filter((k) => /^(fwd q\/o|fwd gate\/up|bwd dX q\/o|bwd dX gate\/up)/.test(k.name));
if (sustainSeconds > 0) {
  // `_ceiling.ts THREADS SECONDS`: the sustained rate of the same shapes, run in turn for SECONDS.
  console.log(JSON.stringify({ gflops: await sustainedGflops(cases, threads, sustainSeconds), seconds: sustainSeconds }));
} else {
  const shapes: Record<string, number> = {};
  for (const c of cases) shapes[c.name] = (await timeKernel(c, threads, 3)).gflops;
  console.log(JSON.stringify({ gflops: Math.max(...Object.values(shapes)), shapes }));
}
