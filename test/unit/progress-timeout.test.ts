import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ADAPTIVE_PROGRESS_DEFAULTS, CARRIER_DEFAULTS, parseRouting } from '../../src/config/carriers.js';
import type { AdaptiveProgress, CarrierConfig } from '../../src/config/types.js';
import { pddKey, QualityWindow } from '../../src/health/quality-window.js';
import { dialProgressSeconds, progressText, progressTimeout, progressTimeoutNow, type Delays } from '../../src/routing/progress-timeout.js';
import { prng } from '../support/prng.js';

const carrier = (p: Partial<CarrierConfig> = {}): CarrierConfig => ({
  ...CARRIER_DEFAULTS, name: 'a', dial: 'SIP/${number}@a', peer: 'a', adaptiveProgress: ADAPTIVE_PROGRESS_DEFAULTS, budget: null, ...p,
});
const adaptive = (p: Partial<AdaptiveProgress>): AdaptiveProgress => ({ ...ADAPTIVE_PROGRESS_DEFAULTS, ...p });

/** Delays as the quality window keys them. */
function delays(ms: readonly number[]): Delays {
  const pdd = new Map<number, number>();
  for (const d of ms) pdd.set(pddKey(d), (pdd.get(pddKey(d)) ?? 0) + 1);
  return { pdd, alerted: ms.length };
}

/**
 * A carrier's post-dial delays as they look in practice: log-normal around a median (a few carriers and
 * destinations behind one trunk), so the tail is longer than the middle. Seeded: the same delays every run.
 */
function lognormal(n: number, medianMs: number, sigma: number, seed: number): number[] {
  const r = prng(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    out.push(Math.round(medianMs * Math.exp(sigma * z)));
  }
  return out;
}
const NONE = delays([]);

// p99 of a median-500 ms, sigma-0.3 log-normal: 500 × e^(2.33 × 0.3) ≈ 1.0 s, the fast carrier
const FAST = lognormal(400, 500, 0.3, 7);
// the slow destination: normal post-dial delay around 6 s (5.6-6.0 s)
const SLOW = lognormal(200, 5800, 0.015, 11);

describe('progress timeout from a carrier\'s delays (table)', () => {
  const table: { name: string; c: CarrierConfig; group: string | null; g: Delays | null; all: Delays; want: number; source: 'configured' | 'learned'; from?: string | null }[] = [
    { name: 'adaptive off: the configured value, whatever the delays', c: carrier({ adaptiveProgress: null }), group: null, g: null, all: delays(FAST), want: 5, source: 'configured' },
    { name: 'p99 ~1 s × 1.5: 1.5 s', c: carrier(), group: null, g: null, all: delays(FAST), want: 1.5, source: 'learned', from: null },
    { name: 'a 6 s carrier, progressTimeout 8: 9 s (p99 6.0 s × 1.5), within maxSeconds 10', c: carrier({ progressTimeout: 8 }), group: null, g: null, all: delays(SLOW), want: 9, source: 'learned', from: null },
    { name: 'too few delays (49 of 50): configured', c: carrier(), group: null, g: null, all: delays(FAST.slice(0, 49)), want: 5, source: 'configured' },
    { name: 'exactly minSamples: learned', c: carrier(), group: null, g: null, all: delays(FAST.slice(0, 50)), want: 1.5, source: 'learned', from: null },
    { name: 'a carrier that answers in 300 ms: raised to minSeconds', c: carrier(), group: null, g: null, all: delays(Array(80).fill(300)), want: 1.5, source: 'learned', from: null },
    { name: 'a 9 s p99: cut to maxSeconds', c: carrier(), group: null, g: null, all: delays(Array(80).fill(9000)), want: 10, source: 'learned', from: null },
    { name: 'bounds of the operator\'s own: minSeconds 2', c: carrier({ adaptiveProgress: adaptive({ minSeconds: 2 }) }), group: null, g: null, all: delays(FAST), want: 2, source: 'learned', from: null },
    { name: 'p95 × 2 on the fast carrier', c: carrier({ adaptiveProgress: adaptive({ percentile: 95, factor: 2 }) }), group: null, g: null, all: delays(FAST), want: 1.8, source: 'learned', from: null },
    { name: 'the group has its own delays: the group\'s', c: carrier({ progressTimeout: 8 }), group: 'uk', g: delays(SLOW), all: delays([...FAST, ...SLOW]), want: 9, source: 'learned', from: 'uk' },
    { name: 'a fast group of a slow carrier: the group\'s own, shorter', c: carrier({ progressTimeout: 8 }), group: 'us', g: delays(FAST), all: delays([...FAST, ...SLOW]), want: 1.5, source: 'learned', from: 'us' },
    { name: 'a group with too few delays, the carrier slow as a whole: the carrier\'s (longer than configured)', c: carrier({ progressTimeout: 5 }), group: 'uk', g: delays(SLOW.slice(0, 3)), all: delays(SLOW), want: 9, source: 'learned', from: null },
    {
      name: 'a group with too few delays, the carrier fast as a whole: configured, never the shorter carrier-wide value (censoring)',
      c: carrier({ progressTimeout: 8 }), group: 'uk', g: delays(SLOW.slice(0, 3)), all: delays(FAST), want: 8, source: 'configured',
    },
    { name: 'a number in no group of a fast carrier: the carrier\'s', c: carrier({ progressTimeout: 8 }), group: null, g: null, all: delays(FAST), want: 1.5, source: 'learned', from: null },
    { name: 'nothing known at all: configured', c: carrier(), group: 'uk', g: NONE, all: NONE, want: 5, source: 'configured' },
  ];
  for (const row of table) {
    test(row.name, () => {
      const t = progressTimeout(row.c, row.group, row.g, row.all);
      assert.equal(t.seconds, row.want, progressText(t));
      assert.equal(t.source, row.source);
      if (t.source === 'learned') assert.equal(t.group, row.from);
      assert.equal(Math.round(t.seconds * 10), t.seconds * 10, 'whole tenths: what Dial is given');
    });
  }

  test('the fast carrier\'s delays really have a p99 of about 1 s, the slow one\'s about 6 s', () => {
    const fast = progressTimeout(carrier(), null, null, delays(FAST));
    const slow = progressTimeout(carrier(), null, null, delays(SLOW));
    assert.ok(fast.source === 'learned' && fast.percentileMs >= 900 && fast.percentileMs <= 1100, progressText(fast));
    assert.ok(slow.source === 'learned' && slow.percentileMs >= 5800 && slow.percentileMs <= 6200, progressText(slow));
  });

  test('rounded up: never shorter than percentile × factor', () => {
    const t = progressTimeout(carrier({ adaptiveProgress: adaptive({ minSeconds: 0.5, factor: 1.1 }) }), null, null, delays(Array(60).fill(1500)));
    assert.equal(t.seconds, 1.7, '1.5 × 1.1 = 1.65 → 1.7, not 1.6');
    const exact = progressTimeout(carrier({ adaptiveProgress: adaptive({ minSeconds: 0.5 }) }), null, null, delays(Array(60).fill(800)));
    assert.equal(exact.seconds, 1.2, '0.8 × 1.5 is 1.2 in floating point too');
  });

  test('a simultaneous Dial gets the longest of its legs\' values', () => {
    const fast = progressTimeout(carrier(), null, null, delays(FAST));
    const slow = progressTimeout(carrier({ progressTimeout: 8 }), null, null, delays(SLOW));
    assert.equal(dialProgressSeconds([fast, slow]), 9);
    assert.equal(dialProgressSeconds([fast]), 1.5);
  });

  test('what plan and status say', () => {
    assert.equal(progressText(progressTimeout(carrier({ adaptiveProgress: null }), null, null, NONE)), '5 s configured');
    assert.equal(progressText(progressTimeout(carrier(), null, null, delays(FAST.slice(0, 12)))), '5 s configured (adaptive: 12 of 50 delays)');
    assert.equal(progressText(progressTimeout(carrier(), null, null, delays(FAST))), '1.5 s learned (p99 1.0 s × 1.5 over 400 delays)');
    assert.equal(progressText(progressTimeout(carrier(), 'uk', delays(Array(50).fill(300)), NONE)), '1.5 s learned (p99 300 ms × 1.5 over 50 delays, group uk, raised to minSeconds)');
  });
});

describe('progress timeout read from the quality window', () => {
  const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
  const MIN = 60_000;
  const feed = (w: QualityWindow, ms: readonly number[], at: number, group: string | null = null): void => {
    for (const d of ms) w.add({ carrier: 'a', group, endedAt: at, seized: true, answered: true, talkMs: 30_000, pddMs: d });
  };
  const timeouts = (w: QualityWindow, n: number, at: number): void => {
    // a swallowed INVITE: CHANUNAVAIL, no 180/183, so no delay
    for (let i = 0; i < n; i++) w.add({ carrier: 'a', group: null, endedAt: at, seized: true, answered: false, talkMs: 0, pddMs: null });
  };

  test('a burst of timeouts changes nothing: the value stays what the healthy period taught', () => {
    const w = new QualityWindow();
    feed(w, FAST.slice(0, 100), T0);
    const before = progressTimeoutNow(w, carrier(), null, T0 + 5 * MIN);
    timeouts(w, 500, T0 + 5 * MIN);
    const after = progressTimeoutNow(w, carrier(), null, T0 + 6 * MIN);
    assert.equal(before.source, 'learned');
    assert.deepEqual(after, before);
  });

  test('the delays of the last windowMinutes only: older ones age out, back to the configured value', () => {
    const w = new QualityWindow();
    feed(w, FAST.slice(0, 100), T0);
    const c = carrier({ adaptiveProgress: adaptive({ windowMinutes: 10 }) });
    assert.equal(progressTimeoutNow(w, c, null, T0 + 9 * MIN).source, 'learned');
    assert.deepEqual(progressTimeoutNow(w, c, null, T0 + 11 * MIN), { source: 'configured', seconds: 5, samples: 0, minSamples: 50 });
  });

  test('the current minute counts: a delay of this minute is there for the next call', () => {
    const w = new QualityWindow();
    feed(w, Array(50).fill(800), T0 + 30_000);
    assert.equal(progressTimeoutNow(w, carrier(), null, T0 + 30_001).seconds, 1.5);
  });

  test('a group\'s own delays, and a number in no group', () => {
    const w = new QualityWindow();
    feed(w, SLOW.slice(0, 60), T0, 'uk');
    feed(w, FAST, T0, 'us');
    const c = carrier({ progressTimeout: 8 });
    assert.equal(progressTimeoutNow(w, c, 'uk', T0 + MIN).seconds, 9);
    assert.equal(progressTimeoutNow(w, c, 'us', T0 + MIN).seconds, 1.5);
    assert.equal(progressTimeoutNow(w, c, null, T0 + MIN).source, 'learned');
  });
});

describe('adaptiveProgress validation: refused with a clear error, never read as something else', () => {
  const routes = [{ name: 'r', carriers: ['a'] }];
  const one = (adaptiveProgress: unknown, extra: Record<string, unknown> = {}) => parseRouting([{ name: 'a', dial: 'SIP/${number}@a', adaptiveProgress, ...extra }], routes);
  test('absent or null: off; {} : on with every default', () => {
    for (const v of [undefined, null]) {
      const r = one(v);
      assert.ok(r.ok);
      assert.equal(r.routing.carriers.get('a')?.adaptiveProgress, null);
    }
    const r = one({});
    assert.ok(r.ok);
    assert.deepEqual(r.routing.carriers.get('a')?.adaptiveProgress, ADAPTIVE_PROGRESS_DEFAULTS);
    const own = one({ percentile: 95, factor: 2, minSeconds: 1, maxSeconds: 8.5, minSamples: 20, windowMinutes: 15 });
    assert.ok(own.ok);
    assert.deepEqual(own.routing.carriers.get('a')?.adaptiveProgress, { percentile: 95, factor: 2, minSeconds: 1, maxSeconds: 8.5, minSamples: 20, windowMinutes: 15 });
  });
  const bad: [string, unknown, RegExp, Record<string, unknown>?][] = [
    ['true is not an object', true, /adaptiveProgress = true: must be an object such as \{\}/],
    ['a string percentile', { percentile: '99' }, /adaptiveProgress\.percentile = "99": must be a percentile from 50 to 100/],
    ['percentile 0.99 (a share, not a percent)', { percentile: 0.99 }, /percentile = 0\.99: must be a percentile from 50 to 100/],
    ['factor below 1', { factor: 0.8 }, /factor = 0\.8: must be a factor from 1 to 10/],
    ['minSeconds in hundredths', { minSeconds: 1.25 }, /minSeconds = 1\.25: must be whole tenths/],
    ['minSeconds above maxSeconds', { minSeconds: 6, maxSeconds: 4 }, /minSeconds = 6: must not be above maxSeconds \(4\)/],
    ['maxSeconds 0', { maxSeconds: 0 }, /maxSeconds = 0: must be seconds from 0\.5 to 3600/],
    ['minSamples 0', { minSamples: 0 }, /minSamples = 0: must be a whole number from 1/],
    ['minSamples 2.5', { minSamples: 2.5 }, /minSamples = 2\.5: must be a whole number/],
    ['a window longer than the quality window keeps', { windowMinutes: 120 }, /windowMinutes = 120: must be a whole number from 1 to 60/],
    ['a misspelt key', { percentil: 99 }, /adaptiveProgress\.percentil = 99: unknown key/],
    ['progressTimeout 0 (timer off) has nothing to start from', {}, /adaptiveProgress = \{\}: needs a progressTimeout above 0/, { progressTimeout: 0 }],
  ];
  for (const [name, v, re, extra] of bad) {
    test(name, () => {
      const r = one(v, extra);
      assert.ok(!r.ok, 'refused');
      assert.match(r.problems.join('\n'), re);
    });
  }
});
