/**
 * One carrier's circuit breaker, fed by real calls. Pure: every function takes the state and the time and
 * returns the next state.
 *
 * closed ──(N failures in a row, or failure ratio over the window)──▶ open
 * open ──(ejection over: baseEjection × recent openings, capped)──▶ half-open
 * half-open ──(recoverySuccesses successes, one trial call at a time)──▶ closed
 * half-open ──(a failure)──▶ open, for longer
 */

export interface BreakerSettings {
  readonly consecutiveFailures: number;
  readonly window: number;
  readonly failureRatio: number;
  readonly minVolume: number;
  readonly baseEjection: number;
  readonly maxEjection: number;
  readonly recoverySuccesses: number;
}

/** Outcomes in one slice of the window; the window holds at most BUCKETS slices. */
export interface Bucket {
  readonly start: number;
  readonly ok: number;
  readonly fail: number;
}

export type Breaker =
  | {
      readonly kind: 'closed';
      readonly consecutive: number;
      readonly buckets: readonly Bucket[];
      /** When the breaker opened lately (for the ejection multiplier). */
      readonly openings: readonly number[];
    }
  | {
      readonly kind: 'open';
      readonly until: number;
      readonly reason: string;
      readonly openings: readonly number[];
      /** Ejected by another dialer's breaker (cluster.enabled): which one, and until when it has the first trial call. */
      readonly peer?: { readonly server: string; readonly trialFrom: number };
    }
  | {
      readonly kind: 'half-open';
      readonly successes: number;
      /** A trial call holds the carrier until then (ours, or a peer dialer's); null = free. */
      readonly probeUntil: number | null;
      readonly reason: string;
      readonly openings: readonly number[];
      /** The peer dialer whose ejection this recovery follows, or whose trial call holds it. */
      readonly peer?: string;
    };

export type Signal = 'success' | 'failure' | 'neutral';

/** A step's result: the next state, and, when it opens the breaker, the state to keep if the opening is refused (maxEjectedPercent). */
export interface BreakerStep {
  readonly next: Breaker;
  readonly trip: { readonly reason: string; readonly held: Breaker } | null;
}

const BUCKETS = 10;

export const CLOSED: Breaker = { kind: 'closed', consecutive: 0, buckets: [], openings: [] };

/** The longest ejection; never shorter than one base ejection. */
export function ejectionCap(s: BreakerSettings): number {
  return Math.max(s.baseEjection, s.maxEjection);
}

/** Openings are remembered this long: a carrier that stays healthy this long starts again at one base ejection. */
export function openingMemory(s: BreakerSettings): number {
  return 2 * ejectionCap(s);
}

function recent(openings: readonly number[], now: number, s: BreakerSettings): number[] {
  return openings.filter((t) => now - t < openingMemory(s));
}

/** baseEjection × (times opened recently, this one included), capped at maxEjection. */
export function ejectionMs(timesOpened: number, s: BreakerSettings): number {
  return Math.min(s.baseEjection * Math.max(1, timesOpened), ejectionCap(s));
}

function open(openings: readonly number[], now: number, reason: string, s: BreakerSettings): Breaker {
  const all = [...recent(openings, now, s), now];
  const ms = ejectionMs(all.length, s);
  return { kind: 'open', until: now + ms, reason: `${reason}; ejected for ${Math.round(ms / 1000)} s (opening ${all.length})`, openings: all };
}

function record(buckets: readonly Bucket[], now: number, ok: boolean, s: BreakerSettings): Bucket[] {
  const width = Math.max(1, Math.ceil(s.window / BUCKETS));
  const start = Math.floor(now / width) * width;
  const kept = buckets.filter((b) => b.start + width > now - s.window);
  const last = kept[kept.length - 1];
  if (last && last.start === start) {
    kept[kept.length - 1] = { start, ok: last.ok + (ok ? 1 : 0), fail: last.fail + (ok ? 0 : 1) };
  } else {
    kept.push({ start, ok: ok ? 1 : 0, fail: ok ? 0 : 1 });
  }
  return kept;
}

/** Successes and failures inside the window ending at `now`. */
export function windowCounts(buckets: readonly Bucket[], now: number, s: BreakerSettings): { ok: number; fail: number } {
  const width = Math.max(1, Math.ceil(s.window / BUCKETS));
  let ok = 0;
  let fail = 0;
  for (const b of buckets) {
    if (b.start + width > now - s.window) {
      ok += b.ok;
      fail += b.fail;
    }
  }
  return { ok, fail };
}

/** Which rule opens a closed breaker after this failure; null when none does. */
function tripReason(consecutive: number, counts: { ok: number; fail: number }, why: string, s: BreakerSettings): string | null {
  if (s.consecutiveFailures > 0 && consecutive >= s.consecutiveFailures) return `${consecutive} carrier failures in a row (last: ${why})`;
  const total = counts.ok + counts.fail;
  if (total > 0 && total >= s.minVolume && counts.fail / total > s.failureRatio) {
    return `${counts.fail} of ${total} attempts failed within ${Math.round(s.window / 1000)} s (ratio limit ${s.failureRatio})`;
  }
  return null;
}

function needed(s: BreakerSettings): number {
  return Math.max(1, s.recoverySuccesses);
}

/** A call's verdict on the carrier. */
export function onSignal(b: Breaker, signal: Signal, why: string, now: number, s: BreakerSettings): BreakerStep {
  switch (b.kind) {
    case 'closed': {
      if (signal === 'neutral') return { next: b, trip: null };
      const buckets = record(b.buckets, now, signal === 'success', s);
      const consecutive = signal === 'success' ? 0 : b.consecutive + 1;
      const held: Breaker = { kind: 'closed', consecutive, buckets, openings: b.openings };
      const reason = signal === 'failure' ? tripReason(consecutive, windowCounts(buckets, now, s), why, s) : null;
      return reason ? { next: open(b.openings, now, reason, s), trip: { reason, held } } : { next: held, trip: null };
    }
    case 'half-open': {
      if (signal === 'neutral') return { next: { ...b, probeUntil: null }, trip: null };
      if (signal === 'success') {
        const successes = b.successes + 1;
        if (successes >= needed(s)) return { next: { ...CLOSED, openings: b.openings }, trip: null };
        return { next: { ...b, successes, probeUntil: null }, trip: null };
      }
      const reason = `trial call failed (${why})`;
      return { next: open(b.openings, now, reason, s), trip: { reason, held: { ...b, successes: 0, probeUntil: null } } };
    }
    case 'open':
      // a call placed anyway (the route failed open) that got through is evidence enough to start recovering
      if (signal !== 'success') return { next: b, trip: null };
      if (needed(s) <= 1) return { next: { ...CLOSED, openings: b.openings }, trip: null };
      return { next: { kind: 'half-open', successes: 1, probeUntil: null, reason: `a call got through while ejected (${why})`, openings: b.openings }, trip: null };
  }
}

/** Time passing: an ejection ends, a trial call's hold lapses. */
export function onTime(b: Breaker, now: number): Breaker {
  if (b.kind === 'open' && now >= b.until) {
    if (!b.peer) return { kind: 'half-open', successes: 0, probeUntil: null, reason: 'ejection over', openings: b.openings };
    // the dialer that ejected it places the cluster's trial call; this one waits its turn (cluster.trialWait)
    const { server, trialFrom } = b.peer;
    return { kind: 'half-open', successes: 0, probeUntil: trialFrom > now ? trialFrom : null, reason: `ejection by peer ${server} over; ${server} places the first trial call`, openings: b.openings, peer: server };
  }
  if (b.kind === 'half-open' && b.probeUntil !== null && now >= b.probeUntil) return { ...b, probeUntil: null };
  return b;
}

/** The next time onTime would change something, or null. */
export function deadline(b: Breaker): number | null {
  if (b.kind === 'open') return b.until;
  if (b.kind === 'half-open') return b.probeUntil;
  return null;
}

/** A call asks to try the carrier: always yes when closed, never when open, one at a time when half-open. */
export function claim(b: Breaker, now: number, holdMs: number): { next: Breaker; granted: boolean } {
  if (b.kind === 'closed') return { next: b, granted: true };
  if (b.kind === 'open') return { next: b, granted: false };
  if (b.probeUntil !== null && now < b.probeUntil) return { next: b, granted: false };
  return { next: { ...b, probeUntil: now + holdMs }, granted: true };
}

/**
 * Asterisk says a carrier that it had down is reachable again: it recovers the way an ejected one does,
 * one trial call at a time until recoverySuccesses calls went through.
 */
export function recovering(b: Breaker, reason: string, s: BreakerSettings): Breaker {
  if (b.kind !== 'closed' || s.recoverySuccesses <= 0) return b;
  return { kind: 'half-open', successes: 0, probeUntil: null, reason, openings: b.openings };
}

/**
 * Asterisk reaches again a carrier whose breaker opened in the same outage (our failures and qualify saw one
 * cause): the ejection has nothing left to wait for, so recovery starts now, one trial call at a time.
 */
export function endEjection(b: Breaker, reason: string, s: BreakerSettings): Breaker {
  if (b.kind !== 'open') return b;
  if (s.recoverySuccesses <= 0) return { ...CLOSED, openings: b.openings };
  return { kind: 'half-open', successes: 0, probeUntil: null, reason, openings: b.openings };
}
