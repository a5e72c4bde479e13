import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { attemptTimings, postDialDelay } from '../../src/calls/attempt-records.js';

describe('attempt timings from Asterisk\'s millisecond variables', () => {
  const table: [string, { ringMs: number | null; progressMs: number | null }, { pddMs: number | null; ringtimeMs: number | null; progresstimeMs: number | null }][] = [
    ['nothing rang (503 at once, swallowed INVITE)', { ringMs: null, progressMs: null }, { pddMs: null, ringtimeMs: null, progresstimeMs: null }],
    ['a 180 (sip_180_then_503: RINGTIME_MS 3)', { ringMs: 3, progressMs: null }, { pddMs: 3, ringtimeMs: 3, progresstimeMs: null }],
    ['a 183 with SDP (sip_183_then_503: PROGRESSTIME_MS 2)', { ringMs: null, progressMs: 2 }, { pddMs: 2, ringtimeMs: null, progresstimeMs: 2 }],
    ['183 then 180: the earlier one', { ringMs: 2400, progressMs: 900 }, { pddMs: 900, ringtimeMs: 2400, progresstimeMs: 900 }],
    ['180 then 183: the earlier one', { ringMs: 700, progressMs: 1500 }, { pddMs: 700, ringtimeMs: 700, progresstimeMs: 1500 }],
    ['RINGTIME_MS 0 (ringing within the first ms) is a delay of 0, not none', { ringMs: 0, progressMs: null }, { pddMs: 0, ringtimeMs: 0, progresstimeMs: null }],
  ];
  for (const [name, o, want] of table) test(`post-dial delay: ${name}`, () => assert.deepEqual(postDialDelay(o), want));

  test('talk time is ANSWEREDTIME_MS as Asterisk measured it; time to answer is the rest of the Dial on our clock', () => {
    assert.deepEqual(attemptTimings(true, 3002, 10_000, 15_010), { answeredAt: 12_008, ringMs: 2008, talkMs: 3002 });
    // a replay or a clock step can make our Dial shorter than Asterisk's talk time: talk time stays Asterisk's, time to answer 0
    assert.deepEqual(attemptTimings(true, 3004, 10_000, 10_050), { answeredAt: 10_000, ringMs: 0, talkMs: 3004 });
    assert.deepEqual(attemptTimings(false, null, 10_000, 14_006), { answeredAt: null, ringMs: 4006, talkMs: 0 });
  });
});
