import type { AttemptSignal, HealthView } from '../health/types.js';
import type { PlannedTarget } from '../routing/plan.js';
import type { Verdict } from '../routing/verdict.js';

/**
 * What a call tells the health map. A verdict feeds the breaker; an attempt that proves nothing (no verdict: the
 * caller left, another leg answered, an AGI error) still frees a half-open trial at once instead of at its timeout.
 */
export function reportAttempt(
  health: HealthView,
  carrier: string,
  verdict: Verdict | null,
  reason: string,
  at: number,
  group: string | null = null,
  response: AttemptSignal['response'] = 'unknown',
  suspectClaim = false,
): void {
  health.recordAttempt({ carrier, carrierFailure: verdict?.carrierFault ?? false, carrierSuccess: verdict?.carrierProven ?? false, reason: verdict?.reason ?? reason, at, group, response, suspectClaim });
}

/** Trials claimed for a Dial that was never placed go back, and so do suspect carriers' one-call holds (`suspects`). */
export function releaseTrials(health: HealthView, targets: readonly PlannedTarget[], reason: string, at: number, group: string | null = null, suspects: ReadonlySet<string> = new Set()): void {
  for (const t of targets) if (t.health === 'probing' || suspects.has(t.carrier.name)) reportAttempt(health, t.carrier.name, null, reason, at, group, 'unknown', suspects.has(t.carrier.name));
}
