/**
 * One WebAssembly module of the project's kernels (the optimizer's, the 4-bit dequantization),
 * instantiated from its committed base64 bytes on first use, once per thread. Its imports are
 * empty; each user reads its exports and memory.
 */

/** The part of the WebAssembly JS API used here (the project's lib has no DOM types, where it is declared). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const { WebAssembly: wasm } = globalThis as unknown as { WebAssembly: WasmApi };

export class WasmKernels<Exports extends object> {
  private exports: Exports | undefined;
  private refused = false;

  constructor(private readonly base64: string) {}

  /** The instance's exports; throws where this engine refuses the module. */
  get(): Exports {
    if (!this.exports) this.exports = new wasm.Instance(new wasm.Module(Buffer.from(this.base64, 'base64')), {}).exports as Exports;
    return this.exports;
  }

  /**
   * Whether this engine runs the module: every Node ≥ 20 on x86-64 with SSE4.1 or on arm64; V8
   * refuses SIMD modules elsewhere (e.g. qemu's default x86-64 model), and callers then run their
   * JavaScript reference loops (the same results, slower). Asked once; the answer is kept.
   */
  available(): boolean {
    if (this.exports) return true;
    if (this.refused) return false;
    try {
      this.get();
      return true;
    } catch {
      this.refused = true;
      return false;
    }
  }
}
