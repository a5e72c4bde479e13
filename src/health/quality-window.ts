import type { AttemptRecord } from '../calls/records.js';

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
 * takes it. The percent is whole (or a decimal such as 99.9) and the rank is computed in integer-safe steps: 0.95 × n
 * in floating point can land above a whole n.
 */
export function nearestRank(counts: ReadonlyMap<number, number>, percent: number): number | null {
  let n = 0;
  for (const c of counts.values()) n += c;
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil(Math.round(percent * n * 1000) / 100_000));
  let seen = 0;
  for (const k of [...counts.keys()].sort((a, b) => a - b)) {
    seen += counts.get(k) ?? 0;
    if (seen >= rank) return k;
  }
  return null;
}

/** What one Dial says about its carrier's quality. */
export interface QualitySample {
  readonly carrier: string;
  /** The prefix group of the dialed number; null = none. */
  readonly group: string | null;
  readonly endedAt: number;
  /**
   * Counted in the answer-seizure ratio: the Dial ended on something the carrier decided. BUSY and NOANSWER are the
   * callee's word and CANCEL the caller's (or another leg answered), so they are left out, as VICIdial's carrier
   * rate reports leave them out; CHANUNAVAIL, CONGESTION and the rest count as seized and not answered.
   */
  readonly seized: boolean;
  readonly answered: boolean;
  /** ANSWEREDTIME_MS of an answered Dial; 0 otherwise. */
  readonly talkMs: number;
  /** The earlier of RINGTIME_MS and PROGRESSTIME_MS; null when neither came (no 180/183). */
  readonly pddMs: number | null;
}

const NOT_SEIZED: ReadonlySet<string> = new Set(['BUSY', 'NOANSWER', 'CANCEL']);

/**
 * The quality sample of an attempt record, or null for a record that is not a Dial with a known outcome: skips,
 * refusals, the closing `exhausted` row without a carrier, a Dial the daemon gave up on (`interrupted`) or lost
 * the AGI session during (no DIALSTATUS), and the `A&B` label of a simultaneous Dial (each leg has its own record).
 */
export function qualitySample(r: AttemptRecord): QualitySample | null {
  if (!r.carrier || r.carrier.includes('&')) return null;
  if (r.verdict === 'skipped' || r.verdict === 'invalid' || r.verdict === 'interrupted') return null;
  // no DIALSTATUS: the AGI session failed during the Dial ('stop', "AGI error during attempt"), so what the carrier
  // did is unknown; counted as seized it would lower the carrier's answer-seizure ratio for a fault of our own
  if (r.dialStatus === '') return null;
  const answered = r.verdict === 'answered';
  const pdd = r.pddMs;
  return {
    carrier: r.carrier,
    group: r.prefixGroup ?? null,
    endedAt: r.endedAt,
    seized: answered || !NOT_SEIZED.has(r.dialStatus),
    answered,
    talkMs: answered ? Math.max(0, r.talkMs) : 0,
    pddMs: typeof pdd === 'number' && Number.isFinite(pdd) ? pdd : null,
  };
}

/** Talk times are counted per whole second up to this; longer calls share the last key (no threshold is above it). */
export const TALK_CLAMP_S = 120;

/** A carrier's (or a carrier-and-group's) figures over a span of the window. */
export interface QualityFigures {
  /** Dials with a known outcome. */
  readonly dials: number;
  /** The answer-seizure ratio's denominator (see QualitySample.seized). */
  readonly seized: number;
  readonly answered: number;
  /** answered / seized; null with nothing seized. */
  readonly asr: number | null;
  /** pddKey → Dials that rang or made progress with that delay. */
  readonly pdd: ReadonlyMap<number, number>;
  /** Dials with a post-dial delay (the count of `pdd`). */
  readonly alerted: number;
  /** Whole seconds of talk (clamped at TALK_CLAMP_S) → answered Dials. */
  readonly talk: ReadonlyMap<number, number>;
}

/** The share of answered Dials that talked less than `shortMs`; null with nothing answered. */
export function shortCallShare(f: QualityFigures, shortMs: number): number | null {
  if (f.answered === 0) return null;
  const limit = Math.min(shortMs, TALK_CLAMP_S * 1000) / 1000;
  let short = 0;
  for (const [s, n] of f.talk) if (s < limit) short += n;
  return short / f.answered;
}

interface Bucket {
  dials: number;
  seized: number;
  answered: number;
  readonly pdd: Map<number, number>;
  readonly talk: Map<number, number>;
}

const NO_GROUP = '';

/**
 * Quality samples per carrier and per (carrier, prefix group) in fixed time buckets, for the figures quality ordering
 * and adaptive progress timeouts are taken from. Pure data: the caller passes every time. Memory is bounded by the
 * configured carriers × (groups + 1) × `keep` buckets, each a few counters, at most ~4,000 delay keys and
 * TALK_CLAMP_S + 1 talk keys, whatever the traffic.
 */
export class QualityWindow {
  private readonly buckets = new Map<string, Map<string, Map<number, Bucket>>>();

  constructor(
    readonly bucketMs = 60_000,
    /** Buckets kept per key: the longest span figures() can cover is keep × bucketMs. */
    private keepBuckets = 60,
  ) {}

  get keep(): number {
    return this.keepBuckets;
  }

  /**
   * Keeps at least the buckets that `spanMs` covers (quality ordering's recent and baseline windows, after a reload
   * too); never fewer than the constructor's. Older buckets go as each key gets its next bucket.
   */
  keepFor(spanMs: number): void {
    this.keepBuckets = Math.max(this.keepBuckets, Math.ceil(spanMs / this.bucketMs) + 1);
  }

  add(s: QualitySample): void {
    const key = Math.floor(s.endedAt / this.bucketMs);
    let byGroup = this.buckets.get(s.carrier);
    if (!byGroup) this.buckets.set(s.carrier, (byGroup = new Map()));
    this.count(byGroup, NO_GROUP, key, s);
    if (s.group !== null && s.group !== NO_GROUP) this.count(byGroup, s.group, key, s);
  }

  /**
   * Figures over [fromMs, toMs): every bucket whose start lies in the span. Spans are whole buckets; ask for
   * `group` null for the carrier as a whole (every group and none).
   */
  figures(carrier: string, group: string | null, fromMs: number, toMs: number): QualityFigures {
    const from = Math.ceil(fromMs / this.bucketMs);
    const to = Math.ceil(toMs / this.bucketMs);
    let dials = 0;
    let seized = 0;
    let answered = 0;
    let alerted = 0;
    const pdd = new Map<number, number>();
    const talk = new Map<number, number>();
    for (const [k, b] of this.buckets.get(carrier)?.get(group ?? NO_GROUP) ?? []) {
      if (k < from || k >= to) continue;
      dials += b.dials;
      seized += b.seized;
      answered += b.answered;
      for (const [ms, n] of b.pdd) {
        pdd.set(ms, (pdd.get(ms) ?? 0) + n);
        alerted += n;
      }
      for (const [s, n] of b.talk) talk.set(s, (talk.get(s) ?? 0) + n);
    }
    return { dials, seized, answered, asr: seized > 0 ? answered / seized : null, pdd, alerted, talk };
  }

  /** Forgets carriers no longer configured (a reload): their figures would otherwise stay in memory for good. */
  retain(carriers: ReadonlySet<string>): void {
    for (const c of [...this.buckets.keys()]) if (!carriers.has(c)) this.buckets.delete(c);
  }

  private count(byGroup: Map<string, Map<number, Bucket>>, group: string, key: number, s: QualitySample): void {
    let m = byGroup.get(group);
    if (!m) byGroup.set(group, (m = new Map()));
    let b = m.get(key);
    if (!b) {
      m.set(key, (b = { dials: 0, seized: 0, answered: 0, pdd: new Map(), talk: new Map() }));
      for (const k of m.keys()) if (k <= key - this.keepBuckets) m.delete(k);
    }
    b.dials++;
    if (s.seized) b.seized++;
    if (s.answered) {
      b.answered++;
      const sec = Math.min(Math.floor(s.talkMs / 1000), TALK_CLAMP_S);
      b.talk.set(sec, (b.talk.get(sec) ?? 0) + 1);
    }
    if (s.pddMs !== null) {
      const k = pddKey(s.pddMs);
      b.pdd.set(k, (b.pdd.get(k) ?? 0) + 1);
    }
  }
}
