import type { CarrierConfig } from '../config/types.js';
import type { Outcome } from './outcome.js';

/**
 * The verdict on one attempt. `next`: the carrier failed, nobody was rung, try another.
 * `stop`: a person was reached or refused, or the caller is gone; another carrier would ring them twice.
 * `carrierFault` feeds the breaker; `carrierProven` tells it the carrier worked.
 */
export type Verdict =
  | { readonly kind: 'next'; readonly reason: string; readonly carrierFault: true; readonly carrierProven: false }
  | {
      readonly kind: 'stop';
      readonly reason: string;
      readonly answered: boolean;
      readonly carrierFault: boolean;
      readonly carrierProven: boolean;
    };

/** The retry policy as data; per-carrier codes are added on top of these (REFERENCE §2.3/§2.4). */
export const DEFAULT_RETRY_SIP: ReadonlySet<number> = new Set([408, 500, 502, 503, 504]);
export const DEFAULT_FINAL_SIP: ReadonlySet<number> = new Set([403, 404, 480, 484, 486, 600, 603]);
/** Q.850 causes that mean the carrier or the path to it failed, not the callee. */
export const RETRY_CAUSES: ReadonlySet<number> = new Set([3, 18, 20, 27, 34, 38, 41, 42, 102]);
/** Q.850 causes that mean the callee (or the number) answered for itself. */
export const FINAL_CAUSES: ReadonlySet<number> = new Set([1, 17, 19, 21, 22, 28]);

export interface RetryPolicy {
  readonly retrySip: ReadonlySet<number>;
  readonly finalSip: ReadonlySet<number>;
}

export function policyFor(carrier: Pick<CarrierConfig, 'retrySipCodes' | 'finalSipCodes'>): RetryPolicy {
  const retrySip = new Set(DEFAULT_RETRY_SIP);
  const finalSip = new Set(DEFAULT_FINAL_SIP);
  for (const c of carrier.retrySipCodes) {
    retrySip.add(c);
    finalSip.delete(c);
  }
  for (const c of carrier.finalSipCodes) {
    finalSip.add(c);
    retrySip.delete(c);
  }
  return { retrySip, finalSip };
}

export const DEFAULT_POLICY: RetryPolicy = { retrySip: DEFAULT_RETRY_SIP, finalSip: DEFAULT_FINAL_SIP };

const next = (reason: string): Verdict => ({ kind: 'next', reason, carrierFault: true, carrierProven: false });
const stop = (reason: string, proven: boolean, answered = false): Verdict => ({
  kind: 'stop',
  reason,
  answered,
  carrierFault: false,
  carrierProven: proven,
});

/**
 * Decides from the SIP code when the tech cause has a final one, else from the Q.850 cause, else from DIALSTATUS.
 * The caller being gone (Dial returned -1, or a HANGUP line) always stops, whatever else the channel says.
 */
export function classify(o: Outcome, policy: RetryPolicy = DEFAULT_POLICY): Verdict {
  if (o.dialStatus === 'ANSWER') return stop('answered', true, true);
  if (o.dialResult === -1 || o.hangupSeen) {
    return stop(o.dialStatus === 'CANCEL' || o.dialStatus === '' ? 'caller hung up' : `caller gone (${o.dialStatus})`, false);
  }
  if (o.dialStatus === 'CANCEL') return stop('caller hung up', false);
  if (o.dialResult !== 0) return stop(`Dial returned ${o.dialResult}`, false);

  const sip = o.sipCode;
  if (sip !== null && sip >= 300) {
    const label = `SIP ${sip}${o.sipReason ? ` ${o.sipReason}` : ''}`;
    if (policy.finalSip.has(sip)) return stop(`${label} is final`, true);
    if (policy.retrySip.has(sip)) return next(`${label} is a carrier failure`);
    if (sip >= 500 && sip < 600) return next(`${label}: server failure`);
    return stop(`${label}: callee-side response`, true);
  }

  const cause = o.cause;
  // chan_sip's call-limit: cause 17 with no SIP response is our own limit on the trunk, not a busy callee
  if (o.dialStatus === 'CHANUNAVAIL' && cause === 17 && sip === null) return next('carrier call-limit reached (cause 17, no SIP response)');
  if (cause !== null && RETRY_CAUSES.has(cause)) return next(`cause ${cause} is a carrier failure`);
  if (cause !== null && FINAL_CAUSES.has(cause)) return stop(`cause ${cause} is final`, true);

  switch (o.dialStatus) {
    case 'CHANUNAVAIL':
    case 'CONGESTION':
      return next(`${o.dialStatus} without a final response (cause ${cause ?? 'none'})`);
    case 'INVALIDARGS':
      return next('Dial rejected its arguments for this carrier');
    case 'BUSY':
      return stop('busy', true);
    case 'NOANSWER':
      return stop('no answer', true);
    default:
      return stop(`DIALSTATUS ${o.dialStatus || '(empty)'}`, false);
  }
}
