import type { AttemptRecord } from '../calls/records.js';
import { nearestRank, pddKey } from '../health/quality-window.js';

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
