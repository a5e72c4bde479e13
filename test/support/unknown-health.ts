import type { CarrierConfig } from '../../src/config/types.js';
import type { AttemptSignal, HealthSnapshot, HealthView } from '../../src/health/types.js';

/** Health with no information: every enabled carrier `unknown`, so routes keep their configured order. */
export function unknownHealth(carriers: () => Iterable<CarrierConfig>): HealthView {
  return {
    snapshot(): HealthSnapshot {
      const m = new Map<string, { state: 'unknown' | 'disabled'; since: number; reason: string }>();
      for (const c of carriers()) m.set(c.name, { state: c.enabled ? 'unknown' : 'disabled', since: 0, reason: c.enabled ? 'no health feed' : 'disabled in config' });
      return m;
    },
    snapshotFor() {
      return this.snapshot();
    },
    claimProbe: () => true,
    claimSuspect: () => 'free' as const,
    recordAttempt: (_s: AttemptSignal) => undefined,
  };
}
