/**
 * Child process: the ONNX Runtime MatMul ceiling at the 1.1B training step's big shapes (forward
 * Gemm(transB) and backward MatMul, q/o and gate/up, prepacked weights, best of 3 runs each).
 * Run in its own process so that the caller's peak RSS stays its own. Prints one JSON line:
 * { gflops, shapes: { name: GFLOP/s } }.
 *
 * `_ceiling.ts THREADS SECONDS`: the sustained rate instead — the same shapes run back to back in
 * turn for SECONDS (the average).
 *
 * `_ceiling.ts THREADS serve`: a long-lived measurer for the training-step child, which asks for
 * a ceiling before each timed step by writing a line to stdin and reads one JSON line back. The
 * step child starts it once, before it builds its model, and never forks again: every fork
 * (`execFileSync`) marks the parent's pages copy-on-write, and the next step then takes a minor
 * fault on every page it writes (tiny full step, AMD EPYC: 16,000 faults and 0.05 → 0.19 s a step).
 */
import { createInterface } from 'node:readline';
import { sustainedGflops, timeKernel, trainingShapeCases } from './_train-kernels.js';

const threads = Number(process.argv[2] ?? 2);
const cases = trainingShapeCases().filter((k) => !k.nbits && /^(fwd q\/o|fwd gate\/up|bwd dX q\/o|bwd dX gate\/up)/.test(k.name));

async function burst(): Promise<{ gflops: number; shapes: Record<string, number> }> {
  const shapes: Record<string, number> = {};
  for (const c of cases) shapes[c.name] = (await timeKernel(c, threads, 3)).gflops;
  return { gflops: Math.max(...Object.values(shapes)), shapes };
}

if (process.argv[3] === 'serve') {
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === 'quit') break;
    console.log(JSON.stringify(await burst()));
  }
} else {
  const sustainSeconds = Number(process.argv[3] ?? 0);
  if (sustainSeconds > 0) console.log(JSON.stringify({ gflops: await sustainedGflops(cases, threads, sustainSeconds), seconds: sustainSeconds }));
  else console.log(JSON.stringify(await burst()));
}
