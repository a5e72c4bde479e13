import type { QualitySettings } from '../config/schema.js';
import { nearestRank, shortCallShare, type QualityFigures } from './quality-window.js';
import type { QualityState } from './types.js';

/**
 * Quality ordering as pure functions: a carrier's recent figures against its own baseline (and absolute limits)
 * decide whether it is demoted, dialed after the healthy carriers of a route. Demotion is never ejection: the
 * carrier stays in every plan, so it is still dialed when the others are down, skipped or at capacity.
 *
 * Why these rules: an answer-seizure ratio that halves, a post-dial delay that doubles by seconds, or answered
 * calls that end at once (fake answers) are what a carrier looks like between "healthy" and "dead"; each is judged
 * only on a volume where chance cannot produce it, so a quiet carrier is never judged at all.
 */

/** A window's figures, reduced to what judgement needs. */
export interface QualitySummary {
  /** Dials that reached the carrier's own final word (the ASR's denominator). */
  readonly seized: number;
  readonly answered: number;
  /** answered / seized; null with nothing seized. */
  readonly asr: number | null;
  /** Dials that rang or made progress (the post-dial delay's count). */
  readonly alerted: number;
  /** Post-dial delay p50 (nearest rank), ms; null when nothing rang. */
  readonly pddP50: number | null;
  /** Share of answered calls that talked less than health.quality.shortCall; null with nothing answered. */
  readonly shortShare: number | null;
}

export function summarize(f: QualityFigures, shortCallMs: number): QualitySummary {
  return { seized: f.seized, answered: f.answered, asr: f.asr, alerted: f.alerted, pddP50: nearestRank(f.pdd, 50), shortShare: shortCallShare(f, shortCallMs) };
}

export const EMPTY_SUMMARY: QualitySummary = { seized: 0, answered: 0, asr: null, alerted: 0, pddP50: null, shortShare: null };

/** Where a carrier (or a carrier for one prefix group) stands, and why. */
export interface QualityJudgement {
  readonly state: QualityState;
  /** Epoch ms this state began; 0 = never judged otherwise since start. */
  readonly since: number;
  /** The figures that decided it, as the carrier event, status and `plan` show them. */
  readonly reason: string;
  readonly recent: QualitySummary;
  /**
   * The baseline judged against. While demoted it is the one of the moment of demotion: the bad minutes slide into
   * the baseline window as time passes, and a carrier must win back its healthy figures, not its own bad ones.
   */
  readonly baseline: QualitySummary;
}

export interface JudgeResult {
  readonly judgement: QualityJudgement;
  /** The state changed (a demotion or a return): the caller writes a carrier event. */
  readonly changed: boolean;
}

export const NOT_JUDGED: QualityJudgement = { state: 'ok', since: 0, reason: 'not judged yet', recent: EMPTY_SUMMARY, baseline: EMPTY_SUMMARY };

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

function ms(x: number): string {
  return x < 1000 ? `${Math.round(x)} ms` : `${(Math.round(x / 100) / 10).toFixed(1)} s`;
}

/**
 * The figures that are degraded, each as text with the limit it crossed. `returning`: the limits a demoted carrier
 * must clear to return, each margin shrunk by recoverMargin (the hysteresis): demoted below 50 % of its baseline
 * ASR with recoverMargin 0.5, it returns at 75 %; an absolute limit moves by the same share toward the healthy side.
 */
export function degraded(recent: QualitySummary, base: QualitySummary, p: QualitySettings, returning: boolean): string[] {
  const r = returning ? p.recoverMargin : 0;
  const out: string[] = [];
  const baseOk = base.seized >= p.minBaselineDials && base.seized > 0;
  if (recent.asr !== null) {
    if (p.asrDrop > 0 && baseOk && base.asr !== null) {
      const limit = base.asr * (1 - p.asrDrop * (1 - r));
      if (recent.asr < limit) out.push(`ASR ${pct(recent.asr)} of ${recent.seized} vs baseline ${pct(base.asr)} of ${base.seized} (limit ${pct(limit)})`);
    }
    if (p.asrFloor > 0) {
      const limit = Math.min(1, p.asrFloor * (1 + r));
      if (recent.asr < limit) out.push(`ASR ${pct(recent.asr)} of ${recent.seized} below the floor ${pct(limit)}`);
    }
  }
  if (recent.pddP50 !== null && recent.alerted >= p.minSamples) {
    if (p.pddRise > 0 && baseOk && base.pddP50 !== null && base.alerted >= p.minSamples) {
      // both must hold: doubling 300 ms is no demotion, nor is 20 s to 22 s
      const limit = Math.max(base.pddP50 * (1 + (p.pddRise / 100) * (1 - r)), base.pddP50 + p.pddRiseMs * (1 - r));
      if (recent.pddP50 > limit) out.push(`PDD p50 ${ms(recent.pddP50)} vs baseline ${ms(base.pddP50)} (limit ${ms(limit)})`);
    }
    if (p.pddCeiling > 0) {
      const limit = p.pddCeiling * (1 - r);
      if (recent.pddP50 > limit) out.push(`PDD p50 ${ms(recent.pddP50)} above the ceiling ${ms(limit)}`);
    }
  }
  if (recent.shortShare !== null && recent.answered >= p.minSamples) {
    const short = `short calls (< ${ms(p.shortCall)}) ${pct(recent.shortShare)} of ${recent.answered} answered`;
    if (p.shortShareRise > 0 && baseOk && base.shortShare !== null && base.answered >= p.minSamples) {
      const limit = base.shortShare + p.shortShareRise * (1 - r);
      if (recent.shortShare > limit) out.push(`${short} vs baseline ${pct(base.shortShare)} (limit ${pct(limit)})`);
    }
    if (p.shortShareCeiling > 0) {
      const limit = p.shortShareCeiling * (1 - r);
      if (recent.shortShare > limit) out.push(`${short} above the ceiling ${pct(limit)}`);
    }
  }
  return out;
}

/** `ASR 45% of 120, PDD p50 2.1 s, short 4% (baseline 46% of 600, 2.0 s, 5%)`: what status shows of a carrier in order. */
export function figuresText(recent: QualitySummary, base: QualitySummary): string {
  const one = (s: QualitySummary): string =>
    [s.asr === null ? 'ASR -' : `ASR ${pct(s.asr)} of ${s.seized}`, s.pddP50 === null ? 'PDD -' : `PDD p50 ${ms(s.pddP50)}`, s.shortShare === null ? 'short -' : `short ${pct(s.shortShare)}`].join(', ');
  return `${one(recent)} (baseline ${base.seized === 0 ? 'none' : one(base)})`;
}

/**
 * One judgement of one carrier (or carrier and prefix group): `prev` is the last one, `recent` the recent window's
 * figures, `baseline` the window before it. A carrier that is ok is demoted when a rule trips on enough volume; a
 * demoted one returns after minDemoted when its figures clear the shrunk limits, or when its recent window no longer
 * holds minDials (demoted carriers get little traffic: without this one would stay demoted for want of evidence,
 * and a return lets it earn its place again on real calls, as an ejection's end does).
 */
export function judgeQuality(prev: QualityJudgement, recent: QualitySummary, baseline: QualitySummary, p: QualitySettings, now: number): JudgeResult {
  const stay = (j: QualityJudgement): JudgeResult => ({ judgement: j, changed: false });
  const to = (state: QualityState, reason: string, base: QualitySummary): JudgeResult => {
    const changed = state !== prev.state;
    return { judgement: { state, since: changed ? now : prev.since, reason, recent, baseline: base }, changed };
  };
  if (!p.enabled) return to('ok', prev.state === 'demoted' ? 'returned: quality ordering turned off' : 'quality ordering off', baseline);
  const few = recent.seized < p.minDials;
  if (prev.state === 'demoted') {
    const base = prev.baseline;
    if (now - prev.since < p.minDemoted) return stay({ ...prev, recent });
    if (few) return to('ok', `returned: too few Dials to judge (${recent.seized} seized, ${p.minDials} needed)`, baseline);
    const still = degraded(recent, base, p, true);
    if (still.length > 0) return stay({ ...prev, recent, reason: `demoted: ${still.join('; ')}` });
    return to('ok', `returned: figures recovered: ${figuresText(recent, base)}`, baseline);
  }
  if (few) return to('ok', `too few Dials to judge (${recent.seized} seized, ${p.minDials} needed)`, baseline);
  const trips = degraded(recent, baseline, p, false);
  if (trips.length > 0) return to('demoted', `demoted: ${trips.join('; ')}`, baseline);
  return to('ok', figuresText(recent, baseline), baseline);
}

/** The recent and the baseline spans at `now`: [now - recent, now) and the baselineWindow before it. */
export function spans(p: Pick<QualitySettings, 'recentWindow' | 'baselineWindow'>, now: number): { recent: [number, number]; baseline: [number, number] } {
  const split = now - p.recentWindow;
  return { recent: [split, now], baseline: [split - p.baselineWindow, split] };
}
