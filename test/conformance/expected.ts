/**
 * What the daemon must do with each capture, written from the contract's rules (verdict rules 1-6, the cause
 * rules (a)-(d), the FAILOVER_STATUS values), one row per replay, each citing the capture fact it rests on.
 * `fact N` is multi/SUMMARY.md's, `pjsip N` SUMMARY-pjsip.md's "Differences from chan_sip", `single` the first
 * captures' SUMMARY.md. Cause texts map to Q.850 numbers by REFERENCE.md §2.2.
 *
 * Run ids: the capture's name; `@a2` replays from attempt 2 with the channel as attempt 1 left it (for captures
 * whose attempt 1 already stops); `+retryAfterRinging` replays with that carrier flag set.
 */

export type ExpectedVerdict = 'answered' | 'stop' | 'next' | 'exhausted';

export interface ExpectedConnection {
  /** One per Dial, in order; the number of Dials is their count. */
  readonly verdicts: readonly ExpectedVerdict[];
  readonly status: string;
  readonly cause: string;
  readonly dialStatus: string;
  readonly why: string;
}

const row = (verdicts: string, status: string, cause: number | '', dialStatus: string, why: string): ExpectedConnection => ({
  verdicts: verdicts.split(' ') as ExpectedVerdict[],
  status,
  cause: String(cause),
  dialStatus,
  why,
});

// frequent reasons
const EXH = (what: string): string => `${what}: a carrier-side failure (rule 3/5) without ringing, on the route's last carrier → exhausted`;
const FINAL = (what: string): string => `${what}: callee-side final response (rule 3) → stop, DIALSTATUS passed through, cause (a)`;
const ALERTED = (what: string): string => `${what}: a carrier failure after the callee was alerted (rule 6) → stop, cause (a)`;
const RETRY = (what: string): string => `${what} with retryAfterRinging: the failure goes on (rule 6); no carrier left → exhausted`;
const RINGOUT = 'ring timeout: NOANSWER → stop (rule 5); HANGUPCAUSE unchanged by a ring-out (fact 1), so the cause is the key\'s ast "Normal Clearing" (c) = 16';

export const EXPECTED: Readonly<Record<string, readonly ExpectedConnection[]>> = {
  // ---- single-attempt captures (Asterisk GIT-20), single/SUMMARY.md
  lagged_peer: [row('exhausted', 'EXHAUSTED', 20, 'CHANUNAVAIL', 'single: LAGGED peer refused at once, CHANUNAVAIL/20, no keys: no final response (rule 5) → failure; cause (b) 20 (was 0)')],
  recheck_sip486_after_restart: [row('stop', 'BUSY', 17, 'BUSY', FINAL('single: 486 → BUSY/17'))],
  ring_noanswer: [row('stop', 'NOANSWER', 16, 'NOANSWER', `single: 180 then Dial's 20 s timeout, cause 0 → ${RINGOUT}`)],
  sip200_builtin_uas: [row('answered', 'ANSWER', 16, 'ANSWER', 'single: ANSWER, -1 then HANGUP: answered wins (rule 1); cause (b) 16 (was 0)')],
  sip200_callee_bye: [row('answered', 'ANSWER', 16, 'ANSWER', 'single: ANSWER, -1, no HANGUP (callee BYE) → answered (rule 1); cause (b) 16')],
  sip404: [row('stop', 'CHANUNAVAIL', 1, 'CHANUNAVAIL', FINAL('single: 404 → CHANUNAVAIL/1 "Unallocated (unassigned) number"'))],
  sip486: [row('stop', 'BUSY', 17, 'BUSY', FINAL('single: 486 → BUSY/17 "User busy"'))],
  sip503: [row('exhausted', 'EXHAUSTED', 34, 'CONGESTION', EXH('single: 503 → CONGESTION/34 "Circuit/channel congestion"'))],
  timeout_blackhole: [row('exhausted', 'EXHAUSTED', 18, 'CHANUNAVAIL', 'single: INVITE swallowed, CHANUNAVAIL/18 after timer B, no keys → failure (rule 5); cause (b) 18 (was 0)')],
  timeout_carrier_just_died: [row('exhausted', 'EXHAUSTED', 18, 'CHANUNAVAIL', 'single: SIPp gone, CHANUNAVAIL/18, no keys → failure (rule 5); cause (b) 18')],
  timeout_no_sipp: [row('exhausted', 'EXHAUSTED', 20, 'CHANUNAVAIL', 'single: UNREACHABLE peer refused at once, CHANUNAVAIL/20, no keys → failure (rule 5); cause (b) 20')],

  // ---- multi-attempt captures, chan_sip (Asterisk 20.20.1)
  answer_callee_bye: [row('answered', 'ANSWER', 16, 'ANSWER', 'fact 7: ANSWER, -1 with no HANGUP (callee BYE) → answered (rule 1); cause (b) 16 (was 0)')],
  answer_caller_hangup: [row('answered', 'ANSWER', 16, 'ANSWER', 'fact 7: ANSWER, -1 then HANGUP 1 ms later → answered even so (rule 1); the SETs still work on the dead channel (fact 8)')],
  codec_mismatch: [row('stop', 'CHANUNAVAIL', 58, 'CHANUNAVAIL', 'fact 15: SIP 200 OK without ANSWER is a failure (rule 4), RINGTIME_MS 3 = alerted → stop (rule 6); cause (b) 58 (was 0)')],
  'codec_mismatch+retryAfterRinging': [row('exhausted', 'EXHAUSTED', 58, 'CHANUNAVAIL', RETRY('fact 15: codec mismatch after 180'))],
  codec_mismatch_bogus: [row('stop', 'CHANUNAVAIL', 58, 'CHANUNAVAIL', 'fact 15: as codec_mismatch (RINGTIME_MS 2) → stop (rules 4, 6); cause (b) 58')],
  'codec_mismatch_bogus+retryAfterRinging': [row('exhausted', 'EXHAUSTED', 58, 'CHANUNAVAIL', RETRY('fact 15: codec mismatch after 180'))],
  dial_unknown_peer: [
    row('next exhausted', 'EXHAUSTED', 18, 'CHANUNAVAIL', 'fact 11: unknown peer and numeric host, both CHANUNAVAIL/20, no keys → failures (rule 5); a2\'s HANGUPCAUSE 20 did not change during it (a1 left 20) and there is no key, so its cause is by DIALSTATUS (d) = 18'),
  ],
  h_extension_view: [row('next stop', 'NOANSWER', 16, 'NOANSWER', `fact 14: 503 → next; then ${RINGOUT} (34 stays from a1)`)],
  h_extension_view_hangup19: [row('next stop', 'NOANSWER', 16, 'NOANSWER', `fact 14: 503 → next; then ${RINGOUT}`)],
  h_extension_view_set_hangupcause: [row('next stop', 'NOANSWER', 16, 'NOANSWER', `fact 14: 503 → next; then ${RINGOUT}`)],
  progress_after_100_trying: [
    row('exhausted', 'EXHAUSTED', 16, 'CHANUNAVAIL', 'fact 10: progress timeout after a bare 100: CHANUNAVAIL with no final response → failure (rule 5), no ringing; HANGUPCAUSE 0 unchanged, so the cause is the key\'s ast "Normal Clearing" (c) = 16'),
  ],
  seq_486_after_503: [row('next stop', 'BUSY', 17, 'BUSY', 'fact 1 table: 503 → next; 486 → stop (rule 3), cause (a) "User busy" 17')],
  seq_503_then_answer: [row('next answered', 'ANSWER', 16, 'ANSWER', 'fact 7: 503 → next; ANSWER with -1 and no HANGUP → answered; cause (b) 16 (was 34)')],
  seq_503_then_progress_timeout: [
    row('next exhausted', 'EXHAUSTED', 18, 'CHANUNAVAIL', 'fact 1, 10: 503 → next; swallowed INVITE, CHANUNAVAIL with empty keys → failure (rule 5); HANGUPCAUSE still 34 from a1, so the cause is by DIALSTATUS (d) = 18'),
  ],
  seq_503_then_ringout: [row('next stop', 'NOANSWER', 16, 'NOANSWER', `fact 1: 503 → next; then ${RINGOUT} (34 stays from a1)`)],
  seq_ringout_then_answer: [row('stop', 'NOANSWER', 16, 'NOANSWER', `fact 1: a1 ${RINGOUT}; the secondary is next on the route and must not ring`)],
  'seq_ringout_then_answer@a2': [row('answered', 'ANSWER', 16, 'ANSWER', 'fact 7: from the channel a1 left (NOANSWER, cause 0): ANSWER, -1, no HANGUP → answered; cause (b) 16 (was 0)')],
  seq_ringout_then_cancel: [row('stop', 'NOANSWER', 16, 'NOANSWER', `fact 8: a1 ${RINGOUT}`)],
  'seq_ringout_then_cancel@a2': [
    row('stop', 'CANCEL', 16, 'CANCEL', 'fact 8: -1 then HANGUP, DIALSTATUS CANCEL → stop, caller gone (rule 2); HANGUPCAUSE 0 unchanged, key ast "Normal Clearing" (c) = 16; the capture\'s a3 is the probe\'s forced extra'),
  ],
  simultaneous_486_503: [row('stop', 'BUSY', 17, 'BUSY', 'fact 9: A&B, primary 486 (callee-side) and secondary 503 → stop with the 486 (BUSY), not EXHAUSTED; cause (a) of that leg, 17')],
  simultaneous_486_first_503_later: [row('stop', 'BUSY', 17, 'BUSY', 'fact 9: as simultaneous_486_503 (HANGUPCAUSE 34 is the later leg\'s; the 486 leg decides)')],
  simultaneous_503_first_486_later: [row('stop', 'BUSY', 17, 'BUSY', 'fact 9: secondary 486 decides whatever the order; cause (a) 17')],
  sip_180_then_480: [row('stop', 'BUSY', 19, 'BUSY', FINAL('fact 5: 480 after 180 → BUSY/19 "User alerting, no answer"'))],
  sip_180_then_503: [row('stop', 'CONGESTION', 34, 'CONGESTION', ALERTED('fact 10: 503 after 180 (RINGTIME_MS 3)'))],
  'sip_180_then_503+retryAfterRinging': [row('exhausted', 'EXHAUSTED', 34, 'CONGESTION', RETRY('fact 10: 503 after 180'))],
  sip_183_then_503: [row('stop', 'CONGESTION', 34, 'CONGESTION', ALERTED('fact 10: 503 after 183 + SDP (PROGRESSTIME_MS 2)'))],
  'sip_183_then_503+retryAfterRinging': [row('exhausted', 'EXHAUSTED', 34, 'CONGESTION', RETRY('fact 10: 503 after 183'))],
  sip_401_nosecret: [row('exhausted', 'EXHAUSTED', 21, 'CONGESTION', EXH('fact 6: 401 → CONGESTION/21 "Call Rejected"'))],
  sip_401_secret: [row('exhausted', 'EXHAUSTED', 21, 'CONGESTION', EXH('fact 6: 401 after 3 auth tries'))],
  sip_401_secret_nouser: [row('exhausted', 'EXHAUSTED', 21, 'CONGESTION', EXH('fact 6: 401 without defaultuser'))],
  sip_401_secret_then_403: [row('stop', 'CHANUNAVAIL', 21, 'CHANUNAVAIL', FINAL('fact 6: 403 to the authenticated INVITE'))],
  sip_402: [row('exhausted', 'EXHAUSTED', 127, 'CHANUNAVAIL', EXH('fact 4: 402 → CHANUNAVAIL/127 "Interworking, unspecified"'))],
  sip_403: [row('stop', 'CHANUNAVAIL', 21, 'CHANUNAVAIL', FINAL('fact 4: 403 → CHANUNAVAIL/21'))],
  sip_407_nosecret: [row('exhausted', 'EXHAUSTED', 21, 'CONGESTION', EXH('fact 6: 407 → CONGESTION/21'))],
  sip_407_secret: [row('exhausted', 'EXHAUSTED', 21, 'CONGESTION', EXH('fact 6: 407 after 3 auth tries'))],
  sip_408: [row('exhausted', 'EXHAUSTED', 18, 'CHANUNAVAIL', EXH('fact 4: 408 → CHANUNAVAIL/18 "No user responding"'))],
  sip_480: [row('stop', 'BUSY', 19, 'BUSY', FINAL('fact 5: 480 → BUSY/19'))],
  sip_484: [row('stop', 'CHANUNAVAIL', 28, 'CHANUNAVAIL', FINAL('fact 4: 484 → CHANUNAVAIL/28 "Invalid number format"'))],
  sip_488: [row('exhausted', 'EXHAUSTED', 58, 'CHANUNAVAIL', EXH('fact 4: 488 → CHANUNAVAIL/58 "Bearer capability not available"'))],
  sip_500: [row('exhausted', 'EXHAUSTED', 38, 'CONGESTION', EXH('fact 4: 500 → CONGESTION/38 "Network out of order"'))],
  sip_502: [row('exhausted', 'EXHAUSTED', 27, 'CONGESTION', EXH('fact 4: 502 → CONGESTION/27 "Destination out of order"'))],
  sip_504: [row('exhausted', 'EXHAUSTED', 102, 'CONGESTION', EXH('fact 4: 504 → CONGESTION/102 "Recover on timer expiry"'))],
  sip_600: [row('stop', 'BUSY', 17, 'BUSY', FINAL('fact 5: 600 → BUSY/17'))],
  sip_603: [row('stop', 'BUSY', 21, 'BUSY', FINAL('fact 5: 603 → BUSY/21 "Call Rejected"'))],
  two_agi_runs_same_channel: [
    row('exhausted', 'EXHAUSTED', 34, 'CONGESTION', EXH('fact 12: run 1 (first-run): 503')),
    row('stop', 'BUSY', 17, 'BUSY', 'fact 12: run 2 starts with run 1\'s DIALSTATUS, HANGUPCAUSE 34, keys and FAILOVER_* left over; its own 486 decides: stop, BUSY, cause (a) 17'),
  ],

  // ---- multi-attempt captures, PJSIP (SUMMARY-pjsip.md)
  pjsip_180_then_480: [row('stop', 'NOANSWER', 19, 'NOANSWER', FINAL('pjsip 2: 480 after 180 → NOANSWER/19'))],
  pjsip_180_then_503: [row('stop', 'CONGESTION', 34, 'CONGESTION', ALERTED('pjsip table: 503 after 180'))],
  'pjsip_180_then_503+retryAfterRinging': [row('exhausted', 'EXHAUSTED', 34, 'CONGESTION', RETRY('pjsip table: 503 after 180'))],
  pjsip_183_then_503: [row('stop', 'CONGESTION', 34, 'CONGESTION', ALERTED('pjsip table: 503 after 183 (PROGRESSTIME_MS 3)'))],
  'pjsip_183_then_503+retryAfterRinging': [row('exhausted', 'EXHAUSTED', 34, 'CONGESTION', RETRY('pjsip table: 503 after 183'))],
  pjsip_402: [row('exhausted', 'EXHAUSTED', 127, 'CHANUNAVAIL', EXH('pjsip table: 402 → CHANUNAVAIL/127'))],
  pjsip_403: [row('stop', 'CHANUNAVAIL', 21, 'CHANUNAVAIL', FINAL('pjsip table: 403 → CHANUNAVAIL/21'))],
  pjsip_404: [row('stop', 'CHANUNAVAIL', 1, 'CHANUNAVAIL', FINAL('pjsip table: 404 → CHANUNAVAIL/1'))],
  pjsip_408: [row('exhausted', 'EXHAUSTED', 18, 'CHANUNAVAIL', EXH('pjsip table: 408 → CHANUNAVAIL/18'))],
  pjsip_480: [row('stop', 'NOANSWER', 19, 'NOANSWER', FINAL('pjsip 2: 480 → NOANSWER/19'))],
  pjsip_484: [row('stop', 'CHANUNAVAIL', 28, 'CHANUNAVAIL', FINAL('pjsip table: 484 → CHANUNAVAIL/28'))],
  pjsip_486: [row('stop', 'BUSY', 17, 'BUSY', FINAL('pjsip table: 486 → BUSY/17'))],
  pjsip_488: [row('exhausted', 'EXHAUSTED', 58, 'CHANUNAVAIL', EXH('pjsip table: 488 → CHANUNAVAIL/58'))],
  pjsip_500: [row('exhausted', 'EXHAUSTED', 38, 'CHANUNAVAIL', EXH('pjsip 1: 500 → CHANUNAVAIL/38 (not CONGESTION)'))],
  pjsip_502: [row('exhausted', 'EXHAUSTED', 27, 'CHANUNAVAIL', EXH('pjsip 1: 502 → CHANUNAVAIL/27'))],
  pjsip_503: [row('exhausted', 'EXHAUSTED', 34, 'CONGESTION', EXH('pjsip table: 503 → CONGESTION/34'))],
  pjsip_503_then_ringout: [row('next stop', 'NOANSWER', 16, 'NOANSWER', `pjsip 4: 503 → next; then ${RINGOUT} (34 stays from a1)`)],
  pjsip_504: [row('exhausted', 'EXHAUSTED', 102, 'CHANUNAVAIL', EXH('pjsip 1: 504 → CHANUNAVAIL/102'))],
  pjsip_600: [row('stop', 'BUSY', 17, 'BUSY', FINAL('pjsip 2: 600 → BUSY/17'))],
  pjsip_603: [row('stop', 'CHANUNAVAIL', 21, 'CHANUNAVAIL', FINAL('pjsip 2: 603 → CHANUNAVAIL/21'))],
  pjsip_blackhole: [row('exhausted', 'EXHAUSTED', 18, 'CHANUNAVAIL', 'pjsip 5: swallowed INVITE, CHANUNAVAIL/0, no keys → failure (rule 5); HANGUPCAUSE 0 unchanged, no key: cause by DIALSTATUS (d) = 18')],
  pjsip_ringout: [row('stop', 'NOANSWER', 16, 'NOANSWER', `pjsip table: ${RINGOUT}`)],
  pjsip_unknown_endpoint: [
    row('next exhausted', 'EXHAUSTED', 18, 'CHANUNAVAIL', 'pjsip 3: unknown endpoint, both forms CHANUNAVAIL/3, no keys → failures; a2\'s HANGUPCAUSE 3 did not change (a1 left 3), no key: cause (d) = 18'),
  ],
  pjsip_unreachable: [row('next stop', 'BUSY', 17, 'BUSY', 'pjsip 3: unreachable contact CHANUNAVAIL/3 at once, no keys → next; secondary 486 → stop, cause (a) 17')],
};

/** Captures with no replay, and why. */
export const NOT_REPLAYED: Readonly<Record<string, string>> = {
  dial_invalid_tech:
    'its Dial strings (NOSUCHTECH/…, and "carrier-primary" with no tech/) cannot be configured: config validation (checkDialTemplate) refuses them; the pure verdict table covers CHANUNAVAIL/66 and INVALIDARGS',
};
