/**
 * LCS length by the bit-parallel recurrence of Allison & Dix (1986) / Crochemore et al. (2001):
 * with M[c] the bitmask of positions of symbol c in `a` and V starting all ones,
 *
 *   for each symbol c of b:  U = V & M[c];  V = (V + U) | (V & ~M[c])
 *
 * and the LCS length is the number of zero bits among the low |a| bits of V. Multi-word: 32-bit
 * words, the addition carrying upward (bits above |a| only receive carries and are not
 * counted). O(|b| · |a|/32) instead of the O(|a| · |b|) table; the same integer as lcsLength in
 * rouge.ts (test/metrics/lcs.test.ts checks both on random sequences).
 *
 * Symbols are non-negative integer ids. Not re-entrant (scratch buffers are reused).
 */
export class BitLcs {
  private stamp = new Int32Array(1024);
  private local = new Int32Array(1024);
  private epoch = 0;
  private masks = new Int32Array(1024);
  private v = new Int32Array(8);

  length(a: ArrayLike<number>, b: ArrayLike<number>): number {
    const m = a.length;
    if (m === 0 || b.length === 0) return 0;
    const words = (m + 31) >>> 5;
    let maxId = 0;
    for (let i = 0; i < m; i++) if (a[i]! > maxId) maxId = a[i]!;
    if (maxId >= this.stamp.length) {
      const len = Math.max(maxId + 1, this.stamp.length * 2);
      this.stamp = new Int32Array(len);
      this.local = new Int32Array(len);
      this.epoch = 0;
    }
    if (++this.epoch === 0x7fffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
    const stamp = this.stamp;
    const local = this.local;
    const epoch = this.epoch;
    // symbols of a renumbered 0..k-1; masks[k * words + w] holds word w of M for local symbol k
    let k = 0;
    if (this.masks.length < m * words) this.masks = new Int32Array(m * words * 2);
    const masks = this.masks;
    for (let i = 0; i < m; i++) {
      const g = a[i]!;
      if (stamp[g] !== epoch) {
        stamp[g] = epoch;
        local[g] = k;
        masks.fill(0, k * words, (k + 1) * words);
        k++;
      }
      const off = local[g]! * words + (i >>> 5);
      masks[off] = masks[off]! | (1 << (i & 31));
    }
    if (this.v.length < words) this.v = new Int32Array(words * 2);
    const v = this.v;
    v.fill(-1, 0, words);
    for (let j = 0; j < b.length; j++) {
      const g = b[j]!;
      if (g >= stamp.length || stamp[g] !== epoch) continue; // M = 0: V unchanged
      const base = local[g]! * words;
      let carry = 0;
      for (let w = 0; w < words; w++) {
        const vw = v[w]!;
        const mw = masks[base + w]!;
        const sum = (vw >>> 0) + ((vw & mw) >>> 0) + carry;
        carry = sum > 0xffffffff ? 1 : 0;
        v[w] = (sum | 0) | (vw & ~mw);
      }
    }
    // zeros among the low m bits
    let zeros = 0;
    for (let w = 0; w < words; w++) {
      const bits = w === words - 1 && (m & 31) !== 0 ? m & 31 : 32;
      let x = ~v[w]!;
      if (bits < 32) x &= (1 << bits) - 1;
      zeros += popcount(x);
    }
    return zeros;
  }
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}
