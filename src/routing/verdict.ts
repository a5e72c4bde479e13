import type { CarrierConfig } from '../config/types.js';
import { oncePerObject } from '../once-per-object.js';
import type { AttemptOutcome, LegOutcome } from './outcome.js';

/**
 * The verdict on one attempt. `next`: the carrier failed and nobody was rung, try another. `stop`: a person was
 * reached, refused, or may have heard it ring, or the caller is gone; another carrier could ring them twice.
 * `carrierFault` feeds the breaker (a stop can be one: a 503 after 180 stops the call and still counts against
 * the carrier); `carrierProven` tells it the carrier worked.
 */
export interface Verdict {
  readonly kind: 'next' | 'stop';
  readonly reason: string;
  readonly answered: boolean;
  readonly carrierFault: boolean;
  readonly carrierProven: boolean;
}

/**
 * SIP finals that are trouble between us and the carrier, not the callee's answer: our credentials (401/407),
 * the account (402), the codec (415/488/606), the carrier's own state (408, 420, 421, 481, 491, 493, 5xx).
 * A carrier with a dead account must be ejected, not trusted.
 */
export const CARRIER_SIDE_SIP: ReadonlySet<number> = new Set([401, 402, 407, 408, 415, 420, 421, 481, 488, 491, 493, 500, 502, 503, 504, 606]);
/** The callee's (or the number's) own answer; every other 3xx/4xx/6xx is treated the same, 5xx the other way. */
export const CALLEE_SIDE_SIP: ReadonlySet<number> = new Set([403, 404, 410, 480, 484, 485, 486, 600, 603, 604]);

export interface CarrierPolicy {
  readonly retrySip: ReadonlySet<number>;
  readonly finalSip: ReadonlySet<number>;
  readonly retryAfterRinging: boolean;
}

type PolicyFields = Pick<CarrierConfig, 'retrySipCodes' | 'finalSipCodes' | 'retryAfterRinging'>;

/** The carrier's policy, built once per config object (every attempt's verdict asks for it; a reload makes new objects). */
export const policyFor: (c: PolicyFields) => CarrierPolicy = oncePerObject(buildPolicy);

function buildPolicy(c: PolicyFields): CarrierPolicy {
  const retrySip = new Set(CARRIER_SIDE_SIP);
  const finalSip = new Set(CALLEE_SIDE_SIP);
  for (const code of c.retrySipCodes) {
    retrySip.add(code);
    finalSip.delete(code);
  }
  for (const code of c.finalSipCodes) {
    finalSip.add(code);
    retrySip.delete(code);
  }
  return { retrySip, finalSip, retryAfterRinging: c.retryAfterRinging };
}

export const DEFAULT_POLICY: CarrierPolicy = policyFor({ retrySipCodes: [], finalSipCodes: [], retryAfterRinging: false });

/** What one leg's own record says, before the question "was the callee alerted?" is asked. */
export type LegJudgement =
  | { readonly kind: 'fault'; readonly reason: string }
  | { readonly kind: 'final'; readonly reason: string }
  | { readonly kind: 'none' };

function sipLabel(leg: LegOutcome): string {
  return `SIP ${leg.sipCode}${leg.sipReason ? ` ${leg.sipReason}` : ''}`;
}

/** The leg's final SIP response decides where there is one; a 200 OK on a call that was not answered is a codec failure. */
export function judgeLeg(leg: LegOutcome | null, answered: boolean, p: CarrierPolicy): LegJudgement {
  const code = leg?.sipCode ?? null;
  if (leg === null || code === null) return { kind: 'none' };
  if (code >= 300) {
    const label = sipLabel(leg);
    if (p.retrySip.has(code)) return { kind: 'fault', reason: `${label} is a carrier failure` };
    if (p.finalSip.has(code)) return { kind: 'final', reason: `${label} is the callee's answer` };
    if (code >= 500 && code < 600) return { kind: 'fault', reason: `${label}: server failure` };
    return { kind: 'final', reason: `${label}: callee-side response` };
  }
  // codec_mismatch: 180, 200 OK with an unusable SDP, chan_sip ACKs and BYEs at once: CHANUNAVAIL/58, Dial 0 (fact 15)
  if (code >= 200 && !answered) return { kind: 'fault', reason: `${sipLabel(leg)} but the call could not be set up (no common codec?)` };
  return { kind: 'none' };
}

/** RINGTIME_MS or PROGRESSTIME_MS set by this Dial: a 180 or a 183/early media came, so a phone may have rung. */
export function alerted(o: Pick<AttemptOutcome, 'ringMs' | 'progressMs'>): boolean {
  return o.ringMs !== null || o.progressMs !== null;
}

/** The channel cause belongs to this attempt only where it provably changed during it (fact 1). */
export function channelCauseChanged(o: Pick<AttemptOutcome, 'channelCause' | 'channelCauseBefore'>): boolean {
  return o.channelCause !== null && o.channelCauseBefore !== null && o.channelCause !== o.channelCauseBefore;
}

const answeredVerdict = (reason: string): Verdict => ({ kind: 'stop', reason, answered: true, carrierFault: false, carrierProven: true });
const final = (reason: string, proven: boolean): Verdict => ({ kind: 'stop', reason, answered: false, carrierFault: false, carrierProven: proven });

/** A carrier failure goes on to the next carrier, unless a person may already have heard it ring. */
function failure(reason: string, o: AttemptOutcome, p: CarrierPolicy): Verdict {
  if (alerted(o) && !p.retryAfterRinging) {
    const what = o.progressMs !== null ? 'early media' : 'ringing';
    return { kind: 'stop', reason: `callee alerted (${what}), not retried: ${reason}`, answered: false, carrierFault: true, carrierProven: false };
  }
  return { kind: 'next', reason, answered: false, carrierFault: true, carrierProven: false };
}

/** Why a CHANUNAVAIL/CONGESTION without a final response failed, in the words an operator searches for. */
function noFinalReason(o: AttemptOutcome, leg: LegOutcome | null): string {
  const cause = channelCauseChanged(o) ? o.channelCause : null;
  if (leg && leg.tech) return `${o.dialStatus} with no final response (last: ${leg.tech}): no answer or ringing within the progress timeout`;
  if (o.dialStatus === 'CHANUNAVAIL' && cause === 17) return 'carrier call-limit reached (CHANUNAVAIL, cause 17, no SIP response)';
  if (cause === 20 || cause === 3) return `${o.dialStatus}, cause ${cause}: carrier unreachable, no INVITE sent`;
  return `${o.dialStatus} with no SIP response${cause !== null ? ` (cause ${cause})` : ''}`;
}

/**
 * What a Dial showed of the carrier, for the suspect rule (health.suspectAfterNoResponse). `none`: CHANUNAVAIL or
 * CONGESTION with no SIP response at all and no ringing: the INVITE was swallowed (the progress timer or timer B
 * ended it, no HANGUPCAUSE key: captures pjsip_blackhole, timeout_blackhole). `some`: a SIP response of whatever kind, even a
 * 100 Trying or a 503, or ringing: the carrier is alive. A call limit (cause 17) or an unreachable carrier (20, 3)
 * never sent an INVITE, so it says nothing either way.
 */
export function dialResponse(o: AttemptOutcome, leg: LegOutcome | null): 'none' | 'some' | 'unknown' {
  if (o.dialStatus === 'ANSWER' || alerted(o) || (leg !== null && (leg.sipCode !== null || leg.tech !== ''))) return 'some';
  if (o.dialStatus !== 'CHANUNAVAIL' && o.dialStatus !== 'CONGESTION') return 'unknown';
  const cause = channelCauseChanged(o) ? o.channelCause : null;
  return cause === 17 || cause === 20 || cause === 3 ? 'unknown' : 'none';
}

/**
 * The verdict on one single-carrier attempt, from what that attempt produced and the carrier's policy only:
 * answer, then the caller leaving, then the leg's own SIP response, then DIALSTATUS.
 */
export function judgeAttempt(o: AttemptOutcome, leg: LegOutcome | null, p: CarrierPolicy): Verdict {
  if (o.dialStatus === 'ANSWER') return answeredVerdict(o.callerLeft ? 'answered; the caller hung up after' : 'answered');
  if (o.callerLeft || o.dialStatus === 'CANCEL') return final('caller hung up', false);
  if (o.dialResult !== null && o.dialResult !== 0 && o.dialResult !== -1) return final(`Dial returned ${o.dialResult}`, false);
  const j = judgeLeg(leg, false, p);
  if (j.kind === 'final') return final(j.reason, true);
  if (j.kind === 'fault') return failure(j.reason, o, p);
  switch (o.dialStatus) {
    case 'BUSY':
      return final('busy', true);
    case 'NOANSWER':
      return final(`no answer within the ring timeout${leg?.tech ? ` (last: ${leg.tech})` : ''}`, true);
    case 'INVALIDARGS':
      return failure('Dial rejected the dial string (INVALIDARGS): check the carrier\'s dial template', o, p);
    case 'CHANUNAVAIL':
    case 'CONGESTION':
      return failure(noFinalReason(o, leg), o, p);
    default:
      return final(`DIALSTATUS ${o.dialStatus || '(empty)'}: not a result failover-agi retries`, false);
  }
}

/**
 * The cause of an attempt, for its record and for `Hangup(${FAILOVER_CAUSE})`: a final SIP response's own cause,
 * else the channel cause if this Dial changed it, else the leg's cause text (16 after `SIP 180 Ringing`).
 */
export function attemptCause(o: Pick<AttemptOutcome, 'channelCause' | 'channelCauseBefore'>, leg: LegOutcome | null): number | null {
  if (leg && leg.sipCode !== null && leg.sipCode >= 300 && leg.cause !== null) return leg.cause;
  if (channelCauseChanged(o)) return o.channelCause;
  return leg?.cause ?? null;
}

/** One leg of a simultaneous Dial, with its carrier's policy. */
export interface LegInput {
  readonly carrier: string;
  readonly leg: LegOutcome | null;
  readonly policy: CarrierPolicy;
}

export interface TogetherJudgement {
  /** The whole Dial's verdict: stop on an answer, a caller gone, or any leg's callee-side answer. */
  readonly verdict: Verdict;
  /** Per leg, in input order; null where the leg proves nothing (another leg answered, the caller left). */
  readonly legs: readonly (Verdict | null)[];
  /** Index of the answering leg, or of the leg whose answer stopped the call; -1 when none. */
  readonly decidingLeg: number;
}

/**
 * Judges `Dial(A&B&…)`: DIALSTATUS is BUSY when any leg was busy, whatever the others did (app_dial
 * wait_for_answer() :1338-1346; simultaneous_486_503*), so each leg is judged by its own record and policy.
 */
export function judgeTogether(o: AttemptOutcome, inputs: readonly LegInput[]): TogetherJudgement {
  if (o.dialStatus === 'ANSWER') {
    const i = inputs.findIndex((x) => x.leg?.sipCode === 200);
    const v = answeredVerdict(o.callerLeft ? 'answered; the caller hung up after' : 'answered');
    return { verdict: v, legs: inputs.map((_, k) => (k === i ? v : null)), decidingLeg: i };
  }
  if (o.callerLeft || o.dialStatus === 'CANCEL') {
    return { verdict: final('caller hung up', false), legs: inputs.map(() => null), decidingLeg: -1 };
  }
  const legs = inputs.map((x): Verdict => {
    const j = judgeLeg(x.leg, false, x.policy);
    if (j.kind === 'final') return final(j.reason, true);
    if (j.kind === 'fault') return failure(j.reason, o, x.policy);
    // no final response on this leg: it rang out with the others (NOANSWER), or never answered at all
    if (o.dialStatus === 'NOANSWER' && x.leg?.sipCode !== undefined && x.leg.sipCode !== null && x.leg.sipCode >= 180) {
      return final(`no answer within the ring timeout (last: ${x.leg.tech})`, true);
    }
    return failure(x.leg?.tech ? `no final response (last: ${x.leg.tech})` : 'no SIP response on this leg', o, x.policy);
  });
  const deciding = legs.findIndex((v) => v.kind === 'stop' && !v.carrierFault);
  if (deciding >= 0) {
    const v = legs[deciding] as Verdict;
    return { verdict: { ...v, reason: `${inputs[deciding]?.carrier}: ${v.reason}` }, legs, decidingLeg: deciding };
  }
  const alertedStop = legs.findIndex((v) => v.kind === 'stop');
  if (alertedStop >= 0) return { verdict: legs[alertedStop] as Verdict, legs, decidingLeg: alertedStop };
  return { verdict: { kind: 'next', reason: 'every leg failed on the carrier side', answered: false, carrierFault: true, carrierProven: false }, legs, decidingLeg: -1 };
}
