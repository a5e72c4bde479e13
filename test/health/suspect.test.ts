import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { claimSuspect, onResult, SUSPECT_REASON, type Response, type Suspect } from '../../src/health/suspect.js';
import type { AttemptOutcome, LegOutcome } from '../../src/routing/outcome.js';
import { dialResponse } from '../../src/routing/verdict.js';
import { fail, HEALTH, mapRig, neutral, ok } from './helpers.js';

const T = 1_000_000;
const FREE: Suspect = { since: T - 5000, heldUntil: null };
const HELD: Suspect = { since: T - 5000, heldUntil: T + 60_000 };

type Kind = 'fail' | 'ok' | 'neutral';
const input = (k: Kind, response: Response) => ({ carrierFailure: k === 'fail', carrierSuccess: k === 'ok', response });

describe('suspect, pure', () => {
  const cases: [string, Suspect, Kind, Response, boolean, Suspect][] = [
    ['a swallowed INVITE makes a carrier suspect', null, 'fail', 'none', true, { since: T, heldUntil: null }],
    ['a second swallowed INVITE keeps the first time and frees the hold', HELD, 'fail', 'none', true, FREE],
    ['a 503 (a SIP response: alive) clears it', HELD, 'fail', 'some', true, null],
    ['an answer clears it', FREE, 'ok', 'some', true, null],
    ['a callee-side final (success) clears it even with no response word', FREE, 'ok', 'unknown', true, null],
    ['a 100 Trying then silence (response, no verdict) clears it', HELD, 'neutral', 'some', true, null],
    ['the caller leaving frees the hold, the suspicion stays', HELD, 'neutral', 'unknown', true, FREE],
    ['a failure before any INVITE (call limit) frees the hold, the suspicion stays', HELD, 'fail', 'unknown', true, FREE],
    ['a carrier failure with a response never makes it suspect', null, 'fail', 'some', true, null],
    ['switched off: never suspect', null, 'fail', 'none', false, null],
    ['switched off: a suspect one is cleared', HELD, 'neutral', 'unknown', false, null],
  ];
  for (const [name, from, kind, response, enabled, want] of cases) {
    test(name, () => assert.deepEqual(onResult(from, input(kind, response), T, enabled), want));
  }

  const claims: [string, Suspect, boolean, boolean, Suspect][] = [
    ['not suspect: every call may dial it, nothing held', null, true, true, null],
    ['suspect and free: this call takes it', FREE, true, true, { since: FREE.since, heldUntil: T + 30_000 }],
    ['suspect and held: the next call skips it', HELD, true, false, HELD],
    ['a hold past its time lapses (a Dial that never reported back)', { since: T - 90_000, heldUntil: T - 1 }, true, true, { since: T - 90_000, heldUntil: T + 30_000 }],
    ['switched off: granted, nothing held', HELD, false, true, HELD],
  ];
  for (const [name, from, enabled, granted, next] of claims) {
    test(`claim: ${name}`, () => assert.deepEqual(claimSuspect(from, T, 30_000, enabled), { next, granted }));
  }
});

function outcome(o: Partial<AttemptOutcome>): AttemptOutcome {
  return { dialStatus: 'CHANUNAVAIL', dialResult: 0, ringMs: null, progressMs: null, answeredMs: null, channelCause: 16, channelCauseBefore: 16, callerLeft: false, keys: [], legs: [], ...o };
}
const leg = (tech: string, sipCode: number | null): LegOutcome => ({ key: 'PJSIP/primary-1', tech, sipCode, sipReason: '', cause: null });

describe('dialResponse: did the carrier answer the INVITE at all', () => {
  const cases: [string, AttemptOutcome, LegOutcome | null, Response][] = [
    ['progress timeout, no key (pjsip_blackhole)', outcome({}), null, 'none'],
    ['timer B, cause 18, no key (timeout_blackhole)', outcome({ channelCause: 18 }), null, 'none'],
    ['CONGESTION with no code and no key', outcome({ dialStatus: 'CONGESTION' }), null, 'none'],
    ['a 503', outcome({}), leg('SIP 503 Service Unavailable', 503), 'some'],
    ['100 Trying then the progress timeout', outcome({}), leg('SIP 100 Trying', null), 'some'],
    ['rang, then CHANUNAVAIL', outcome({ ringMs: 900 }), null, 'some'],
    ['answered', outcome({ dialStatus: 'ANSWER' }), null, 'some'],
    ['call limit, cause 17: no INVITE sent', outcome({ channelCause: 17 }), null, 'unknown'],
    ['unreachable, cause 20: no INVITE sent', outcome({ channelCause: 20 }), null, 'unknown'],
    ['NOANSWER without a leg', outcome({ dialStatus: 'NOANSWER' }), null, 'unknown'],
  ];
  for (const [name, o, l, want] of cases) test(name, () => assert.equal(dialResponse(o, l), want));
});

describe('suspect in the health map', () => {
  const swallowed = (c: string, at: number) => ({ ...fail(c, at, 'CHANUNAVAIL with no SIP response'), response: 'none' as const });

  test('one call at a time after a swallowed INVITE; the state stays up and says why', () => {
    const r = mapRig({ health: { consecutiveFailures: 3 } });
    const now = r.clock.now();
    assert.equal(r.map.claimSuspect('primary'), true, 'not suspect yet');
    r.map.recordAttempt(swallowed('primary', now));
    const before = r.state('primary');
    assert.match(r.reason('primary') ?? '', /^suspect: no response to the last INVITE/);
    assert.equal(r.map.claimSuspect('primary'), true, 'the first call takes it');
    assert.equal(r.map.claimSuspect('primary'), false, 'the second skips it');
    assert.equal(r.map.claimSuspect('secondary'), true, 'other carriers are not affected');
    assert.equal(r.state('primary'), before, 'a flag in the reason, not a new state');
    assert.ok(r.reason('primary')?.includes(SUSPECT_REASON));
    assert.notEqual(r.map.inspect().get('primary')?.suspectSince, null);
    r.map.recordAttempt(neutral('primary', now));
    assert.equal(r.map.claimSuspect('primary'), true, 'a Dial that proved nothing gives the hold back');
    r.map.recordAttempt({ ...fail('primary', now), response: 'some' });
    assert.doesNotMatch(r.reason('primary') ?? '', /suspect/, 'a 503 is a response: cleared');
    assert.equal(r.map.claimSuspect('primary'), true);
    assert.equal(r.map.claimSuspect('primary'), true);
    assert.equal(r.map.inspect().get('primary')?.suspectSince, null);
  });

  test('the breaker still opens at consecutiveFailures', () => {
    const r = mapRig({ health: { consecutiveFailures: 3 } });
    for (let i = 0; i < 3; i++) r.map.recordAttempt(swallowed('primary', r.clock.now()));
    assert.equal(r.state('primary'), 'down');
  });

  test('a success clears it; switched off by a reload, nothing is suspect', () => {
    const r = mapRig();
    r.map.recordAttempt(swallowed('primary', r.clock.now()));
    r.map.recordAttempt(ok('primary', r.clock.now()));
    assert.doesNotMatch(r.reason('primary') ?? '', /suspect/);
    r.map.recordAttempt(swallowed('primary', r.clock.now()));
    assert.equal(r.map.claimSuspect('primary'), true);
    assert.equal(r.map.claimSuspect('primary'), false);
    r.map.setSettings({ ...HEALTH, suspectAfterNoResponse: false }, 30_000);
    assert.doesNotMatch(r.reason('primary') ?? '', /suspect/);
    assert.equal(r.map.claimSuspect('primary'), true);
    assert.equal(r.map.claimSuspect('primary'), true);
    r.map.recordAttempt(swallowed('primary', r.clock.now()));
    assert.equal(r.map.claimSuspect('primary'), true, 'off: a swallowed INVITE changes nothing');
    assert.equal(r.map.claimSuspect('primary'), true);
  });
});
