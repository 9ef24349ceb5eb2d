;; 4-bit block dequantization (src/model/quantize/nbits.ts, dequantize4BitInto) as WebAssembly
;; 128-bit SIMD: out = f32((code − z) · scale), 16 outputs per 8 code bytes.
;;
;; Bit-identical to the JavaScript loop: (code − z) is an integer in [−15, 15], exact in i32 and in
;; float32 (f32x4.convert_i32x4_s is exact for |x| < 2^24). JavaScript multiplies it by the float32
;; scale in float64: an integer of ≤ 4 significant bits times a 24-bit significand has ≤ 28
;; significant bits, and float64's exponent range holds every such product (denormal scales
;; included), so the float64 product is exact; the store into a Float32Array then rounds it to
;; float32 once (to nearest, ties to even; overflow to ±∞). f32x4.mul is the IEEE float32 product of
;; the same two exact operands: the same exact value rounded once the same way, and WebAssembly never
;; flushes denormals. Zero signs agree too (0 · negative scale is −0 in both). Only a NaN's payload
;; may differ (0 · ∞), which neither side fixes.
;;
;; Layout (the caller copies a chunk of rows in, runs `dequant4`, copies the floats out;
;; src/model/quantize/dequant-wasm.ts): codes uint8 [rows, nBlocks, half] (two codes a byte, low
;; nibble first), scales float32 [rows, nBlocks], zero points uint8 [rows, zpRow] packed the same
;; way (only when $hasZp; else every z is 8), out float32 [rows, nBlocks · 2 · half].
;; Assembled by `npm run wasm` into dequant-kernels.wasm.ts; test/model/quantize/dequant-wasm.test.ts
;; checks that the committed bytes are this file's.
(module
  (memory (export "memory") 1)

  ;; $half (= blockSize / 2) must be a multiple of 8 (block sizes are powers of two ≥ 16).
  (func (export "dequant4")
    (param $codes i32) (param $scales i32) (param $zps i32) (param $hasZp i32) (param $out i32)
    (param $rows i32) (param $nBlocks i32) (param $half i32)
    (local $r i32) (local $b i32) (local $zpRow i32) (local $zrow i32) (local $z i32) (local $blockEnd i32)
    (local $s v128) (local $zv v128) (local $v v128) (local $inter v128) (local $w v128)
    (local.set $zpRow (i32.shr_u (i32.add (local.get $nBlocks) (i32.const 1)) (i32.const 1)))
    (local.set $zrow (local.get $zps))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $b (i32.const 0))
        (block $blocksDone
          (loop $block
            (br_if $blocksDone (i32.ge_u (local.get $b) (local.get $nBlocks)))
            (local.set $s (f32x4.splat (f32.load (local.get $scales))))
            (local.set $z (i32.const 8))
            (if (local.get $hasZp)
              (then
                (local.set $z (i32.load8_u (i32.add (local.get $zrow) (i32.shr_u (local.get $b) (i32.const 1)))))
                (local.set $z
                  (if (result i32) (i32.and (local.get $b) (i32.const 1))
                    (then (i32.shr_u (local.get $z) (i32.const 4)))
                    (else (i32.and (local.get $z) (i32.const 15)))))))
            (local.set $zv (i32x4.splat (local.get $z)))
            (local.set $blockEnd (i32.add (local.get $codes) (local.get $half)))
            (loop $bytes
              ;; 8 code bytes → 16 codes in element order (low nibble, high nibble, …)
              (local.set $v (v128.load64_zero (local.get $codes)))
              (local.set $inter
                (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23
                  (v128.and (local.get $v) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
                  (i8x16.shr_u (local.get $v) (i32.const 4))))
              (local.set $w (i16x8.extend_low_i8x16_u (local.get $inter)))
              (v128.store offset=0 (local.get $out)
                (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (i32x4.extend_low_i16x8_u (local.get $w)) (local.get $zv))) (local.get $s)))
              (v128.store offset=16 (local.get $out)
                (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (i32x4.extend_high_i16x8_u (local.get $w)) (local.get $zv))) (local.get $s)))
              (local.set $w (i16x8.extend_high_i8x16_u (local.get $inter)))
              (v128.store offset=32 (local.get $out)
                (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (i32x4.extend_low_i16x8_u (local.get $w)) (local.get $zv))) (local.get $s)))
              (v128.store offset=48 (local.get $out)
                (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (i32x4.extend_high_i16x8_u (local.get $w)) (local.get $zv))) (local.get $s)))
              (local.set $codes (i32.add (local.get $codes) (i32.const 8)))
              (local.set $out (i32.add (local.get $out) (i32.const 64)))
              (br_if $bytes (i32.lt_u (local.get $codes) (local.get $blockEnd))))
            (local.set $scales (i32.add (local.get $scales) (i32.const 4)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $block)))
        (local.set $zrow (i32.add (local.get $zrow) (local.get $zpRow)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))
)
