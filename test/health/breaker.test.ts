import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { claim, CLOSED, ejectionMs, onSignal, onTime, windowCounts, type Breaker, type BreakerSettings, type Signal } from '../../src/health/breaker.js';
import { fail, HEALTH, mapRig, neutral, ok, parseRaw } from './helpers.js';
import { peerStatusEvent } from '../sim/ami-server.js';

const S: BreakerSettings = HEALTH;

/** Feeds signals one second apart; returns the breaker after each. */
function run(signals: readonly Signal[], s: BreakerSettings = S, start: Breaker = CLOSED, t0 = 1_000_000): Breaker[] {
  let b = start;
  const out: Breaker[] = [];
  signals.forEach((sig, i) => {
    b = onSignal(b, sig, 'x', t0 + i * 1000, s).next;
    out.push(b);
  });
  return out;
}

const F: Signal = 'failure';
const O: Signal = 'success';
const N: Signal = 'neutral';

describe('breaker, pure', () => {
  const openingCases: [string, Signal[], Partial<BreakerSettings>, string][] = [
    ['3 failures in a row open it', [F, F, F], {}, 'open'],
    ['2 failures stay closed', [F, F], {}, 'closed'],
    ['a success resets the run', [F, F, O, F, F], {}, 'closed'],
    ['neutral outcomes neither count nor reset', [F, F, N, F], {}, 'open'],
    ['consecutiveFailures 0 turns the run rule off', [F, F, F, F, F], { consecutiveFailures: 0 }, 'closed'],
    // ratio rule: 10 attempts, never 3 failures in a row
    ['ratio 6/10 > 0.5 with minVolume 10 opens', [F, F, O, F, F, O, F, O, O, F], {}, 'open'],
    ['ratio 5/10 = 0.5 is not above it', [F, F, O, F, O, F, O, O, O, F], {}, 'closed'],
    ['6 of 9 failed but under minVolume 10', [F, F, O, F, F, O, F, O, F], {}, 'closed'],
    ['minVolume 4: 3 of 4 failed opens', [F, O, F, F], { consecutiveFailures: 0, minVolume: 4 }, 'open'],
  ];
  for (const [label, signals, over, kind] of openingCases) {
    test(label, () => {
      const states = run(signals, { ...S, ...over });
      assert.equal(states[states.length - 1]?.kind, kind);
    });
  }

  test('the window forgets failures older than window ms', () => {
    const s = { ...S, consecutiveFailures: 0, minVolume: 4, window: 10_000 };
    let b: Breaker = CLOSED;
    for (let i = 0; i < 3; i++) b = onSignal(b, F, 'x', i * 100, s).next;
    assert.equal(b.kind, 'closed');
    assert.deepEqual(windowCounts(b.kind === 'closed' ? b.buckets : [], 200, s), { ok: 0, fail: 3 });
    b = onSignal(b, O, 'x', 30_000, s).next;
    assert.deepEqual(windowCounts(b.kind === 'closed' ? b.buckets : [], 30_000, s), { ok: 1, fail: 0 });
    for (let i = 0; i < 2; i++) b = onSignal(b, F, 'x', 30_100 + i, s).next;
    assert.equal(b.kind, 'closed', '2 of 3 recent is under minVolume 4');
    assert.ok(b.kind === 'closed' && b.buckets.length <= 10, 'bounded memory');
  });

  test('ejection = base × recent openings, capped at maxEjection', () => {
    assert.deepEqual([1, 2, 3, 10, 11, 100].map((n) => ejectionMs(n, S)), [30_000, 60_000, 90_000, 300_000, 300_000, 300_000]);
    assert.equal(ejectionMs(5, { ...S, baseEjection: 50_000, maxEjection: 10_000 }), 50_000, 'never below one base ejection');
  });

  test('open → half-open when the ejection ends; a failed trial re-opens for longer', () => {
    let t = 0;
    let b = run([F, F, F], S, CLOSED, t).at(-1) as Breaker;
    assert.equal(b.kind, 'open');
    t = 2000;
    assert.ok(b.kind === 'open' && b.until === t + 30_000);
    assert.equal(onTime(b, t + 29_999).kind, 'open');
    b = onTime(b, t + 30_000);
    assert.equal(b.kind, 'half-open');
    t += 30_000;
    b = onSignal(b, F, 'trial 503', t, S).next;
    assert.ok(b.kind === 'open' && b.until === t + 60_000, 'second opening: 2 × base');
    b = onSignal(onTime(b, t + 60_000), F, 'again', t + 60_000, S).next;
    assert.ok(b.kind === 'open' && b.until === t + 60_000 + 90_000, 'third: 3 × base');
  });

  test('openings are forgotten after twice maxEjection', () => {
    const first = run([F, F, F], S, CLOSED, 0).at(-1) as Breaker;
    const closed: Breaker = { ...CLOSED, openings: first.openings };
    const later = run([F, F, F], S, closed, 2 * 300_000 + 10_000).at(-1) as Breaker;
    assert.ok(later.kind === 'open' && later.until - (2 * 300_000 + 12_000) === 30_000, 'back to one base ejection');
  });

  test('half-open: exactly one trial call at a time; its hold lapses', () => {
    const half: Breaker = { kind: 'half-open', successes: 0, probeUntil: null, reason: 'ejection over', openings: [0] };
    const a = claim(half, 100, 70_000);
    assert.equal(a.granted, true);
    const b = claim(a.next, 200, 70_000);
    assert.equal(b.granted, false);
    assert.equal(claim(onTime(b.next, 70_100), 70_100, 70_000).granted, true, 'a trial that never reported frees the carrier after its hold');
    assert.equal(claim(onSignal(a.next, N, 'caller hung up', 300, S).next, 300, 70_000).granted, true, 'a neutral outcome frees it');
    assert.equal(claim(CLOSED, 0, 1).granted, true);
    assert.equal(claim({ kind: 'open', until: 10, reason: '', openings: [] }, 0, 1).granted, false);
  });

  test('recoverySuccesses good trials close it; a call that got through while open starts recovery', () => {
    const half: Breaker = { kind: 'half-open', successes: 0, probeUntil: 5, reason: 'ejection over', openings: [0] };
    const one = onSignal(half, O, 'answered', 10, S).next;
    assert.ok(one.kind === 'half-open' && one.successes === 1 && one.probeUntil === null);
    assert.equal(onSignal(one, O, 'answered', 20, S).next.kind, 'closed');
    assert.equal(onSignal(half, O, 'answered', 10, { ...S, recoverySuccesses: 1 }).next.kind, 'closed');
    const open: Breaker = { kind: 'open', until: 1000, reason: 'x', openings: [0] };
    assert.ok(onSignal(open, F, 'late failure', 10, S).next === open, 'a late failure does not extend the ejection');
    const got = onSignal(open, O, 'answered', 10, S).next;
    assert.ok(got.kind === 'half-open' && got.successes === 1);
  });

  test('a refused opening keeps the state the breaker had (for maxEjectedPercent)', () => {
    const two = run([F, F], S).at(-1) as Breaker;
    const step = onSignal(two, F, 'x', 5000, S);
    assert.equal(step.next.kind, 'open');
    assert.ok(step.trip && step.trip.held.kind === 'closed' && step.trip.held.consecutive === 3);
  });
});

describe('breaker through the health map (ManualClock, no sleeping)', () => {
  test('opens, ejection grows, half-opens, one probe, closes after recoverySuccesses, no flapping', () => {
    const r = mapRig();
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Reachable')));
    assert.equal(r.state('primary'), 'up');
    for (let i = 0; i < 3; i++) r.map.recordAttempt(fail('primary'));
    assert.equal(r.state('primary'), 'down');
    assert.match(r.reason('primary') ?? '', /breaker open until .*3 carrier failures in a row.*ejected for 30 s \(opening 1\)/);
    assert.equal(r.map.claimProbe('primary'), false, 'an open carrier takes no call');
    r.clock.advance(29_999);
    assert.equal(r.state('primary'), 'down');
    r.clock.advance(1);
    assert.equal(r.state('primary'), 'probing');
    assert.equal(r.map.claimProbe('primary'), true);
    assert.equal(r.map.claimProbe('primary'), false, 'exactly one trial call');
    r.map.recordAttempt(fail('primary', 0, 'cause 18 is a carrier failure'));
    assert.equal(r.state('primary'), 'down');
    assert.match(r.reason('primary') ?? '', /trial call failed.*ejected for 60 s \(opening 2\)/);
    r.clock.advance(60_000);
    assert.equal(r.state('primary'), 'probing');
    assert.equal(r.map.claimProbe('primary'), true);
    r.map.recordAttempt(ok('primary'));
    assert.equal(r.state('primary'), 'probing', 'one success is not enough (recoverySuccesses 2)');
    assert.equal(r.map.claimProbe('primary'), true, 'the next trial may go once the first reported');
    r.map.recordAttempt(ok('primary'));
    assert.equal(r.state('primary'), 'up');
    assert.deepEqual(
      r.events.map((e) => [e.to, e.source]),
      [
        ['up', 'ami'],
        ['down', 'breaker'],
        ['probing', 'breaker'],
        ['down', 'breaker'],
        ['probing', 'breaker'],
        ['up', 'breaker'],
      ],
    );
    assert.ok(r.logs.lines().some((l) => l['msg'] === 'carrier back up' && l['carrier'] === 'primary'));
  });

  test('a neutral signal frees the trial without counting', () => {
    const r = mapRig();
    for (let i = 0; i < 3; i++) r.map.recordAttempt(fail('primary'));
    r.clock.advance(30_000);
    assert.equal(r.map.claimProbe('primary'), true);
    r.map.recordAttempt(neutral('primary'));
    assert.equal(r.state('primary'), 'probing');
    assert.equal(r.map.claimProbe('primary'), true);
  });

  test('a trial call that never reports frees the carrier after ringTimeout + progressTimeout + 10 s', () => {
    const r = mapRig();
    for (let i = 0; i < 3; i++) r.map.recordAttempt(fail('primary'));
    r.clock.advance(30_000);
    assert.equal(r.map.claimProbe('primary'), true);
    r.clock.advance(74_999);
    assert.equal(r.map.claimProbe('primary'), false);
    r.clock.advance(1);
    assert.equal(r.map.claimProbe('primary'), true);
  });

  test('the ratio rule opens a carrier that never fails three times in a row', () => {
    const r = mapRig();
    const pattern = [F, F, O, F, F, O, F, O, O, F];
    for (const s of pattern) r.map.recordAttempt(s === F ? fail('secondary') : ok('secondary'));
    assert.equal(r.state('secondary'), 'down');
    assert.match(r.reason('secondary') ?? '', /6 of 10 attempts failed within 60 s/);
  });

  test('Asterisk reporting a down carrier reachable again: trial calls before up', () => {
    const r = mapRig();
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Unreachable')));
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Reachable')));
    assert.equal(r.state('primary'), 'probing');
    r.map.recordAttempt(ok('primary'));
    r.map.recordAttempt(ok('primary'));
    assert.equal(r.state('primary'), 'up');
    // flapping qualify: each return needs trials again; a failed trial ejects
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Unreachable')));
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Reachable')));
    r.map.recordAttempt(fail('primary'));
    assert.equal(r.state('primary'), 'down');
    assert.match(r.reason('primary') ?? '', /breaker open/);
  });

  test('recoverySuccesses 0: Asterisk saying reachable is enough', () => {
    const r = mapRig({ health: { recoverySuccesses: 0 } });
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Unreachable')));
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Reachable')));
    assert.equal(r.state('primary'), 'up');
  });

  test('AMI down wins over a half-open breaker, and claimProbe then refuses', () => {
    const r = mapRig();
    for (let i = 0; i < 3; i++) r.map.recordAttempt(fail('primary'));
    r.clock.advance(30_000);
    assert.equal(r.state('primary'), 'probing');
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Unreachable')));
    assert.equal(r.state('primary'), 'down');
    assert.equal(r.map.claimProbe('primary'), false);
  });

  test('a timer, not only snapshot(), ends an ejection', async () => {
    const r = mapRig({ health: { baseEjection: 30 } });
    r.clock.set(Date.now());
    for (let i = 0; i < 3; i++) r.map.recordAttempt(fail('primary'));
    assert.equal(r.events.at(-1)?.to, 'down');
    r.clock.set(Date.now() + 60);
    await new Promise((res) => setTimeout(res, 80));
    assert.equal(r.events.at(-1)?.to, 'probing', 'the event came without anyone asking');
    r.map.close();
  });
});
