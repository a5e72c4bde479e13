import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classify, policyFor, DEFAULT_POLICY } from '../../src/routing/classify.js';
import { parseOutcome, type Outcome } from '../../src/routing/outcome.js';
import { dialStatusFor, reasonPhrase, type Driver } from '../sim/sip-tables.js';

function outcome(p: Partial<Outcome>): Outcome {
  return { dialResult: 0, hangupSeen: false, dialStatus: '', cause: null, tech: '', sipCode: null, sipReason: '', dialedTime: null, answeredTime: null, channels: [], ...p };
}

describe('classify: the captures (Asterisk 20, chan_sip)', () => {
  // [case file, Dial result, expanded GET FULL VARIABLE, HANGUP line seen, expected verdict]
  const rows: [string, number, string, boolean, 'next' | 'stop'][] = [
    ['sip503.txt', 0, 'CONGESTION|34|||SIP/carrier-primary-00000003|SIP 503 Service Unavailable', false, 'next'],
    ['sip486.txt', 0, 'BUSY|17|||SIP/carrier-primary-00000004|SIP 486 Busy Here', false, 'stop'],
    ['sip404.txt', 0, 'CHANUNAVAIL|1|||SIP/carrier-primary-00000005|SIP 404 Not Found', false, 'stop'],
    ['sip200_builtin_uas.txt', -1, 'ANSWER|16|30|30|SIP/carrier-primary-00000006|SIP 200 OK', true, 'stop'],
    ['sip200_callee_bye.txt', -1, 'ANSWER|16|3|3|SIP/carrier-primary-00000007|SIP 200 OK', false, 'stop'],
    ['timeout_no_sipp.txt', 0, 'CHANUNAVAIL|20|||| ', false, 'next'],
    ['ring_noanswer.txt', 0, 'NOANSWER|0|20||SIP/carrier-primary-00000008|SIP 180 Ringing', false, 'stop'],
    ['timeout_blackhole.txt', 0, 'CHANUNAVAIL|18||||', false, 'next'],
    ['timeout_carrier_just_died.txt', 0, 'CHANUNAVAIL|18||||', false, 'next'],
    ['lagged_peer.txt', 0, 'CHANUNAVAIL|20||||', false, 'next'],
    ['recheck_sip486_after_restart.txt', 0, 'BUSY|17|||SIP/carrier-primary-00000000|SIP 486 Busy Here', false, 'stop'],
    ['qualify=no, CONGESTION timer wins', 0, 'CONGESTION|0||||', false, 'next'],
    ['qualify=no, CHANUNAVAIL/0', 0, 'CHANUNAVAIL|0||||', false, 'next'],
    ['progress timeout 60^5', 0, 'CHANUNAVAIL|0|5|||', false, 'next'],
    ['PJSIP endpoint with no reachable contact', 0, 'CHANUNAVAIL|3||||', false, 'next'],
    ['caller hung up while ringing', -1, 'CANCEL|16|4||SIP/carrier-primary-00000009|SIP 180 Ringing', true, 'stop'],
    ['chan_sip call-limit reached', 0, 'CHANUNAVAIL|17||||', false, 'next'],
  ];
  for (const [label, result, expanded, hangup, kind] of rows) {
    test(`${label} → ${kind}`, () => {
      const v = classify(parseOutcome(expanded, result, hangup));
      assert.equal(v.kind, kind, v.reason);
    });
  }
  test('an answered call is marked answered; a 503 is a carrier fault; a 486 proves the carrier', () => {
    const a = classify(parseOutcome('ANSWER|16|30|30|SIP/x-1|SIP 200 OK', -1, true));
    assert.ok(a.kind === 'stop' && a.answered);
    assert.equal(classify(parseOutcome('CONGESTION|34|||SIP/x-1|SIP 503 Service Unavailable', 0, false)).carrierFault, true);
    const b = classify(parseOutcome('BUSY|17|||SIP/x-1|SIP 486 Busy Here', 0, false));
    assert.equal(b.carrierFault, false);
    assert.equal(b.carrierProven, true);
  });
});

describe('classify: every SIP final response through both drivers', () => {
  const retry = new Set([408, 500, 502, 503, 504, 501, 505, 580]);
  const codes = [400, 401, 403, 404, 405, 407, 408, 410, 415, 420, 480, 483, 484, 485, 486, 487, 488, 500, 501, 502, 503, 504, 505, 580, 600, 603, 604, 606];
  for (const driver of ['chan_sip', 'pjsip'] as Driver[]) {
    for (const code of codes) {
      const expected = retry.has(code) ? 'next' : 'stop';
      test(`${driver} SIP ${code} → ${expected}`, () => {
        const { dialStatus, cause } = dialStatusFor(code, driver);
        const v = classify(outcome({ dialStatus, cause, sipCode: code, sipReason: reasonPhrase(code), tech: `SIP ${code} ${reasonPhrase(code)}` }));
        assert.equal(v.kind, expected, `${dialStatus}/${cause}: ${v.reason}`);
      });
    }
  }
});

describe('classify: by cause when no SIP code, by DIALSTATUS last', () => {
  const rows: [string, number | null, 'next' | 'stop'][] = [
    ['CHANUNAVAIL', 3, 'next'], ['CHANUNAVAIL', 18, 'next'], ['CHANUNAVAIL', 20, 'next'], ['CHANUNAVAIL', 27, 'next'],
    ['CONGESTION', 34, 'next'], ['CHANUNAVAIL', 38, 'next'], ['CHANUNAVAIL', 41, 'next'], ['CONGESTION', 42, 'next'],
    ['CHANUNAVAIL', 102, 'next'], ['CHANUNAVAIL', 1, 'stop'], ['BUSY', 17, 'stop'], ['NOANSWER', 19, 'stop'],
    ['CHANUNAVAIL', 21, 'stop'], ['CHANUNAVAIL', 22, 'stop'], ['CHANUNAVAIL', 28, 'stop'], ['NOANSWER', 0, 'stop'],
    ['BUSY', null, 'stop'], ['CHANUNAVAIL', null, 'next'], ['CONGESTION', null, 'next'], ['INVALIDARGS', null, 'next'],
    ['ANSWER', 16, 'stop'], ['CANCEL', 16, 'stop'], ['DONTCALL', null, 'stop'], ['TORTURE', null, 'stop'], ['', null, 'stop'],
  ];
  for (const [dialStatus, cause, kind] of rows) {
    test(`${dialStatus || '(empty)'} cause ${cause ?? '-'} → ${kind}`, () => {
      assert.equal(classify(outcome({ dialStatus, cause })).kind, kind);
    });
  }
  test('Dial returning -1 always stops, whatever DIALSTATUS says', () => {
    assert.equal(classify(outcome({ dialResult: -1, dialStatus: 'CHANUNAVAIL', cause: 18 })).kind, 'stop');
    assert.equal(classify(outcome({ dialResult: 0, hangupSeen: true, dialStatus: 'CONGESTION', cause: 34 })).kind, 'stop');
  });
  test('Dial not found (-2) stops', () => {
    assert.equal(classify(outcome({ dialResult: -2 })).kind, 'stop');
  });
});

describe('per-carrier policy overrides', () => {
  test('480 and 403 can be made retryable; 503 can be made final', () => {
    const p = policyFor({ retrySipCodes: [480, 403], finalSipCodes: [503] });
    assert.equal(classify(outcome({ dialStatus: 'BUSY', cause: 19, sipCode: 480 }), p).kind, 'next');
    assert.equal(classify(outcome({ dialStatus: 'CHANUNAVAIL', cause: 21, sipCode: 403 }), p).kind, 'next');
    assert.equal(classify(outcome({ dialStatus: 'CONGESTION', cause: 34, sipCode: 503 }), p).kind, 'stop');
    assert.equal(classify(outcome({ dialStatus: 'CONGESTION', cause: 34, sipCode: 503 }), DEFAULT_POLICY).kind, 'next');
  });
  test('an override never turns an answered or hung-up call into a retry', () => {
    const p = policyFor({ retrySipCodes: [486], finalSipCodes: [] });
    assert.equal(classify(outcome({ dialResult: -1, hangupSeen: true, dialStatus: 'BUSY', sipCode: 486, cause: 17 }), p).kind, 'stop');
  });
});

describe('parseOutcome', () => {
  test('a | inside the SIP reason does not shift fields', () => {
    const o = parseOutcome('CONGESTION|34|||SIP/a-1|SIP 503 Busy | try later', 0, false);
    assert.equal(o.sipCode, 503);
    assert.equal(o.sipReason, 'Busy | try later');
    assert.deepEqual(o.channels, ['SIP/a-1']);
  });
  test('empty expansion gives nulls, not zeros', () => {
    const o = parseOutcome('||||', 0, false);
    assert.equal(o.cause, null);
    assert.equal(o.sipCode, null);
    assert.equal(o.dialedTime, null);
  });
});
