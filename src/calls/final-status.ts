import type { Verdict } from '../routing/verdict.js';

/**
 * What FAILOVER_STATUS tells the dialplan. DIALING is set before the first Dial, so a daemon that dies after it
 * leaves a value that can never read as "no Dial was placed"; a stop on a final rejection passes DIALSTATUS through.
 */
export type FailoverStatus =
  | 'DIALING'
  | 'ANSWER'
  | 'BUSY'
  | 'NOANSWER'
  | 'CANCEL'
  | 'EXHAUSTED'
  | 'INVALID'
  | 'NOROUTE'
  | 'CHANUNAVAIL'
  | 'CONGESTION'
  /** No Dial placed: every carrier left for the call is at its maxChannels or maxCps cap (DIALSTATUS=CONGESTION, cause 34). */
  | 'CAPACITY'
  | 'ERROR';

export function statusAfterStop(dialStatus: string, verdict: Verdict, callerLeft: boolean): FailoverStatus {
  if (verdict.answered) return 'ANSWER';
  if (callerLeft || dialStatus === 'CANCEL') return 'CANCEL';
  switch (dialStatus) {
    case 'BUSY':
    case 'NOANSWER':
    case 'CHANUNAVAIL':
    case 'CONGESTION':
      return dialStatus;
    default:
      return 'ERROR';
  }
}

/**
 * The cause `Hangup(${FAILOVER_CAUSE})` gives the channel when the attempt's own cause is not known: what app_dial
 * itself leaves for each DIALSTATUS on a fresh channel (16 on answer, the callee's 17 on busy, 34 on congestion,
 * 18 when nobody responded) and Q.850's "no answer" for a ring-out.
 */
export function exportedCause(cause: number | null, dialStatus: string): string {
  if (cause !== null && cause > 0) return String(cause);
  switch (dialStatus) {
    case 'ANSWER':
    case 'CANCEL':
      return '16';
    case 'BUSY':
      return '17';
    case 'NOANSWER':
      return '19';
    case 'CONGESTION':
      return '34';
    case 'CHANUNAVAIL':
      return '18';
    default:
      return '';
  }
}
