import type { QualitySettings } from '../config/schema.js';
import { judgeQuality, NOT_JUDGED, spans, summarize, type QualityJudgement } from './quality.js';
import type { QualityWindow } from './quality-window.js';
import type { QualityState } from './types.js';

/**
 * A judgement is taken again at most this often per carrier (and per carrier and group): a call costs a map lookup,
 * and a busy dialer's hundreds of calls a second cost one figures() pass per carrier per second.
 */
export const JUDGE_EVERY_MS = 1000;

/** A demotion or a return: the daemon writes it as a carrier event (source quality) and logs it. */
export interface QualityChange {
  readonly at: number;
  readonly carrier: string;
  /** The prefix group the judgement is for; null = the carrier as a whole. */
  readonly group: string | null;
  readonly from: QualityState;
  readonly to: QualityState;
  readonly judgement: QualityJudgement;
}

/** A carrier's standing as status shows it: as a whole, and for each configured prefix group. */
export interface CarrierQuality {
  readonly judgement: QualityJudgement;
  readonly groups: readonly { readonly group: string; readonly judgement: QualityJudgement }[];
}

interface Entry {
  readonly at: number;
  readonly judgement: QualityJudgement;
}

/** A demotion's figures without its leading word: the row says `demoted: ` itself (src/calls/failover-call.ts). */
const figuresOf = (j: QualityJudgement): string => j.reason.replace(/^demoted: /, '');

const keyOf = (carrier: string, group: string | null): string => (group === null ? carrier : `${carrier}\u0000${group}`);

/**
 * The imperative side of quality ordering: the judgement of every carrier (and carrier × prefix group) taken lazily
 * from the daemon's QualityWindow, at most once per JUDGE_EVERY_MS, by whoever asks first (a call, status, plan,
 * /metrics). A change is reported once, through onChange, at the moment it is judged.
 */
export class QualityLedger {
  private readonly entries = new Map<string, Entry>();
  private groups: ReadonlySet<string>;

  constructor(
    private readonly window: QualityWindow,
    private policy: QualitySettings,
    groups: readonly string[],
    private readonly onChange: (c: QualityChange) => void,
  ) {
    this.groups = new Set(groups);
  }

  /**
   * Why the carrier goes behind the healthy ones for a number in `group` (null: in no group), or null when it does
   * not. A demotion for a group demotes the carrier for that group's numbers only.
   */
  demotion(carrier: string, group: string | null, now: number): string | null {
    if (!this.policy.enabled && this.entries.size === 0) return null;
    const whole = this.judge(carrier, null, now);
    if (whole.state === 'demoted') return figuresOf(whole);
    if (group === null || !this.groups.has(group)) return null;
    const g = this.judge(carrier, group, now);
    return g.state === 'demoted' ? `prefix group ${group}: ${figuresOf(g)}` : null;
  }

  /** The judgement now, taken again if the last one is JUDGE_EVERY_MS old (or the clock went back). */
  judge(carrier: string, group: string | null, now: number): QualityJudgement {
    const key = keyOf(carrier, group);
    const e = this.entries.get(key);
    if (e && now >= e.at && now - e.at < JUDGE_EVERY_MS) return e.judgement;
    const p = this.policy;
    const s = spans(p, now);
    const recent = summarize(this.window.figures(carrier, group, s.recent[0], s.recent[1]), p.shortCall);
    const baseline = summarize(this.window.figures(carrier, group, s.baseline[0], s.baseline[1]), p.shortCall);
    const prev = e?.judgement ?? NOT_JUDGED;
    const r = judgeQuality(prev, recent, baseline, p, now);
    this.entries.set(key, { at: now, judgement: r.judgement });
    if (r.changed) this.onChange({ at: now, carrier, group, from: prev.state, to: r.judgement.state, judgement: r.judgement });
    return r.judgement;
  }

  /** Every carrier's standing now, for status and /metrics (groups: the configured ones). */
  snapshot(carriers: Iterable<string>, now: number): Map<string, CarrierQuality> {
    const out = new Map<string, CarrierQuality>();
    for (const c of carriers) out.set(c, { judgement: this.judge(c, null, now), groups: [...this.groups].map((g) => ({ group: g, judgement: this.judge(c, g, now) })) });
    return out;
  }

  /**
   * A reload: the new policy for the next judgements (demoted carriers keep their demotion time and baseline), and
   * the carriers and groups still configured. Turning quality ordering off returns every demoted carrier now.
   */
  configure(policy: QualitySettings, carriers: ReadonlySet<string>, groups: readonly string[], now: number): void {
    this.policy = policy;
    this.groups = new Set(groups);
    for (const key of [...this.entries.keys()]) {
      const [carrier, group] = key.split('\u0000') as [string, string | undefined];
      if (!carriers.has(carrier) || (group !== undefined && !this.groups.has(group))) this.entries.delete(key);
    }
    if (!policy.enabled) {
      for (const [key, e] of [...this.entries]) {
        if (e.judgement.state !== 'demoted') continue;
        const [carrier, group] = key.split('\u0000') as [string, string | undefined];
        // judged again at once: the return is reported like any other
        this.entries.set(key, { at: Number.NEGATIVE_INFINITY, judgement: e.judgement });
        this.judge(carrier, group ?? null, now);
      }
      this.entries.clear();
    }
  }
}
