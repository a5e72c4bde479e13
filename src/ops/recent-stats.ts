import type { AttemptRecord } from '../calls/records.js';

export interface CarrierRecentStats {
  readonly dials: number;
  readonly answered: number;
  readonly failures: number;
  readonly skipped: number;
  /** Answer-seizure ratio over the window: answered / dials; null with no dials. */
  readonly asr: number | null;
}

/**
 * Per-carrier counts over a sliding window in one-minute buckets: constant memory whatever the traffic,
 * enough for `status` and `/status` ("attempts and ASR, last 15 minutes").
 */
export class RecentStats {
  private readonly buckets = new Map<string, Map<number, [number, number, number, number]>>();

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
      m.set(key, (b = [0, 0, 0, 0]));
      for (const k of m.keys()) if (k < key - Math.ceil(this.windowMs / this.bucketMs)) m.delete(k);
    }
    if (r.verdict === 'skipped') b[3]++;
    else if (r.verdict !== 'invalid') {
      b[0]++;
      if (r.verdict === 'answered') b[1]++;
      if (r.verdict === 'next' || r.verdict === 'exhausted') b[2]++;
    }
  }

  get(carrier: string, now: number): CarrierRecentStats {
    const from = Math.floor((now - this.windowMs) / this.bucketMs);
    let dials = 0;
    let answered = 0;
    let failures = 0;
    let skipped = 0;
    for (const [k, b] of this.buckets.get(carrier) ?? []) {
      if (k <= from) continue;
      dials += b[0];
      answered += b[1];
      failures += b[2];
      skipped += b[3];
    }
    return { dials, answered, failures, skipped, asr: dials > 0 ? answered / dials : null };
  }
}
