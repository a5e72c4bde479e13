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
/** `claimed`: this Dial held the one-call claim. */
const input = (k: Kind, response: Response, claimed: boolean) => ({ carrierFailure: k === 'fail', carrierSuccess: k === 'ok', response, claimed });

describe('suspect, pure', () => {
  const cases: [string, Suspect, Kind, Response, boolean, boolean, Suspect][] = [
    ['a swallowed INVITE makes a carrier suspect', null, 'fail', 'none', false, true, { since: T, heldUntil: null }],
    ['the claimant\'s swallowed INVITE keeps the first time and frees the hold', HELD, 'fail', 'none', true, true, FREE],
    ['a swallowed INVITE already under way before it became suspect leaves the claim to its holder', HELD, 'fail', 'none', false, true, HELD],
    ['a 503 (a SIP response: alive) clears it', HELD, 'fail', 'some', true, true, null],
    ['a 503 to a Dial that held no claim clears it too', HELD, 'fail', 'some', false, true, null],
    ['an answer clears it', FREE, 'ok', 'some', false, true, null],
    ['a callee-side final (success) clears it even with no response word', FREE, 'ok', 'unknown', false, true, null],
    ['a 100 Trying then silence (response, no verdict) clears it', HELD, 'neutral', 'some', true, true, null],
    ['the claimant\'s caller leaving frees the hold, the suspicion stays', HELD, 'neutral', 'unknown', true, true, FREE],
    ['the claimant\'s failure before any INVITE (call limit) frees the hold, the suspicion stays', HELD, 'fail', 'unknown', true, true, FREE],
    ['a carrier failure with a response never makes it suspect', null, 'fail', 'some', false, true, null],
    ['a failure before any INVITE never makes it suspect', null, 'fail', 'unknown', false, true, null],
    ['switched off: never suspect', null, 'fail', 'none', false, false, null],
    ['switched off: a suspect one is cleared', HELD, 'neutral', 'unknown', true, false, null],
  ];
  for (const [name, from, kind, response, claimed, enabled, want] of cases) {
    test(name, () => assert.deepEqual(onResult(from, input(kind, response, claimed), T, enabled), want));
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
  test('claim: Dials placed before it became suspect still wait on the same silence: skipped until they return', () => {
    assert.deepEqual(claimSuspect(FREE, T, 30_000, true, 2), { next: FREE, granted: false });
    assert.deepEqual(claimSuspect(FREE, T, 30_000, true, 0), { next: { since: FREE.since, heldUntil: T + 30_000 }, granted: true });
    assert.deepEqual(claimSuspect(null, T, 30_000, true, 5), { next: null, granted: true }, 'not suspect: in-flight Dials do not matter');
  });
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
    assert.equal(r.map.claimSuspect('primary'), 'free', 'not suspect yet');
    r.map.recordAttempt(swallowed('primary', now));
    const before = r.state('primary');
    assert.match(r.reason('primary') ?? '', /^suspect: no response to the last INVITE/);
    assert.equal(r.map.claimSuspect('primary'), 'claimed', 'the first call takes it');
    assert.equal(r.map.claimSuspect('primary'), 'refused', 'the second skips it');
    r.map.recordAttempt(swallowed('primary', now));
    assert.equal(r.map.claimSuspect('primary'), 'refused', 'a Dial that was under way before does not free the claim');
    assert.equal(r.map.claimSuspect('secondary'), 'free', 'other carriers are not affected');
    assert.equal(r.map.claimSuspect('secondary', 3), 'free', 'a carrier that is not suspect takes calls beside its Dials in flight');
    assert.equal(r.state('primary'), before, 'a flag in the reason, not a new state');
    assert.ok(r.reason('primary')?.includes(SUSPECT_REASON));
    assert.notEqual(r.map.inspect().get('primary')?.suspectSince, null);
    r.map.recordAttempt({ ...neutral('primary', now), suspectClaim: true });
    assert.equal(r.map.claimSuspect('primary'), 'claimed', 'the claimant\'s Dial that proved nothing gives the hold back');
    r.map.recordAttempt({ ...fail('primary', now), response: 'some' });
    assert.doesNotMatch(r.reason('primary') ?? '', /suspect/, 'a 503 is a response: cleared');
    assert.equal(r.map.claimSuspect('primary'), 'free');
    assert.equal(r.map.claimSuspect('primary'), 'free');
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
    assert.equal(r.map.claimSuspect('primary'), 'claimed');
    assert.equal(r.map.claimSuspect('primary'), 'refused');
    r.map.setSettings({ ...HEALTH, suspectAfterNoResponse: false }, 30_000);
    assert.doesNotMatch(r.reason('primary') ?? '', /suspect/);
    assert.equal(r.map.claimSuspect('primary'), 'free');
    assert.equal(r.map.claimSuspect('primary'), 'free');
    r.map.recordAttempt(swallowed('primary', r.clock.now()));
    assert.equal(r.map.claimSuspect('primary'), 'free', 'off: a swallowed INVITE changes nothing');
    assert.equal(r.map.claimSuspect('primary'), 'free');
  });
});
