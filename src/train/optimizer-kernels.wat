;; The optimizer's element loops (src/train/optimizer.ts) as WebAssembly 128-bit SIMD: two float64
;; lanes per instruction, the same IEEE double operations in the same order as the JavaScript loops
;; (no FMA exists in standard wasm SIMD; div and sqrt are correctly rounded), so every float32 result
;; is the JavaScript loop's, bit for bit. The caller copies a chunk of each tensor into this memory,
;; runs a kernel on it and copies the results back (src/train/optimizer-wasm.ts).
;; Assembled by `npm run wasm` into optimizer-kernels.wasm.ts; test/train/optimizer-wasm.test.ts
;; checks that the committed bytes are this file's.
(module
  (memory (export "memory") 1)

  ;; AdamW with optional clipping over n elements (a multiple of 2: the caller pads) of the float32
  ;; arrays at byte offsets p (params), g (gradients), m, v. Per element, as clipAndUpdate:
  ;;   g ← f32(g·coef) if clip (stored back);  mi = β₁·m + c₁·g;  vi = β₂·v + (c₂·g)·g;
  ;;   p ← p·decay − (lr·(mi/bc₁)) / (√(vi/bc₂) + ε);  m, v, p stored as f32(…)
  ;; where c₁ = 1 − β₁, c₂ = 1 − β₂ (computed by the caller in float64, as JavaScript does).
  ;; $unit1 / $unit2: bc₁ / bc₂ is exactly 1 (from t ≈ 350 for β₁ = 0.9, as 1 − β₁ᵗ rounds to 1):
  ;; x / 1 is x, so that divide (a quarter of the divider's work) is skipped.
  (func (export "adamw")
    (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32) (param $clip i32) (param $unit1 i32) (param $unit2 i32)
    (param $coef f64) (param $beta1 f64) (param $c1 f64) (param $beta2 f64) (param $c2 f64)
    (param $bc1 f64) (param $bc2 f64) (param $lr f64) (param $eps f64) (param $decay f64)
    (local $i i32) (local $end i32)
    (local $kcoef v128) (local $kbeta1 v128) (local $kc1 v128) (local $kbeta2 v128) (local $kc2 v128)
    (local $kbc1 v128) (local $kbc2 v128) (local $klr v128) (local $keps v128) (local $kdecay v128)
    (local $gd v128) (local $g32 v128) (local $mi v128) (local $vi v128)
    (local.set $kcoef (f64x2.splat (local.get $coef)))
    (local.set $kbeta1 (f64x2.splat (local.get $beta1)))
    (local.set $kc1 (f64x2.splat (local.get $c1)))
    (local.set $kbeta2 (f64x2.splat (local.get $beta2)))
    (local.set $kc2 (f64x2.splat (local.get $c2)))
    (local.set $kbc1 (f64x2.splat (local.get $bc1)))
    (local.set $kbc2 (f64x2.splat (local.get $bc2)))
    (local.set $klr (f64x2.splat (local.get $lr)))
    (local.set $keps (f64x2.splat (local.get $eps)))
    (local.set $kdecay (f64x2.splat (local.get $decay)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        ;; g: two float32 → float64 (exact)
        (local.set $gd (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $g) (local.get $i)))))
        (if (local.get $clip)
          (then
            ;; as clipGradients stores it: f32(g·coef), and the update reads that float32
            (local.set $g32 (f32x4.demote_f64x2_zero (f64x2.mul (local.get $gd) (local.get $kcoef))))
            (v128.store64_lane 0 (i32.add (local.get $g) (local.get $i)) (local.get $g32))
            (local.set $gd (f64x2.promote_low_f32x4 (local.get $g32)))))
        ;; mi = β₁·m + c₁·g (unrounded; m stores its float32 rounding)
        (local.set $mi
          (f64x2.add
            (f64x2.mul (local.get $kbeta1) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $m) (local.get $i)))))
            (f64x2.mul (local.get $kc1) (local.get $gd))))
        (v128.store64_lane 0 (i32.add (local.get $m) (local.get $i)) (f32x4.demote_f64x2_zero (local.get $mi)))
        ;; vi = β₂·v + (c₂·g)·g
        (local.set $vi
          (f64x2.add
            (f64x2.mul (local.get $kbeta2) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $v) (local.get $i)))))
            (f64x2.mul (f64x2.mul (local.get $kc2) (local.get $gd)) (local.get $gd))))
        (v128.store64_lane 0 (i32.add (local.get $v) (local.get $i)) (f32x4.demote_f64x2_zero (local.get $vi)))
        ;; p ← p·decay − (lr·(mi/bc₁)) / (√(vi/bc₂) + ε)
        (if (i32.eqz (local.get $unit1)) (then (local.set $mi (f64x2.div (local.get $mi) (local.get $kbc1)))))
        (if (i32.eqz (local.get $unit2)) (then (local.set $vi (f64x2.div (local.get $vi) (local.get $kbc2)))))
        (v128.store64_lane 0 (i32.add (local.get $p) (local.get $i))
          (f32x4.demote_f64x2_zero
            (f64x2.sub
              (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $p) (local.get $i)))) (local.get $kdecay))
              (f64x2.div
                (f64x2.mul (local.get $klr) (local.get $mi))
                (f64x2.add (f64x2.sqrt (local.get $vi)) (local.get $keps))))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $pairs))))

  ;; g ← f32(g / tokens) in place over n elements (any n) at byte offset g, and ss + Σ g² summed
  ;; in element order, one float64 add at a time (as scaleAndNorm: the order fixes the result).
  (func (export "scaleAndSquares") (param $g i32) (param $n i32) (param $tokens f64) (param $ss f64) (result f64)
    (local $i i32) (local $pairsEnd i32) (local $end i32) (local $ktokens v128) (local $x32 v128) (local $sq v128) (local $x f64)
    (local.set $ktokens (f64x2.splat (local.get $tokens)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $pairsEnd (i32.and (local.get $end) (i32.const -8)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $i) (local.get $pairsEnd)))
        (local.set $x32 (f32x4.demote_f64x2_zero
          (f64x2.div (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $g) (local.get $i)))) (local.get $ktokens))))
        (v128.store64_lane 0 (i32.add (local.get $g) (local.get $i)) (local.get $x32))
        ;; x·x is exact in float64 (a float32 has 24 significant bits)
        (local.set $sq (f64x2.promote_low_f32x4 (local.get $x32)))
        (local.set $sq (f64x2.mul (local.get $sq) (local.get $sq)))
        (local.set $ss (f64.add (local.get $ss) (f64x2.extract_lane 0 (local.get $sq))))
        (local.set $ss (f64.add (local.get $ss) (f64x2.extract_lane 1 (local.get $sq))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $pairs)))
    ;; an odd last element
    (if (i32.lt_u (local.get $i) (local.get $end))
      (then
        (local.set $x (f64.promote_f32 (f32.demote_f64
          (f64.div (f64.promote_f32 (f32.load (i32.add (local.get $g) (local.get $i)))) (local.get $tokens)))))
        (f32.store (i32.add (local.get $g) (local.get $i)) (f32.demote_f64 (local.get $x)))
        (local.set $ss (f64.add (local.get $ss) (f64.mul (local.get $x) (local.get $x))))))
    (local.get $ss))
;; acc ← acc + x over n elements (a multiple of 4: the caller pads) at byte offsets acc, x, four
  ;; float32 lanes at a time. Equal to JavaScript's f32(f64(a) + f64(b)) bit for bit: a float64 sum
  ;; of two float32s rounded to float32 is the correctly rounded float32 sum (double rounding is
  ;; innocuous for +, −, ×, ÷, √ when the wide format has ≥ 2·24 + 2 significant bits; 53 does).
  (func (export "addInto") (param $acc i32) (param $x i32) (param $n i32)
    (local $i i32) (local $end i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $quads
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (v128.store (i32.add (local.get $acc) (local.get $i))
          (f32x4.add (v128.load (i32.add (local.get $acc) (local.get $i))) (v128.load (i32.add (local.get $x) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $quads))))
)
