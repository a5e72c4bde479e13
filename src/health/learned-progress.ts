import type { CarrierConfig } from '../config/types.js';
import { progressTimeoutNow, type ProgressTimeout } from '../routing/progress-timeout.js';
import type { QualityWindow } from './quality-window.js';

/** How long a learned value is reused: it moves with an hour of delays, not with one Dial. */
export const LEARN_EVERY_MS = 1000;

interface Entry {
  readonly at: number;
  readonly config: CarrierConfig;
  readonly value: ProgressTimeout;
}

/**
 * The progress timeout each Dial, `status`, `plan` and /metrics read for a carrier (and prefix group). Working it
 * out merges up to windowMinutes buckets of delays and sorts them, which on every Dial of a busy carrier is work
 * the answer does not need: a learned value is taken again at most once per LEARN_EVERY_MS. A carrier still
 * learning is read afresh every time, so the Dial after its minSamples-th delay already uses what it taught.
 */
export class LearnedProgress {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly window: QualityWindow) {}

  get(c: CarrierConfig, group: string | null, now: number): ProgressTimeout {
    if (c.adaptiveProgress === null) return progressTimeoutNow(this.window, c, group, now);
    const key = group === null ? c.name : `${c.name}\u0000${group}`;
    const e = this.entries.get(key);
    // a reload gives the carrier a new config object: its bounds and factor may have changed
    if (e && e.config === c && e.value.source === 'learned' && now >= e.at && now - e.at < LEARN_EVERY_MS) return e.value;
    const value = progressTimeoutNow(this.window, c, group, now);
    this.entries.set(key, { at: now, config: c, value });
    return value;
  }

  /** A reload: what was worked out for the old carriers and groups is dropped (keys are bounded by the config). */
  clear(): void {
    this.entries.clear();
  }
}
