/**
 * Clipped n-gram matching on integer token ids without per-call maps of n-gram keys.
 *
 * Global ids (any size) are first renumbered to local ids 0..L-1 for this pair of sequences;
 * then each order's n-gram id is the interned pair (id of the (n-1)-gram, id of the last
 * token), so every key stays below L²: a slot of a directly addressed table (a Map past 2^20
 * slots). Counting
 * uses typed arrays indexed by the local ids. The result equals Σ_g min(count_hyp(g),
 * count_ref(g)) per order (NLTK / sacrebleu / rouge-score clipped counts): each hypothesis
 * n-gram consumes one remaining reference copy.
 *
 * One matcher reuses its scratch buffers between calls; it is not re-entrant.
 */
// Direct pair tables up to 2^20 slots (8 MB with stamps): texts up to ~1,000 tokens per pair.
const DIRECT_LIMIT = 1 << 20;

export class NgramMatcher {
  private stamp = new Int32Array(1024);
  private local = new Int32Array(1024);
  private epoch = 0;
  private hypIds = new Int32Array(256);
  private refIds = new Int32Array(256);
  private hypUni = new Int32Array(256);
  private refUni = new Int32Array(256);
  private counts = new Int32Array(512);
  private readonly pairs = new Map<number, number>();
  private pairSlot = new Int32Array(0);
  private pairStamp = new Int32Array(0);
  private pairEpoch = 0;

  /**
   * Clipped matches of `hyp` against `ref` for orders 1..maxOrder: writes matches[n-1] and
   * totals[n-1] (the number of hyp n-grams). Ids must be non-negative integers.
   */
  match(hyp: ArrayLike<number>, ref: ArrayLike<number>, maxOrder: number, matches: number[], totals: number[]): void {
    const lh = hyp.length;
    const lr = ref.length;
    this.ensure(lh, lr);
    // renumber global ids to 0..L-1 (stamp marks ids seen in this call)
    if (++this.epoch === 0x7fffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
    let next = 0;
    const epoch = this.epoch;
    let maxId = 0;
    for (let i = 0; i < lr; i++) if (ref[i]! > maxId) maxId = ref[i]!;
    for (let i = 0; i < lh; i++) if (hyp[i]! > maxId) maxId = hyp[i]!;
    if (maxId >= this.stamp.length) this.growGlobal(maxId + 1);
    const stamp = this.stamp;
    const local = this.local;
    const hu = this.hypUni;
    const ru = this.refUni;
    const hc = this.hypIds;
    const rc = this.refIds;
    for (let i = 0; i < lr; i++) {
      const g = ref[i]!;
      if (stamp[g] !== epoch) {
        stamp[g] = epoch;
        local[g] = next++;
      }
      rc[i] = ru[i] = local[g]!;
    }
    for (let i = 0; i < lh; i++) {
      const g = hyp[i]!;
      if (stamp[g] !== epoch) {
        stamp[g] = epoch;
        local[g] = next++;
      }
      hc[i] = hu[i] = local[g]!;
    }
    const base = lh + lr + 1; // every local id (tokens or n-grams) is below this
    const counts = this.counts;
    let idCount = next;
    for (let n = 1; n <= maxOrder; n++) {
      const nr = lr - n + 1;
      const nh = lh - n + 1;
      if (n > 1 && matches[n - 2] === 0) {
        // no (n-1)-gram matched, so no n-gram can (each contains one): only the totals remain
        matches[n - 1] = 0;
        totals[n - 1] = nh > 0 ? nh : 0;
        continue;
      }
      if (n > 1 && base * base <= DIRECT_LIMIT) {
        // n-gram ids: intern (previous order's id at i, token i+n-1) in a directly addressed
        // table of base² slots; a slot is valid when its stamp is this order's stamp
        if (this.pairSlot.length < base * base) this.growPairTable(base * base);
        if (++this.pairEpoch === 0x7fffffff) {
          this.pairStamp.fill(0);
          this.pairEpoch = 1;
        }
        const slot = this.pairSlot;
        const pstamp = this.pairStamp;
        const pe = this.pairEpoch;
        idCount = 0;
        for (let i = 0; i < nr; i++) {
          const key = rc[i]! * base + ru[i + n - 1]!;
          if (pstamp[key] !== pe) {
            pstamp[key] = pe;
            slot[key] = idCount++;
          }
          rc[i] = slot[key]!;
        }
        for (let i = 0; i < nh; i++) {
          const key = hc[i]! * base + hu[i + n - 1]!;
          if (pstamp[key] !== pe) {
            pstamp[key] = pe;
            slot[key] = idCount++;
          }
          hc[i] = slot[key]!;
        }
      } else if (n > 1) {
        // long texts: the same interning in a Map
        const pairs = this.pairs;
        pairs.clear();
        idCount = 0;
        for (let i = 0; i < nr; i++) {
          const key = rc[i]! * base + ru[i + n - 1]!;
          let id = pairs.get(key);
          if (id === undefined) pairs.set(key, (id = idCount++));
          rc[i] = id;
        }
        for (let i = 0; i < nh; i++) {
          const key = hc[i]! * base + hu[i + n - 1]!;
          let id = pairs.get(key);
          if (id === undefined) pairs.set(key, (id = idCount++));
          hc[i] = id;
        }
      }
      counts.fill(0, 0, idCount);
      for (let i = 0; i < nr; i++) counts[rc[i]!]!++;
      let m = 0;
      for (let i = 0; i < nh; i++) {
        const id = hc[i]!;
        if (counts[id]! > 0) {
          m++;
          counts[id]!--;
        }
      }
      matches[n - 1] = m;
      totals[n - 1] = nh > 0 ? nh : 0;
    }
  }

  private ensure(lh: number, lr: number): void {
    if (this.hypIds.length < lh) {
      this.hypIds = new Int32Array(lh * 2);
      this.hypUni = new Int32Array(lh * 2);
    }
    if (this.refIds.length < lr) {
      this.refIds = new Int32Array(lr * 2);
      this.refUni = new Int32Array(lr * 2);
    }
    if (this.counts.length < lh + lr) this.counts = new Int32Array((lh + lr) * 2);
  }

  private growPairTable(size: number): void {
    this.pairSlot = new Int32Array(size);
    this.pairStamp = new Int32Array(size);
    this.pairEpoch = 0;
  }

  private growGlobal(size: number): void {
    const len = Math.max(size, this.stamp.length * 2);
    const stamp = new Int32Array(len);
    stamp.set(this.stamp);
    const local = new Int32Array(len);
    local.set(this.local);
    this.stamp = stamp;
    this.local = local;
  }
}
