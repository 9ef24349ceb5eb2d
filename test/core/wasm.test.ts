import { describe, expect, it } from 'vitest';
import { WasmKernels } from '../../src/core/wasm.js';

// The smallest valid module: the magic "\0asm" and version 1, no sections.
const EMPTY_MODULE = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]).toString('base64');

describe('WasmKernels', () => {
  it('instantiates a module once and hands back the same exports', () => {
    const k = new WasmKernels<object>(EMPTY_MODULE);
    expect(k.available()).toBe(true);
    expect(k.get()).toBe(k.get());
  });

  it('says a module this engine refuses is unavailable, and get() throws', () => {
    const k = new WasmKernels<object>(Buffer.from('not a module').toString('base64'));
    expect(k.available()).toBe(false);
    expect(k.available()).toBe(false);
    expect(() => k.get()).toThrow();
  });
});
