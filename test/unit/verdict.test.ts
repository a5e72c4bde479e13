import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseLeg, parseOutcomeFields, legExpression, type AttemptOutcome } from '../../src/routing/outcome.js';
import { attemptCause, DEFAULT_POLICY, judgeAttempt, judgeTogether, policyFor } from '../../src/routing/verdict.js';
import { exportedCause, statusAfterStop } from '../../src/calls/final-status.js';
import { causeFromText } from '../../src/routing/q850.js';
import { dialStatusFor, reasonPhrase, type Driver } from '../sim/sip-tables.js';

/**
 * Each row is one attempt of a real Asterisk 20.20.1 capture (../shared/asterisk/captures, captures/multi):
 * the values Asterisk returned, put in the order of OUTCOME_EXPRESSION
 * (DIALSTATUS|HANGUPCAUSE|RINGTIME_MS|PROGRESSTIME_MS|ANSWEREDTIME_MS|HANGUPCAUSE_KEYS()), the leg's
 * `HANGUPCAUSE(key,ast)|HANGUPCAUSE(key,tech)`, Dial's result, whether a HANGUP line came, and the channel cause
 * before the Dial (0 on a fresh channel, else the previous attempt's).
 */
type Row = {
  file: string;
  read: string;
  leg?: string;
  result?: number;
  hangup?: boolean;
  before?: number;
  kind: 'next' | 'stop';
  answered?: boolean;
  fault: boolean;
  cause: number | null;
};

const ROWS: Row[] = [
  // multi: the stale cause (fact 1)
  { file: 'seq_503_then_ringout a1', read: 'CONGESTION|34||||SIP/carrier-primary-00000000', leg: 'Circuit/channel congestion|SIP 503 Service Unavailable', kind: 'next', fault: true, cause: 34 },
  { file: 'seq_503_then_ringout a2', read: 'NOANSWER|34|3|||SIP/carrier-secondary-00000001', leg: 'Normal Clearing|SIP 180 Ringing', before: 34, kind: 'stop', fault: false, cause: 16 },
  { file: 'seq_503_then_progress_timeout a2', read: 'CHANUNAVAIL|34||||', before: 34, kind: 'next', fault: true, cause: null },
  { file: 'seq_486_after_503 a2', read: 'BUSY|17||||SIP/carrier-secondary-00000005', leg: 'User busy|SIP 486 Busy Here', before: 34, kind: 'stop', fault: false, cause: 17 },
  { file: 'seq_503_then_answer a2', read: 'ANSWER|16|2||3004|SIP/carrier-secondary-00000007', leg: 'Normal Clearing|SIP 200 OK', result: -1, before: 34, kind: 'stop', answered: true, fault: false, cause: 16 },
  { file: 'seq_ringout_then_answer a1', read: 'NOANSWER|0|2|||SIP/carrier-primary-00000033', leg: 'Normal Clearing|SIP 180 Ringing', kind: 'stop', fault: false, cause: 16 },
  { file: 'seq_ringout_then_cancel a2', read: 'CANCEL|0|3|||SIP/carrier-secondary-00000009', leg: 'Normal Clearing|SIP 180 Ringing', result: -1, hangup: true, kind: 'stop', fault: false, cause: 16 },
  { file: 'seq_ringout_then_cancel a3 (Dial after the hangup)', read: 'CANCEL|0||||', result: -1, hangup: true, kind: 'stop', fault: false, cause: null },
  // ringing, then a failure: a person may have heard it ring
  { file: 'sip_180_then_503', read: 'CONGESTION|34|3|||SIP/carrier-primary-0000000a', leg: 'Circuit/channel congestion|SIP 503 Service Unavailable', kind: 'stop', fault: true, cause: 34 },
  { file: 'sip_183_then_503', read: 'CONGESTION|34||2||SIP/carrier-primary-0000000b', leg: 'Circuit/channel congestion|SIP 503 Service Unavailable', kind: 'stop', fault: true, cause: 34 },
  { file: 'sip_180_then_480', read: 'BUSY|19|2|||SIP/carrier-primary-0000000c', leg: 'User alerting, no answer|SIP 480 Temporarily Unavailable', kind: 'stop', fault: false, cause: 19 },
  { file: 'codec_mismatch', read: 'CHANUNAVAIL|58|3|||SIP/carrier-primary-0000001e', leg: 'Normal Clearing|SIP 200 OK', kind: 'stop', fault: true, cause: 58 },
  { file: 'codec_mismatch_bogus', read: 'CHANUNAVAIL|58|2|||SIP/carrier-primary-0000001f', leg: 'Normal Clearing|SIP 200 OK', kind: 'stop', fault: true, cause: 58 },
  // carrier-side 4xx: our credentials, the account, the codec
  { file: 'sip_401_nosecret', read: 'CONGESTION|21||||SIP/carrier-primary-0000000d', leg: 'Call Rejected|SIP 401 Unauthorized', kind: 'next', fault: true, cause: 21 },
  { file: 'sip_401_secret', read: 'CONGESTION|21||||SIP/carrier-primary-auth-0000000f', leg: 'Call Rejected|SIP 401 Unauthorized', kind: 'next', fault: true, cause: 21 },
  { file: 'sip_401_secret_then_403', read: 'CHANUNAVAIL|21||||SIP/carrier-primary-auth-00000010', leg: 'Call Rejected|SIP 403 Forbidden', kind: 'stop', fault: false, cause: 21 },
  { file: 'sip_407_secret', read: 'CONGESTION|21||||SIP/carrier-primary-auth-00000012', leg: 'Call Rejected|SIP 407 Proxy Authentication Required', kind: 'next', fault: true, cause: 21 },
  { file: 'sip_402', read: 'CHANUNAVAIL|127||||SIP/carrier-primary-00000013', leg: 'Interworking, unspecified|SIP 402 Payment Required', kind: 'next', fault: true, cause: 127 },
  { file: 'sip_403', read: 'CHANUNAVAIL|21||||SIP/carrier-primary-00000014', leg: 'Call Rejected|SIP 403 Forbidden', kind: 'stop', fault: false, cause: 21 },
  { file: 'sip_408', read: 'CHANUNAVAIL|18||||SIP/carrier-primary-00000015', leg: 'No user responding|SIP 408 Request Timeout', kind: 'next', fault: true, cause: 18 },
  { file: 'sip_480', read: 'BUSY|19||||SIP/carrier-primary-00000016', leg: 'User alerting, no answer|SIP 480 Temporarily Unavailable', kind: 'stop', fault: false, cause: 19 },
  { file: 'sip_484', read: 'CHANUNAVAIL|28||||SIP/carrier-primary-00000017', leg: 'Invalid number format|SIP 484 Address Incomplete', kind: 'stop', fault: false, cause: 28 },
  { file: 'sip_488', read: 'CHANUNAVAIL|58||||SIP/carrier-primary-00000018', leg: 'Bearer capability not available|SIP 488 Not Acceptable Here', kind: 'next', fault: true, cause: 58 },
  { file: 'sip_500', read: 'CONGESTION|38||||SIP/carrier-primary-00000019', leg: 'Network out of order|SIP 500 Server Internal Error', kind: 'next', fault: true, cause: 38 },
  { file: 'sip_502', read: 'CONGESTION|27||||SIP/carrier-primary-0000001a', leg: 'Destination out of order|SIP 502 Bad Gateway', kind: 'next', fault: true, cause: 27 },
  { file: 'sip_504', read: 'CONGESTION|102||||SIP/carrier-primary-0000001b', leg: 'Recover on timer expiry|SIP 504 Server Time-out', kind: 'next', fault: true, cause: 102 },
  { file: 'sip_600', read: 'BUSY|17||||SIP/carrier-primary-0000001c', leg: 'User busy|SIP 600 Busy Everywhere', kind: 'stop', fault: false, cause: 17 },
  { file: 'sip_603', read: 'BUSY|21||||SIP/carrier-primary-0000001d', leg: 'Call Rejected|SIP 603 Decline', kind: 'stop', fault: false, cause: 21 },
  // who left: -1 after a callee BYE and for INVALIDARGS with the caller up (fact 7)
  { file: 'answer_callee_bye', read: 'ANSWER|16|3||3005|SIP/carrier-primary-00000020', leg: 'Normal Clearing|SIP 200 OK', result: -1, kind: 'stop', answered: true, fault: false, cause: 16 },
  { file: 'answer_caller_hangup', read: 'ANSWER|16|3||3001|SIP/carrier-primary-00000021', leg: 'Normal Clearing|SIP 200 OK', result: -1, hangup: true, kind: 'stop', answered: true, fault: false, cause: 16 },
  { file: 'dial_unknown_peer a1', read: 'CHANUNAVAIL|20||||', kind: 'next', fault: true, cause: 20 },
  { file: 'dial_invalid_tech a1', read: 'CHANUNAVAIL|66||||', kind: 'next', fault: true, cause: 66 },
  { file: 'dial_invalid_tech a2', read: 'INVALIDARGS|66||||', result: -1, before: 66, kind: 'next', fault: true, cause: null },
  { file: 'progress_after_100_trying', read: 'CHANUNAVAIL|0||||SIP/carrier-primary-00000030', leg: 'Normal Clearing|SIP 100 Trying', kind: 'next', fault: true, cause: 16 },
  // the first captures (single attempts, no RINGTIME read: those are empty after a Dial without 180, app_dial.c:2466-2476)
  { file: 'sip503.txt', read: 'CONGESTION|34||||SIP/carrier-primary-00000003', leg: 'Circuit/channel congestion|SIP 503 Service Unavailable', kind: 'next', fault: true, cause: 34 },
  { file: 'sip486.txt', read: 'BUSY|17||||SIP/carrier-primary-00000004', leg: 'User busy|SIP 486 Busy Here', kind: 'stop', fault: false, cause: 17 },
  { file: 'sip404.txt', read: 'CHANUNAVAIL|1||||SIP/carrier-primary-00000005', leg: 'Unallocated (unassigned) number|SIP 404 Not Found', kind: 'stop', fault: false, cause: 1 },
  { file: 'sip200_builtin_uas.txt', read: 'ANSWER|16|0||30000|SIP/carrier-primary-00000006', leg: 'Normal Clearing|SIP 200 OK', result: -1, hangup: true, kind: 'stop', answered: true, fault: false, cause: 16 },
  { file: 'ring_noanswer.txt', read: 'NOANSWER|0|0|||SIP/carrier-primary-00000008', leg: 'Normal Clearing|SIP 180 Ringing', kind: 'stop', fault: false, cause: 16 },
  { file: 'timeout_no_sipp.txt', read: 'CHANUNAVAIL|20||||', kind: 'next', fault: true, cause: 20 },
  { file: 'timeout_blackhole.txt', read: 'CHANUNAVAIL|18||||', kind: 'next', fault: true, cause: 18 },
  { file: 'lagged_peer.txt', read: 'CHANUNAVAIL|20||||', kind: 'next', fault: true, cause: 20 },
  // PJSIP: the SIP code decides where DIALSTATUS differs from chan_sip (SUMMARY-pjsip.md)
  { file: 'pjsip_480', read: 'NOANSWER|19||||PJSIP/carrier-primary-00000003', leg: 'User alerting, no answer|SIP 480 Temporarily Unavailable', kind: 'stop', fault: false, cause: 19 },
  { file: 'pjsip_603', read: 'CHANUNAVAIL|21||||PJSIP/carrier-primary-00000018', leg: 'Call Rejected|SIP 603 Decline', kind: 'stop', fault: false, cause: 21 },
  { file: 'pjsip_500', read: 'CHANUNAVAIL|38||||PJSIP/carrier-primary-00000014', leg: 'Network out of order|SIP 500 Server Internal Error', kind: 'next', fault: true, cause: 38 },
  { file: 'pjsip_unreachable a1', read: 'CHANUNAVAIL|3||||', kind: 'next', fault: true, cause: 3 },
  { file: 'pjsip_blackhole', read: 'CHANUNAVAIL|0||||', kind: 'next', fault: true, cause: null },
  { file: 'pjsip_ringout', read: 'NOANSWER|0|2|||PJSIP/carrier-primary-00000005', leg: 'Normal Clearing|SIP 180 Ringing', kind: 'stop', fault: false, cause: 16 },
];

function outcomeOf(r: Pick<Row, 'read' | 'leg' | 'result' | 'hangup' | 'before'>): AttemptOutcome {
  const f = parseOutcomeFields(r.read);
  const legs = r.leg !== undefined && f.keys[0] ? [parseLeg(f.keys[0], r.leg)] : [];
  return { ...f, dialResult: r.result ?? 0, callerLeft: r.hangup ?? false, channelCauseBefore: r.before ?? 0, legs };
}

describe('verdict: every attempt of the real captures', () => {
  for (const r of ROWS) {
    test(`${r.file} → ${r.kind}${r.answered ? ' (answered)' : ''}${r.fault ? ', carrier fault' : ''}, cause ${r.cause ?? '-'}`, () => {
      const o = outcomeOf(r);
      const v = judgeAttempt(o, o.legs[0] ?? null, DEFAULT_POLICY);
      assert.equal(v.kind, r.kind, v.reason);
      assert.equal(v.answered, r.answered ?? false, v.reason);
      assert.equal(v.carrierFault, r.fault, v.reason);
      assert.equal(attemptCause(o, o.legs[0] ?? null), r.cause);
    });
  }

  test('a stale channel cause never decides: the ring-out after a 503 reads 34, and stops as a no-answer', () => {
    const o = outcomeOf({ read: 'NOANSWER|34|3|||SIP/carrier-secondary-00000001', leg: 'Normal Clearing|SIP 180 Ringing', before: 34 });
    const v = judgeAttempt(o, o.legs[0] ?? null, DEFAULT_POLICY);
    assert.equal(v.kind, 'stop');
    assert.equal(v.carrierFault, false, 'a normal no-answer is not a carrier failure');
    assert.match(v.reason, /no answer/);
  });

  test('ringing then 503: stops as "callee alerted" by default, goes on with retryAfterRinging', () => {
    const o = outcomeOf({ read: 'CONGESTION|34|3|||SIP/carrier-primary-0000000a', leg: 'Circuit/channel congestion|SIP 503 Service Unavailable' });
    const stop = judgeAttempt(o, o.legs[0] ?? null, DEFAULT_POLICY);
    assert.match(stop.reason, /^callee alerted \(ringing\)/);
    const opted = judgeAttempt(o, o.legs[0] ?? null, policyFor({ retrySipCodes: [], finalSipCodes: [], retryAfterRinging: true }));
    assert.equal(opted.kind, 'next');
    const early = outcomeOf({ read: 'CONGESTION|34||2||SIP/carrier-primary-0000000b', leg: 'Circuit/channel congestion|SIP 503 Service Unavailable' });
    assert.match(judgeAttempt(early, early.legs[0] ?? null, DEFAULT_POLICY).reason, /^callee alerted \(early media\)/);
  });

  test('Dial returning -1 alone is not a caller hangup; a -2 (no Dial app) stops', () => {
    const bye = outcomeOf({ read: 'ANSWER|16|3||3005|SIP/x-1', leg: 'Normal Clearing|SIP 200 OK', result: -1 });
    assert.equal(judgeAttempt(bye, bye.legs[0] ?? null, DEFAULT_POLICY).reason, 'answered');
    assert.equal(statusAfterStop('ANSWER', judgeAttempt(bye, bye.legs[0] ?? null, DEFAULT_POLICY), false), 'ANSWER');
    const noDial = outcomeOf({ read: '|0||||', result: -2 });
    assert.equal(judgeAttempt(noDial, null, DEFAULT_POLICY).kind, 'stop');
  });
});

describe('verdict: every SIP final response through both drivers', () => {
  const carrierSide = new Set([401, 402, 407, 408, 415, 420, 421, 481, 488, 491, 493, 500, 501, 502, 503, 504, 505, 580, 606]);
  const codes = [400, 401, 402, 403, 404, 405, 407, 408, 410, 415, 420, 421, 480, 481, 483, 484, 485, 486, 487, 488, 491, 493, 500, 501, 502, 503, 504, 505, 580, 600, 603, 604, 606];
  for (const driver of ['chan_sip', 'pjsip'] as Driver[]) {
    for (const code of codes) {
      const expected = carrierSide.has(code) ? 'next' : 'stop';
      test(`${driver} SIP ${code} → ${expected}`, () => {
        const { dialStatus, cause } = dialStatusFor(code, driver);
        const o = outcomeOf({ read: `${dialStatus}|${cause}||||X/c-1` });
        const leg = parseLeg('X/c-1', `|SIP ${code} ${reasonPhrase(code)}`);
        const v = judgeAttempt({ ...o, legs: [leg] }, leg, DEFAULT_POLICY);
        assert.equal(v.kind, expected, `${dialStatus}/${cause}: ${v.reason}`);
      });
    }
  }
});

describe('verdict: without a SIP response, by DIALSTATUS', () => {
  const rows: [string, 'next' | 'stop'][] = [
    ['CHANUNAVAIL', 'next'], ['CONGESTION', 'next'], ['INVALIDARGS', 'next'], ['BUSY', 'stop'], ['NOANSWER', 'stop'],
    ['ANSWER', 'stop'], ['CANCEL', 'stop'], ['DONTCALL', 'stop'], ['TORTURE', 'stop'], ['', 'stop'],
  ];
  for (const [status, kind] of rows) {
    test(`${status || '(empty)'} → ${kind}`, () => {
      assert.equal(judgeAttempt(outcomeOf({ read: `${status}|0||||` }), null, DEFAULT_POLICY).kind, kind);
    });
  }
  test('chan_sip call-limit (CHANUNAVAIL, cause 17 set by this Dial, no SIP) is a carrier failure', () => {
    const v = judgeAttempt(outcomeOf({ read: 'CHANUNAVAIL|17||||' }), null, DEFAULT_POLICY);
    assert.equal(v.kind, 'next');
    assert.match(v.reason, /call-limit/);
  });
  test('a HANGUP line stops whatever DIALSTATUS says', () => {
    assert.equal(judgeAttempt(outcomeOf({ read: 'CONGESTION|34||||', hangup: true }), null, DEFAULT_POLICY).kind, 'stop');
  });
});

describe('verdict: per-carrier policy', () => {
  test('480 and 403 can be made carrier failures; 503 can be made final', () => {
    const p = policyFor({ retrySipCodes: [480, 403], finalSipCodes: [503], retryAfterRinging: false });
    const run = (read: string, tech: string) => {
      const o = outcomeOf({ read: `${read}||||X/c-1` });
      const leg = parseLeg('X/c-1', `|${tech}`);
      return judgeAttempt({ ...o, legs: [leg] }, leg, p).kind;
    };
    assert.equal(run('BUSY|19', 'SIP 480 Temporarily Unavailable'), 'next');
    assert.equal(run('CHANUNAVAIL|21', 'SIP 403 Forbidden'), 'next');
    assert.equal(run('CONGESTION|34', 'SIP 503 Service Unavailable'), 'stop');
  });
  test('a carrier keeps its policy object; a reloaded carrier (a new config object) gets its own', () => {
    const before = { retrySipCodes: [480], finalSipCodes: [], retryAfterRinging: false };
    const p = policyFor(before);
    assert.equal(policyFor(before), p);
    assert.ok(p.retrySip.has(480));
    const after = { retrySipCodes: [], finalSipCodes: [480], retryAfterRinging: false };
    const q = policyFor(after);
    assert.notEqual(q, p);
    assert.ok(q.finalSip.has(480) && !q.retrySip.has(480));
    assert.ok(p.retrySip.has(480), 'the old object still has its own');
  });
  test('an override never turns an answered or hung-up call into a retry', () => {
    const p = policyFor({ retrySipCodes: [486], finalSipCodes: [], retryAfterRinging: true });
    const o = outcomeOf({ read: 'BUSY|17||||X/c-1', leg: 'User busy|SIP 486 Busy Here', hangup: true, result: -1 });
    assert.equal(judgeAttempt(o, o.legs[0] ?? null, p).kind, 'stop');
  });
});

describe('verdict: simultaneous legs (simultaneous_486_503*)', () => {
  const keys = 'SIP/carrier-secondary-00000023,SIP/carrier-primary-00000022';
  const o: AttemptOutcome = {
    ...outcomeOf({ read: `BUSY|34||||${keys}` }),
    legs: [parseLeg('SIP/carrier-secondary-00000023', 'Circuit/channel congestion|SIP 503 Service Unavailable'), parseLeg('SIP/carrier-primary-00000022', 'User busy|SIP 486 Busy Here')],
  };
  test('one leg busy while the other says 503: BUSY for the callee, a carrier fault for the other', () => {
    const j = judgeTogether(o, [
      { carrier: 'primary', leg: o.legs[1] ?? null, policy: DEFAULT_POLICY },
      { carrier: 'secondary', leg: o.legs[0] ?? null, policy: DEFAULT_POLICY },
    ]);
    assert.equal(j.verdict.kind, 'stop');
    assert.equal(j.decidingLeg, 0);
    assert.equal(j.legs[0]?.carrierFault, false);
    assert.equal(j.legs[1]?.carrierFault, true);
    assert.equal(statusAfterStop(o.dialStatus, j.verdict, false), 'BUSY');
  });
  test('per-carrier policy applies per leg: a carrier whose 486 means overload makes it a carrier failure', () => {
    const j = judgeTogether(o, [
      { carrier: 'primary', leg: o.legs[1] ?? null, policy: policyFor({ retrySipCodes: [486], finalSipCodes: [], retryAfterRinging: false }) },
      { carrier: 'secondary', leg: o.legs[0] ?? null, policy: DEFAULT_POLICY },
    ]);
    assert.equal(j.verdict.kind, 'next');
  });
});

describe('the outcome read', () => {
  test('parses the reply of the outcome expression; empty fields are nulls, not zeros', () => {
    const f = parseOutcomeFields('CONGESTION|34||||');
    assert.deepEqual(f, { dialStatus: 'CONGESTION', channelCause: 34, ringMs: null, progressMs: null, answeredMs: null, keys: [] });
  });
  test('a | inside the SIP reason does not shift the ast text', () => {
    const l = parseLeg('SIP/a-1', 'Circuit/channel congestion|SIP 503 Busy | try later');
    assert.equal(l.sipCode, 503);
    assert.equal(l.sipReason, 'Busy | try later');
    assert.equal(l.cause, 34);
  });
  test('a key that could end the function argument is refused, never read', () => {
    assert.throws(() => legExpression('SIP/a-1,tech)}${SHELL(id)'));
    assert.equal(legExpression('SIP/carrier-primary-00000000'), '${HANGUPCAUSE(SIP/carrier-primary-00000000,ast)}|${HANGUPCAUSE(SIP/carrier-primary-00000000,tech)}');
  });
  test('cause texts map to Q.850 numbers as ast_cause2str names them', () => {
    assert.equal(causeFromText('Circuit/channel congestion'), 34);
    assert.equal(causeFromText('User alerting, no answer'), 19);
    assert.equal(causeFromText(''), null);
  });
  test('the exported cause falls back to what each DIALSTATUS means when the attempt left none', () => {
    assert.equal(exportedCause(null, 'CHANUNAVAIL'), '18');
    assert.equal(exportedCause(58, 'CHANUNAVAIL'), '58');
    assert.equal(exportedCause(null, 'NOANSWER'), '19');
    assert.equal(exportedCause(null, ''), '');
  });
});
