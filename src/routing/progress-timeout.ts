import type { CarrierConfig } from '../config/types.js';
import { nearestRank, type QualityFigures, type QualityWindow } from '../health/quality-window.js';

/**
 * The progress timeout a Dial of one carrier gets (issue 16). Fixed, it is the configured `progressTimeout`. With
 * `adaptiveProgress`, it is learned from the carrier's own post-dial delays: the percentile of the delays of the
 * last windowMinutes × factor, rounded up to tenths, kept within [minSeconds, maxSeconds].
 *
 * Censoring: a Dial cut by the progress timer has no delay (no 180/183 came), so the figures only ever hold delays
 * shorter than the timeout in force. Two things follow, and both are wanted:
 * - A carrier that starts swallowing INVITEs adds no delay at all: the value stays what its healthy period taught,
 *   and a burst of timeouts cannot pull it down (nor up). Once the healthy delays age out of the window it is
 *   back to the configured value (by then the breaker has long ejected the carrier).
 * - A destination whose normal delay is above the timeout in force is never seen. So the configured value is the
 *   longest delay one accepts (the starting point and the fallback), the learned one shortens it where the carrier
 *   is fast; and a prefix group without delays of its own never inherits a carrier-wide value shorter than the
 *   configured one (it may be the carrier's slow destination, whose delays that value would cut before they are
 *   ever counted). A carrier-wide value longer than the configured one is inherited: a slow carrier is slow there too.
 */
export type ProgressTimeout =
  | {
      readonly source: 'configured';
      readonly seconds: number;
      /** Delays known (0 with adaptive mode off) and the count adaptive mode waits for (0 = off). */
      readonly samples: number;
      readonly minSamples: number;
    }
  | {
      readonly source: 'learned';
      readonly seconds: number;
      /** The prefix group whose delays taught it; null = the carrier's delays as a whole. */
      readonly group: string | null;
      readonly percentile: number;
      /** The percentile's delay, ms (a pddKey: exact below 1 s, to 100 ms above). */
      readonly percentileMs: number;
      readonly factor: number;
      readonly samples: number;
      /** Which bound cut percentile × factor, if one did. */
      readonly bound: 'min' | 'max' | null;
    };

/** The delays a decision reads: pddKey → count, and the count. */
export type Delays = Pick<QualityFigures, 'pdd' | 'alerted'>;

/** Rounded up to tenths: never shorter than percentile × factor (a float such as 1.5 × 1.1 must not land below). */
function upToTenths(seconds: number): number {
  return Math.ceil(Math.round(seconds * 1e6) / 1e5) / 10;
}

function learned(c: CarrierConfig, d: Delays, group: string | null): ProgressTimeout | null {
  const a = c.adaptiveProgress;
  if (a === null || d.alerted < a.minSamples) return null;
  const pMs = nearestRank(d.pdd, a.percentile);
  if (pMs === null) return null;
  const raw = upToTenths((pMs / 1000) * a.factor);
  const seconds = Math.min(Math.max(raw, a.minSeconds), a.maxSeconds);
  const bound = raw < a.minSeconds ? 'min' : raw > a.maxSeconds ? 'max' : null;
  return { source: 'learned', seconds, group, percentile: a.percentile, percentileMs: pMs, factor: a.factor, samples: d.alerted, bound };
}

/**
 * The progress timeout of one carrier for a number in `group` (null = in none): the group's own delays when it has
 * minSamples of them, else the carrier's as a whole (for a group: only when not shorter than the configured value,
 * see above), else the configured value. Pure: the caller passes the figures of the window it chose.
 */
export function progressTimeout(c: CarrierConfig, group: string | null, groupDelays: Delays | null, carrierDelays: Delays): ProgressTimeout {
  const configured: ProgressTimeout = { source: 'configured', seconds: c.progressTimeout, samples: 0, minSamples: 0 };
  const a = c.adaptiveProgress;
  if (a === null) return configured;
  if (group !== null && groupDelays !== null) {
    const own = learned(c, groupDelays, group);
    if (own) return own;
  }
  const whole = learned(c, carrierDelays, null);
  if (whole && (group === null || whole.seconds >= c.progressTimeout)) return whole;
  const known = group !== null && groupDelays !== null ? groupDelays.alerted : carrierDelays.alerted;
  return { ...configured, samples: known, minSamples: a.minSamples };
}

/** The same, read from the daemon's quality window over the carrier's windowMinutes up to now. */
export function progressTimeoutNow(window: QualityWindow, c: CarrierConfig, group: string | null, now: number): ProgressTimeout {
  const a = c.adaptiveProgress;
  if (a === null) return progressTimeout(c, group, null, { pdd: new Map(), alerted: 0 });
  // [now − window, now]: the current minute's bucket counts (figures() takes the buckets that start in the span)
  const from = now - a.windowMinutes * 60_000;
  const to = now + 1;
  return progressTimeout(c, group, group === null ? null : window.figures(c.name, group, from, to), window.figures(c.name, null, from, to));
}

/** The timeout a Dial of several carriers at once gets: the longest of its legs', so no leg is cut before its own. */
export function dialProgressSeconds(timeouts: readonly ProgressTimeout[]): number {
  return Math.max(0, ...timeouts.map((t) => t.seconds));
}

/** `1.5 s learned (p99 1.0 s × 1.5 over 60 delays, group uk)`, `5 s configured (adaptive: 12 of 50 delays)`, `5 s configured`. */
export function progressText(t: ProgressTimeout): string {
  if (t.source === 'configured') return t.minSamples === 0 ? `${t.seconds} s configured` : `${t.seconds} s configured (adaptive: ${t.samples} of ${t.minSamples} delays)`;
  const p = t.percentileMs < 1000 ? `${t.percentileMs} ms` : `${(t.percentileMs / 1000).toFixed(1)} s`;
  const bound = t.bound === 'min' ? ', raised to minSeconds' : t.bound === 'max' ? ', cut to maxSeconds' : '';
  return `${t.seconds} s learned (p${t.percentile} ${p} × ${t.factor} over ${t.samples} delays${t.group !== null ? `, group ${t.group}` : ''}${bound})`;
}
