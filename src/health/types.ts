/** Carrier health as the planner and the status views see it. The health map owns the state; others get read-only snapshots. */

export type HealthState = 'up' | 'lagged' | 'down' | 'probing' | 'unknown' | 'disabled';
export const HEALTH_STATES: readonly HealthState[] = ['up', 'lagged', 'down', 'probing', 'unknown', 'disabled'];

export interface CarrierHealth {
  readonly state: HealthState;
  /** Epoch ms of the last change of state. */
  readonly since: number;
  readonly reason: string;
  /** The peer dialer whose breaker ejected it, or whose trial call holds it (cluster.enabled); absent = this dialer's own view. */
  readonly peer?: string;
}

export type HealthSnapshot = ReadonlyMap<string, CarrierHealth>;

/** What a call reports to the health map after each Dial, so the breaker learns from real traffic. */
export interface AttemptSignal {
  readonly carrier: string;
  /** true when the carrier itself failed (no response, 5xx, carrier-side cause); callee outcomes are false. */
  readonly carrierFailure: boolean;
  /** true when the carrier proved itself (answered, or a callee-side final response). */
  readonly carrierSuccess: boolean;
  readonly reason: string;
  readonly at: number;
  /** The prefix group the dialed number fell in (prefixGroups); null or absent = none. */
  readonly group?: string | null;
  /** What the Dial showed of the carrier: none = its INVITE got no SIP response at all; some = a response or ringing. */
  readonly response?: 'none' | 'some' | 'unknown';
  /** This Dial held a suspect carrier's one-call claim (claimSuspect said 'claimed'). */
  readonly suspectClaim?: boolean;
}

export interface HealthView {
  snapshot(): HealthSnapshot;
  /**
   * The snapshot a call to this prefix group sees: a carrier ejected for the group (and usable otherwise) is down,
   * one recovering for the group is probing; null = the number is in no group (the plain snapshot).
   */
  snapshotFor(group: string | null): HealthSnapshot;
  /** A half-open (probing) carrier may take one trial call; returns false when another call already holds the trial. */
  claimProbe(carrier: string, group?: string | null): boolean;
  /**
   * A suspect carrier (its last INVITE got no response) takes one call at a time: refused while another call holds it
   * or while `inFlight` Dials to it (placed before it became suspect) are still waiting.
   */
  claimSuspect(carrier: string, inFlight?: number): 'free' | 'claimed' | 'refused';
  recordAttempt(signal: AttemptSignal): void;
}

/**
 * Quality ordering (src/health/quality.ts): demoted = dialed after the healthy carriers of a route, never skipped.
 * Apart from HealthState: a carrier can be up and demoted.
 */
export type QualityState = 'ok' | 'demoted';

export interface CarrierEvent {
  readonly at: number;
  readonly carrier: string;
  /** A health state; for source quality, the quality state (ok, demoted). */
  readonly from: HealthState | QualityState;
  readonly to: HealthState | QualityState;
  /** peer: another dialer's breaker (cluster.enabled), named in the reason. quality: a demotion or a return. */
  readonly source: 'ami' | 'breaker' | 'admin' | 'config' | 'peer' | 'quality';
  readonly reason: string;
  /** A peer's fact for this prefix group (cluster.enabled): the carrier's own state did not change (from = to). */
  readonly group?: string;
}
