import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { QualitySettings } from '../../src/config/schema.js';
import type { CarrierConfig } from '../../src/config/types.js';
import { orderNotes } from '../../src/routing/order-notes.js';
import type { PlannedTarget } from '../../src/routing/plan.js';
import { degraded, judgeQuality, NOT_JUDGED, spans, summarize, type QualityJudgement, type QualitySummary } from '../../src/health/quality.js';
import { QualityWindow, type QualitySample } from '../../src/health/quality-window.js';

/** The shipped defaults (src/config/schema.ts health.quality), so the table judges what an operator gets. */
const POLICY: QualitySettings = {
  enabled: true,
  recentWindow: 900_000,
  baselineWindow: 3_600_000,
  minDials: 50,
  minBaselineDials: 100,
  minSamples: 20,
  asrDrop: 0.5,
  asrFloor: 0,
  pddRise: 100,
  pddRiseMs: 2000,
  pddCeiling: 0,
  shortCall: 6000,
  shortShareRise: 0.25,
  shortShareCeiling: 0,
  recoverMargin: 0.5,
  minDemoted: 300_000,
};

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const MIN = 60_000;

/** A window's figures as a carrier of a VICIdial campaign shows them: seized Dials, ASR, PDD p50, short-call share. */
function fig(seized: number, asr: number, pddP50: number | null = 2000, shortShare = 0.05): QualitySummary {
  const answered = Math.round(seized * asr);
  return { seized, answered, asr: seized === 0 ? null : answered / seized, alerted: pddP50 === null ? 0 : seized, pddP50, shortShare: answered === 0 ? null : shortShare };
}

const HEALTHY_BASE = fig(400, 0.45);

function demotedAt(at: number, reason = 'demoted: ASR'): QualityJudgement {
  return { state: 'demoted', since: at, reason, recent: fig(60, 0.2), baseline: HEALTHY_BASE };
}

describe('judgeQuality: demotion', () => {
  const table: [string, QualitySummary, QualitySummary, Partial<QualitySettings>, 'ok' | 'demoted', RegExp][] = [
    ['healthy figures stay ok and say so', fig(120, 0.44), HEALTHY_BASE, {}, 'ok', /^ASR 44% of 120, PDD p50 2\.0 s, short 5% \(baseline ASR 45% of 400/],
    ['answer rate halves (45% -> 20%) on 60 seized Dials', fig(60, 0.2), HEALTHY_BASE, {}, 'demoted', /^demoted: ASR 20% of 60 vs baseline 45% of 400 \(limit 23%\)$/],
    ['a drop that does not halve (45% -> 30%) is no demotion', fig(120, 0.3), HEALTHY_BASE, {}, 'ok', /^ASR 30%/],
    ['the same halving on 49 seized Dials: too few to judge', fig(49, 0.2), HEALTHY_BASE, {}, 'ok', /^too few Dials to judge \(49 seized, 50 needed\)$/],
    ['halving against a baseline of 99 Dials: the relative rule does not count', fig(60, 0.2), fig(99, 0.45), {}, 'ok', /baseline ASR 45% of 99/],
    ['PDD 2 s -> 8 s', fig(80, 0.45, 8000), HEALTHY_BASE, {}, 'demoted', /^demoted: PDD p50 8\.0 s vs baseline 2\.0 s \(limit 4\.0 s\)$/],
    ['PDD 300 ms -> 900 ms: tripled but under pddRiseMs', fig(80, 0.45, 900), fig(400, 0.45, 300), {}, 'ok', /PDD p50 900 ms/],
    ['PDD 2 s -> 3.5 s: under double', fig(80, 0.45, 3500), HEALTHY_BASE, {}, 'ok', /PDD p50 3\.5 s/],
    ['short calls jump from 5% to 40% of answered', fig(100, 0.45, 2000, 0.4), HEALTHY_BASE, {}, 'demoted', /^demoted: short calls \(< 6\.0 s\) 40% of 45 answered vs baseline 5% \(limit 30%\)$/],
    ['short calls jump on 15 answered: under minSamples', fig(50, 0.3, 2000, 0.6), HEALTHY_BASE, {}, 'ok', /short 60%/],
    ['a baseline that is itself bad: the relative rule sees no drop, the floor does', fig(100, 0.08), fig(400, 0.09), { asrFloor: 0.15 }, 'demoted', /^demoted: ASR 8% of 100 below the floor 15%$/],
    ['a bad baseline without a floor: no demotion', fig(100, 0.08), fig(400, 0.09), {}, 'ok', /^ASR 8%/],
    ['no baseline at all: the PDD ceiling still judges', fig(60, 0.45, 9000), fig(0, 0), { pddCeiling: 6000 }, 'demoted', /^demoted: PDD p50 9\.0 s above the ceiling 6\.0 s$/],
    ['several figures degraded: each is named', fig(60, 0.2, 8000), HEALTHY_BASE, {}, 'demoted', /^demoted: ASR 20% .*; PDD p50 8\.0 s/],
    ['quality ordering off: never demoted', fig(60, 0.2), HEALTHY_BASE, { enabled: false }, 'ok', /^quality ordering off$/],
    ['asrDrop 0 turns the ASR rule off', fig(60, 0.2), HEALTHY_BASE, { asrDrop: 0 }, 'ok', /^ASR 20%/],
  ];
  for (const [name, recent, base, over, want, reason] of table) {
    test(name, () => {
      const r = judgeQuality(NOT_JUDGED, recent, base, { ...POLICY, ...over }, T0);
      assert.equal(r.judgement.state, want);
      assert.match(r.judgement.reason, reason);
      assert.equal(r.changed, want === 'demoted');
      if (want === 'demoted') assert.equal(r.judgement.since, T0);
    });
  }
});

describe('judgeQuality: return, with hysteresis', () => {
  const since = T0;
  const table: [string, number, QualitySummary, Partial<QualitySettings>, 'ok' | 'demoted', RegExp][] = [
    ['recovered figures before minDemoted: still demoted', 4 * MIN, fig(80, 0.45), {}, 'demoted', /^demoted: ASR$/],
    ['after minDemoted, ASR back to 30% (above the 23% demotion limit, under the 34% return limit): stays', 6 * MIN, fig(80, 0.3), {}, 'demoted', /^demoted: ASR 30% of 80 vs baseline 45% of 400 \(limit 34%\)$/],
    ['after minDemoted, ASR back to 40%: returns, with the figures', 6 * MIN, fig(80, 0.4), {}, 'ok', /^returned: figures recovered: ASR 40% of 80, .*\(baseline ASR 45% of 400/],
    ['after minDemoted with too few Dials to judge: returns to earn its place again', 6 * MIN, fig(12, 0.1), {}, 'ok', /^returned: too few Dials to judge \(12 seized, 50 needed\)$/],
    ['recoverMargin 0: the demotion limit is the return limit', 6 * MIN, fig(80, 0.3), { recoverMargin: 0 }, 'ok', /^returned/],
    ['a floor-demoted carrier returns only above floor × (1 + recoverMargin)', 6 * MIN, fig(100, 0.25), { asrFloor: 0.2, asrDrop: 0 }, 'demoted', /^demoted: ASR 25% of 100 below the floor 30%$/],
    ['turning quality ordering off returns every demoted carrier at once', 1 * MIN, fig(80, 0.2), { enabled: false }, 'ok', /^returned: quality ordering turned off$/],
  ];
  for (const [name, after, recent, over, want, reason] of table) {
    test(name, () => {
      // the baseline now is the bad minutes that slid into it: a demoted carrier is judged against the frozen one
      const r = judgeQuality(demotedAt(since), recent, fig(400, 0.2), { ...POLICY, ...over }, since + after);
      assert.equal(r.judgement.state, want);
      assert.match(r.judgement.reason, reason);
      assert.equal(r.changed, want === 'ok');
      assert.equal(r.judgement.since, want === 'ok' ? since + after : since);
      if (want === 'demoted') assert.deepEqual(r.judgement.baseline, HEALTHY_BASE, 'the baseline of the demotion stands');
    });
  }

  test('no flapping: figures between the two limits keep each state where it is', () => {
    // 30% ASR against 45%: above the demotion limit (22.5%), under the return limit (33.75%)
    const between = fig(80, 0.3);
    const ok = judgeQuality(NOT_JUDGED, between, HEALTHY_BASE, POLICY, T0);
    assert.equal(ok.judgement.state, 'ok');
    let j = demotedAt(T0);
    for (let m = 1; m <= 30; m++) {
      const r = judgeQuality(j, between, HEALTHY_BASE, POLICY, T0 + m * MIN);
      assert.equal(r.changed, false, `minute ${m}`);
      j = r.judgement;
    }
    assert.equal(j.state, 'demoted');
  });
});

describe('degraded: the limits', () => {
  test('returning shrinks each margin by recoverMargin', () => {
    assert.deepEqual(degraded(fig(80, 0.3), HEALTHY_BASE, POLICY, false), []);
    assert.equal(degraded(fig(80, 0.3), HEALTHY_BASE, POLICY, true).length, 1);
    // PDD: demoted above max(2 s × 2, 2 s + 2 s) = 4 s, back at or below max(2 s × 1.5, 2 s + 1 s) = 3 s
    assert.equal(degraded(fig(80, 0.45, 3500), HEALTHY_BASE, POLICY, false).length, 0);
    assert.match(degraded(fig(80, 0.45, 3500), HEALTHY_BASE, POLICY, true)[0] ?? '', /limit 3\.0 s/);
  });
});

describe('summarize and spans from a QualityWindow', () => {
  const sample = (over: Partial<QualitySample>): QualitySample => ({ carrier: 'a', group: null, endedAt: T0, seized: true, answered: false, talkMs: 0, pddMs: null, ...over });

  test('the recent window and the baseline before it do not overlap, and the window keeps both', () => {
    const p = { recentWindow: 15 * MIN, baselineWindow: 60 * MIN };
    const w = new QualityWindow(MIN, 76);
    const now = T0 + 30_000;
    // one Dial per minute for 80 minutes, answered in the last 15 only
    for (let m = 0; m < 80; m++) w.add(sample({ endedAt: now - m * MIN, answered: m < 15, talkMs: m < 15 ? 2000 : 0, pddMs: 1500 }));
    const s = spans(p, now);
    const recent = summarize(w.figures('a', null, ...s.recent), 6000);
    const base = summarize(w.figures('a', null, ...s.baseline), 6000);
    assert.deepEqual([recent.seized, recent.answered, recent.pddP50, recent.shortShare], [15, 15, 1500, 1]);
    assert.deepEqual([base.seized, base.answered, base.asr], [60, 0, 0]);
  });
});

describe('orderNotes: the trace of a reordered carrier', () => {
  const t = (name: string): PlannedTarget => ({ carrier: { name } as CarrierConfig, health: 'up' });
  const [a, b, c] = [t('a'), t('b'), t('c')];
  const table: [string, PlannedTarget[], PlannedTarget[], [string, string][], [string, string][]][] = [
    ['the first carrier demoted: it says why, the ones moved ahead say of which', [a, b, c], [b, c, a], [['a', 'ASR 20%']], [['b', 'moved ahead of demoted a'], ['c', 'moved ahead of demoted a'], ['a', 'demoted: ASR 20%']]],
    ['the last carrier demoted: nobody moved, it still says why', [a, b, c], [a, b, c], [['c', 'ASR 20%']], [['c', 'demoted: ASR 20%']]],
    ['two demoted: a carrier ahead of both names both', [a, b, c], [c, a, b], [['a', 'x'], ['b', 'y']], [['c', 'moved ahead of demoted a, b'], ['a', 'demoted: x'], ['b', 'demoted: y']]],
  ];
  for (const [name, before, after, why, want] of table) {
    test(name, () => assert.deepEqual([...orderNotes(before, after, new Map(why))], want));
  }
});
