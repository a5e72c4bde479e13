import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CapacityLedger } from '../../src/calls/capacity-ledger.js';
import { parseRouting } from '../../src/config/carriers.js';
import type { CarrierConfig } from '../../src/config/types.js';
import { burstOf, capacityBlock, freshUsage, limitsOf, refill, releaseChannel, startsLastSecond, takeChannel, type CapacityLimits, type CarrierUsage } from '../../src/routing/capacity.js';

const T0 = 1_700_000_000_000;
const carrier = (name: string, p: Partial<CarrierConfig> = {}): CarrierConfig => ({
  name, dial: `SIP/\${number}@${name}`, peer: name, ringTimeout: 60, progressTimeout: 5, adaptiveProgress: null, dialOptions: 'T', weight: 1, enabled: true, retrySipCodes: [], finalSipCodes: [], retryAfterRinging: false, maxChannels: 0, maxCps: 0, clusterShare: 1, pricePerMinute: 0, pricePerCall: 0, billingIncrement: 1, budget: null, ...p,
});

describe('capacity limits: the contract and this dialer’s share of it', () => {
  const rows: { why: string; c: Partial<CarrierConfig>; channels: number | null; cps: number | null }[] = [
    { why: 'no caps by default', c: {}, channels: null, cps: null },
    { why: 'a channel cap alone', c: { maxChannels: 30 }, channels: 30, cps: null },
    { why: 'a cps cap alone', c: { maxCps: 10 }, channels: null, cps: 10 },
    { why: 'half of 30 channels is 15', c: { maxChannels: 30, clusterShare: 0.5 }, channels: 15, cps: null },
    { why: 'a third of 10 channels rounds down to 3 (never over the contract across 3 dialers)', c: { maxChannels: 10, clusterShare: 1 / 3 }, channels: 3, cps: null },
    { why: 'a share of the cps is not rounded (the bucket takes fractions)', c: { maxCps: 10, clusterShare: 0.25 }, channels: null, cps: 2.5 },
    { why: 'a fractional cps cap', c: { maxCps: 0.5 }, channels: null, cps: 0.5 },
  ];
  for (const r of rows) {
    test(r.why, () => {
      const l = limitsOf(carrier('x', r.c));
      assert.deepEqual([l.channels, l.cps], [r.channels, r.cps]);
    });
  }
  test('the bucket holds one second of calls, and at least one', () => {
    assert.deepEqual([10, 0.5, 2.5].map((cps) => burstOf({ channels: null, cps, share: '' })), [10, 1, 2.5]);
  });
});

describe('channel counting', () => {
  const lim: CapacityLimits = limitsOf(carrier('x', { maxChannels: 2 }));
  test('two legs take the two channels; the third is refused with in-use/cap', () => {
    let u = freshUsage(lim, T0);
    assert.equal(capacityBlock(u, lim, T0), null);
    u = takeChannel(u, lim, T0);
    assert.equal(capacityBlock(u, lim, T0), null);
    u = takeChannel(u, lim, T0);
    assert.equal(capacityBlock(u, lim, T0), 'at channel cap 2/2');
    u = releaseChannel(u);
    assert.equal(capacityBlock(u, lim, T0 + 60_000), null, 'a Dial that returned frees its channel');
  });
  test('a release never goes below zero (a release after a reload dropped the count)', () => {
    assert.equal(releaseChannel(releaseChannel(freshUsage(lim, T0))).channels, 0);
  });
  test('with clusterShare the reason names the contract', () => {
    const half = limitsOf(carrier('x', { maxChannels: 30, clusterShare: 0.5 }));
    let u = freshUsage(half, T0);
    for (let i = 0; i < 15; i++) u = takeChannel(u, half, T0);
    assert.equal(capacityBlock(u, half, T0, { maxChannels: 30, maxCps: 0 }), 'at channel cap 15/15 (clusterShare 0.5 of 30)');
  });
  test('no cap: any number of legs', () => {
    const none = limitsOf(carrier('x'));
    let u = freshUsage(none, T0);
    for (let i = 0; i < 1000; i++) u = takeChannel(u, none, T0);
    assert.equal(capacityBlock(u, none, T0), null);
    assert.equal(u.channels, 1000);
  });
});

describe('the cps token bucket, with the clock passed in', () => {
  /** Starts legs at the given offsets (ms): each row says which were let through. */
  const run = (lim: CapacityLimits, at: readonly number[]): boolean[] => {
    let u: CarrierUsage = freshUsage(lim, T0);
    return at.map((ms) => {
      const now = T0 + ms;
      if (capacityBlock(u, lim, now) !== null) return false;
      u = releaseChannel(takeChannel(u, lim, now));
      return true;
    });
  };
  const rows: { why: string; cps: number; at: number[]; through: boolean[] }[] = [
    { why: '10 cps: a burst of 10 at once goes, the 11th waits', cps: 10, at: Array(11).fill(0), through: [...Array(10).fill(true), false] },
    { why: '10 cps: 100 ms later one more token', cps: 10, at: [...Array(10).fill(0), 99, 100], through: [...Array(10).fill(true), false, true] },
    { why: '2 cps steady: one every 500 ms goes', cps: 2, at: [0, 0, 500, 1000, 1500, 2000], through: [true, true, true, true, true, true] },
    { why: '2 cps: faster than that is refused until the bucket refills', cps: 2, at: [0, 0, 100, 200, 499, 500], through: [true, true, false, false, false, true] },
    { why: '0.5 cps: one call, then two seconds', cps: 0.5, at: [0, 1000, 1999, 2000], through: [true, false, false, true] },
    { why: 'a long idle never stores more than one second of calls', cps: 3, at: [0, 0, 0, 60_000, 60_000, 60_000, 60_000], through: [true, true, true, true, true, true, false] },
    { why: 'refill in tenths adds up to whole tokens (float arithmetic)', cps: 1, at: [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000], through: [true, ...Array(9).fill(false), true] },
  ];
  for (const r of rows) {
    test(r.why, () => assert.deepEqual(run(limitsOf(carrier('x', { maxCps: r.cps })), r.at), r.through));
  }
  test('the reason says the rate', () => {
    const lim = limitsOf(carrier('x', { maxCps: 10 }));
    let u = freshUsage(lim, T0);
    for (let i = 0; i < 10; i++) u = takeChannel(u, lim, T0);
    assert.equal(capacityBlock(u, lim, T0), 'at 10 cps');
    const quarter = limitsOf(carrier('x', { maxCps: 10, clusterShare: 0.25 }));
    let q = freshUsage(quarter, T0);
    q = takeChannel(takeChannel(q, quarter, T0), quarter, T0);
    assert.equal(capacityBlock(q, quarter, T0, { maxChannels: 0, maxCps: 10 }), 'at 2.5 cps (clusterShare 0.25 of 10)');
  });
  test('a clock that steps back refills nothing and does not stall the bucket', () => {
    const lim = limitsOf(carrier('x', { maxCps: 1 }));
    let u = takeChannel(freshUsage(lim, T0), lim, T0);
    u = refill(u, lim, T0 - 5000);
    assert.ok(u.tokens < 1);
    assert.equal(capacityBlock(u, lim, T0 - 4000), null, 'one second after the step back, one token');
  });
  test('channels and cps together: the channel cap is named first', () => {
    const lim = limitsOf(carrier('x', { maxChannels: 1, maxCps: 1 }));
    const u = takeChannel(freshUsage(lim, T0), lim, T0);
    assert.equal(capacityBlock(u, lim, T0), 'at channel cap 1/1');
    assert.equal(capacityBlock(releaseChannel(u), lim, T0), 'at 1 cps');
  });
  test('starts in the last whole second, for status', () => {
    const lim = limitsOf(carrier('x'));
    let u = freshUsage(lim, T0);
    for (let i = 0; i < 7; i++) u = takeChannel(u, lim, T0 + 100 + i);
    assert.equal(startsLastSecond(u, T0 + 500), 0, 'the second still running is not shown');
    assert.equal(startsLastSecond(u, T0 + 1500), 7);
    assert.equal(startsLastSecond(u, T0 + 2500), 0, 'a quiet second after it');
    assert.equal(u.startsTotal, 7);
  });
});

describe('the ledger: counts shared by calls, kept across a reload', () => {
  test('acquire and release per carrier; the snapshot shows in-use/cap', () => {
    const l = new CapacityLedger([carrier('a', { maxChannels: 2 }), carrier('b')], T0);
    l.acquire('a', T0);
    l.acquire('a', T0);
    l.acquire('b', T0);
    assert.equal(l.blocked('a', T0), 'at channel cap 2/2');
    assert.equal(l.blocked('b', T0), null);
    const s = l.snapshot(T0);
    assert.deepEqual({ ...s.get('a') }, { channelsInUse: 2, channelCap: 2, cpsLastSecond: 0, cpsCap: null, startsTotal: 2, atCap: 'at channel cap 2/2' });
    assert.equal(s.get('b')?.channelCap, null);
    l.release('a');
    assert.equal(l.blocked('a', T0), null);
  });
  test('a reload keeps the counts of carriers that keep their name, with the new cap', () => {
    const l = new CapacityLedger([carrier('a', { maxChannels: 3, maxCps: 10 })], T0);
    for (let i = 0; i < 3; i++) l.acquire('a', T0);
    l.configure([carrier('a', { maxChannels: 2, maxCps: 2 })], T0);
    assert.equal(l.blocked('a', T0), 'at channel cap 3/2', 'three calls in progress over a cap lowered to 2');
    l.release('a');
    l.release('a');
    assert.equal(l.blocked('a', T0), null, 'back under the new cap; 2 of the 7 tokens left fit the new bucket');
    l.acquire('a', T0);
    l.release('a');
    l.acquire('a', T0);
    l.release('a');
    assert.equal(l.blocked('a', T0), 'at 2 cps', 'the bucket was cut to the new burst of 2');
  });
  test('a carrier the reload drops: its calls in progress release without error, then it is gone', () => {
    const l = new CapacityLedger([carrier('a', { maxChannels: 1 }), carrier('b')], T0);
    l.acquire('a', T0);
    l.configure([carrier('b')], T0);
    assert.equal(l.snapshot(T0).has('a'), false);
    l.configure([carrier('a', { maxChannels: 1 }), carrier('b')], T0);
    assert.equal(l.blocked('a', T0), 'at channel cap 1/1', 'back in the config while its old call is still up: that call still counts');
    l.release('a');
    assert.equal(l.blocked('a', T0), null);
    l.release('zzz');
    assert.equal(l.blocked('zzz', T0), null, 'an unknown carrier is never capped');
  });
});

describe('capacity config: strict, every problem listed', () => {
  const route = [{ name: 'r', carriers: ['a'] }];
  const parse = (extra: Record<string, unknown>) => parseRouting([{ name: 'a', dial: 'SIP/${number}@a', ...extra }], route);
  test('defaults: no caps, the whole contract', () => {
    const r = parse({});
    assert.ok(r.ok);
    const c = r.routing.carriers.get('a');
    assert.deepEqual([c?.maxChannels, c?.maxCps, c?.clusterShare], [0, 0, 1]);
  });
  test('accepted: whole channels, fractional cps, a share', () => {
    const r = parse({ maxChannels: 30, maxCps: 2.5, clusterShare: 0.5 });
    assert.ok(r.ok);
    assert.deepEqual([r.routing.carriers.get('a')?.maxChannels, r.routing.carriers.get('a')?.maxCps, r.routing.carriers.get('a')?.clusterShare], [30, 2.5, 0.5]);
  });
  const bad: { why: string; extra: Record<string, unknown>; problem: RegExp }[] = [
    { why: 'maxChannels as text', extra: { maxChannels: '30' }, problem: /maxChannels = "30": must be a whole number/ },
    { why: 'maxChannels fractional', extra: { maxChannels: 2.5 }, problem: /maxChannels = 2.5/ },
    { why: 'maxChannels negative', extra: { maxChannels: -1 }, problem: /maxChannels = -1/ },
    { why: 'maxCps as text', extra: { maxCps: '10' }, problem: /maxCps = "10": must be a number of calls per second/ },
    { why: 'maxCps negative', extra: { maxCps: -2 }, problem: /maxCps = -2/ },
    { why: 'clusterShare above 1', extra: { maxChannels: 10, clusterShare: 1.5 }, problem: /clusterShare = 1.5/ },
    { why: 'clusterShare 0', extra: { maxChannels: 10, clusterShare: 0 }, problem: /clusterShare = 0: must be above 0/ },
    { why: 'clusterShare as a percentage', extra: { maxChannels: 10, clusterShare: '50%' }, problem: /clusterShare = "50%"/ },
    { why: 'a share that leaves no whole channel', extra: { maxChannels: 3, clusterShare: 0.25 }, problem: /maxChannels 3 × clusterShare 0.25 rounds down to 0 channels/ },
    { why: 'a share of no contract', extra: { clusterShare: 0.5 }, problem: /clusterShare = 0.5: has nothing to share/ },
  ];
  for (const b of bad) {
    test(`refused: ${b.why}`, () => {
      const r = parse(b.extra);
      assert.equal(r.ok, false);
      if (!r.ok) assert.ok(r.problems.some((p) => b.problem.test(p)), r.problems.join('\n'));
    });
  }
  test('several bad keys: each named', () => {
    const r = parse({ maxChannels: 'x', maxCps: 'y', clusterShare: 7 });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.problems.filter((p) => /maxChannels|maxCps|clusterShare/.test(p)).length, 3, r.problems.join('\n'));
  });
});
