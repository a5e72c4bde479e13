import type { AttemptRecord } from '../calls/records.js';

export interface PostDialDelayStats {
  /** Dials that rang or made progress (had a pddMs) in the window: the count p50/p95 are taken over. */
  readonly alerted: number;
  /** Nearest-rank percentiles in ms (sql/queries/post-dial-delay.sql's definition); null with nothing alerted. */
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
}

export interface CarrierRecentStats {
  readonly dials: number;
  readonly answered: number;
  readonly failures: number;
  readonly skipped: number;
  /** Answer-seizure ratio over the window: answered / dials; null with no dials. */
  readonly asr: number | null;
  readonly pdd: PostDialDelayStats;
}

/**
 * A post-dial delay as the key it is counted under: exact to the ms below 1 s, to 100 ms above (the resolution the
 * status page shows), clamped at 5 min. Rounding is monotone, so the nearest-rank percentile of the keys is the
 * rounded percentile of the delays, and a bucket holds at most ~4,000 keys however many Dials it counts.
 */
export function pddKey(ms: number): number {
  const v = Math.min(Math.max(0, Math.round(ms)), PDD_CLAMP_MS);
  return v < 1000 ? v : Math.round(v / 100) * 100;
}
const PDD_CLAMP_MS = 300_000;

/**
 * Nearest rank: the smallest value with at least ceil(percent/100 × n) values at or below it, as post-dial-delay.sql
 * takes it. The percent is whole so the rank is integer arithmetic (0.95 × n in floating point can land above a whole n).
 */
export function nearestRank(counts: ReadonlyMap<number, number>, percent: number): number | null {
  let n = 0;
  for (const c of counts.values()) n += c;
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil((percent * n) / 100));
  let seen = 0;
  for (const k of [...counts.keys()].sort((a, b) => a - b)) {
    seen += counts.get(k) ?? 0;
    if (seen >= rank) return k;
  }
  return null;
}

interface Bucket {
  dials: number;
  answered: number;
  failures: number;
  skipped: number;
  /** pddKey → Dials: a count per distinct delay, not a list of delays, so memory does not grow with traffic. */
  readonly pdd: Map<number, number>;
}

/**
 * Per-carrier counts over a sliding window in one-minute buckets: memory bounded whatever the traffic (16 buckets
 * per carrier, each a few counters and at most ~4,000 post-dial delay keys), enough for `status` and `/status`
 * ("attempts, ASR and post-dial delay, last 15 minutes").
 */
export class RecentStats {
  private readonly buckets = new Map<string, Map<number, Bucket>>();

  constructor(
    private readonly windowMs = 15 * 60_000,
    private readonly bucketMs = 60_000,
  ) {}

  add(r: AttemptRecord): void {
    if (!r.carrier || r.carrier.includes('&')) return;
    const key = Math.floor(r.endedAt / this.bucketMs);
    let m = this.buckets.get(r.carrier);
    if (!m) this.buckets.set(r.carrier, (m = new Map()));
    let b = m.get(key);
    if (!b) {
      m.set(key, (b = { dials: 0, answered: 0, failures: 0, skipped: 0, pdd: new Map() }));
      for (const k of m.keys()) if (k < key - Math.ceil(this.windowMs / this.bucketMs)) m.delete(k);
    }
    if (r.verdict === 'skipped') b.skipped++;
    else if (r.verdict !== 'invalid') {
      b.dials++;
      if (r.verdict === 'answered') b.answered++;
      if (r.verdict === 'next' || r.verdict === 'exhausted') b.failures++;
      const pdd = r.pddMs;
      if (typeof pdd === 'number' && Number.isFinite(pdd)) {
        const k = pddKey(pdd);
        b.pdd.set(k, (b.pdd.get(k) ?? 0) + 1);
      }
    }
  }

  get(carrier: string, now: number): CarrierRecentStats {
    const from = Math.floor((now - this.windowMs) / this.bucketMs);
    let dials = 0;
    let answered = 0;
    let failures = 0;
    let skipped = 0;
    const pdd = new Map<number, number>();
    for (const [k, b] of this.buckets.get(carrier) ?? []) {
      if (k <= from) continue;
      dials += b.dials;
      answered += b.answered;
      failures += b.failures;
      skipped += b.skipped;
      for (const [ms, n] of b.pdd) pdd.set(ms, (pdd.get(ms) ?? 0) + n);
    }
    let alerted = 0;
    for (const n of pdd.values()) alerted += n;
    return {
      dials,
      answered,
      failures,
      skipped,
      asr: dials > 0 ? answered / dials : null,
      pdd: { alerted, p50Ms: nearestRank(pdd, 50), p95Ms: nearestRank(pdd, 95) },
    };
  }
}
