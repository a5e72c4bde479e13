/**
 * A carrier that swallowed the last INVITE (no SIP response at all, the progress timeout ran out) is suspect until
 * it shows it is alive: one Dial at a time to it, so the calls behind do not each pay the same timeout while the
 * breaker is still counting (issue 16). Pure: every function takes the state and the time.
 *
 * not suspect ──(a carrier failure with no SIP response)──▶ suspect
 * suspect ──(a success, or a SIP response of whatever kind, even a 503: it is alive)──▶ not suspect
 * suspect: claim() lets one call dial it and holds it until that Dial reports back (or holdMs passes: no timer,
 * the next claim after it simply finds the hold lapsed)
 */

/** null = not suspect. */
export type Suspect = {
  readonly since: number;
  /** One call's Dial holds it until then; null = free. */
  readonly heldUntil: number | null;
} | null;

/** What a Dial showed of the carrier: `none` = the INVITE got no SIP response at all; `some` = a response or ringing. */
export type Response = 'none' | 'some' | 'unknown';

export interface SuspectInput {
  readonly carrierFailure: boolean;
  readonly carrierSuccess: boolean;
  readonly response: Response;
  /** This Dial held the suspect's one-call claim: its result frees it. A Dial placed before the carrier became suspect never does. */
  readonly claimed: boolean;
}

/** What claimSuspect told a call: dial it freely, dial it holding the one-call claim, or skip it. */
export type SuspectClaim = 'free' | 'claimed' | 'refused';

export const SUSPECT_REASON = 'suspect: no response to the last INVITE, one call at a time until it answers';

/** A Dial's result reaches the carrier (a claim it held ends with it). */
export function onResult(x: Suspect, r: SuspectInput, now: number, enabled: boolean): Suspect {
  if (!enabled) return null;
  if (r.carrierSuccess || r.response === 'some') return null;
  const base = x ?? (r.carrierFailure && r.response === 'none' ? { since: now, heldUntil: null } : null);
  // the claimant's Dial is over (whatever it proved short of a response): the next call may take the carrier;
  // a Dial that was already under way when the carrier became suspect leaves the claim to its holder
  return base !== null && r.claimed && base.heldUntil !== null ? { ...base, heldUntil: null } : base;
}

/** A call asks to dial the carrier: always yes when not suspect, one at a time when it is. */
export function claimSuspect(x: Suspect, now: number, holdMs: number, enabled: boolean, inFlight = 0): { next: Suspect; granted: boolean } {
  if (!enabled || x === null) return { next: x, granted: true };
  if (x.heldUntil !== null && now < x.heldUntil) return { next: x, granted: false };
  // Dials placed before it became suspect are still waiting on the same silence: "one at a time" counts them too
  if (inFlight > 0) return { next: x, granted: false };
  return { next: { ...x, heldUntil: now + holdMs }, granted: true };
}
