import type { Outcome } from '../routing/outcome.js';
import type { Verdict } from '../routing/classify.js';

/** What FAILOVER_STATUS tells the dialplan. A stop on a final rejection passes the attempt's DIALSTATUS through. */
export type FailoverStatus = 'ANSWER' | 'BUSY' | 'NOANSWER' | 'CANCEL' | 'EXHAUSTED' | 'INVALID' | 'NOROUTE' | 'CHANUNAVAIL' | 'CONGESTION' | 'ERROR';

export function statusAfterStop(outcome: Outcome | null, verdict: Verdict): FailoverStatus {
  if (verdict.kind === 'stop' && verdict.answered) return 'ANSWER';
  if (!outcome) return 'ERROR';
  if (outcome.dialStatus === 'CANCEL' || ((outcome.dialResult === -1 || outcome.hangupSeen) && outcome.dialStatus !== 'ANSWER')) {
    return 'CANCEL';
  }
  switch (outcome.dialStatus) {
    case 'BUSY':
    case 'NOANSWER':
    case 'CHANUNAVAIL':
    case 'CONGESTION':
      return outcome.dialStatus;
    default:
      return 'ERROR';
  }
}
