import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CostLedger } from '../../src/calls/cost-ledger.js';
import type { CarrierBudget, CarrierConfig } from '../../src/config/types.js';
import { budgetReason, charge, crossings, freshSpend, isBudgetReason, overBudget, peersAt, peerTotals, windowStart, type CarrierSpend, type PeerWindowSpend } from '../../src/routing/cost.js';
import { spendText } from '../../src/ops/status.js';

/** Local clock times, as the windows are: 10:30 on a day with no DST change. */
const at = (h: number, m = 0, s = 0, day = 2): number => new Date(2026, 11, day, h, m, s).getTime();
const T0 = at(10, 30);
const carrier = (name: string, p: Partial<CarrierConfig> = {}): CarrierConfig => ({
  name, dial: `SIP/\${number}@${name}`, peer: name, ringTimeout: 60, progressTimeout: 5, adaptiveProgress: null, dialOptions: 'T', weight: 1, enabled: true, retrySipCodes: [], finalSipCodes: [], retryAfterRinging: false, maxChannels: 0, maxCps: 0, clusterShare: 1, pricePerMinute: 0, pricePerCall: 0, billingIncrement: 1, budget: null, ...p,
});
const budget = (p: Partial<CarrierBudget>): CarrierBudget => ({ perHour: null, perDay: null, action: 'skip', alertShare: 0.8, ...p });
/** Peers' spend read at `when`: `hour` and `day` minutes (money = minutes / 10). */
const peers = (hour: number, day: number, when = T0): CarrierSpend => ({
  hour: { start: windowStart(when, 'hour'), minutes: hour, money: hour / 10 },
  day: { start: windowStart(when, 'day'), minutes: day, money: day / 10 },
});
const row = (p: Partial<PeerWindowSpend>): PeerWindowSpend => ({ carrier: 'a', server: 'd2', window: 'hour', start: windowStart(T0, 'hour'), minutes: 1, money: 0, ...p });

describe('the peers\' rows summed per carrier (peerTotals)', () => {
  const H = windowStart(T0, 'hour');
  const D = windowStart(T0, 'day');
  const cases: { why: string; rows: PeerWindowSpend[]; want: Record<string, [number, number]> }[] = [
    { why: 'no row: every budgeted carrier at 0 (the read is the whole truth of the window)', rows: [], want: { a: [0, 0], b: [0, 0] } },
    { why: 'two peers add up, per window', rows: [row({ server: 'd2', minutes: 1 }), row({ server: 'd3', minutes: 2 }), row({ server: 'd2', window: 'day', start: D, minutes: 7 })], want: { a: [3, 7], b: [0, 0] } },
    { why: 'this dialer\'s own row is never counted (own spend is the ledger\'s)', rows: [row({ server: 'd1', minutes: 5 }), row({ server: 'd2', minutes: 1 })], want: { a: [1, 0], b: [0, 0] } },
    { why: 'a row of the previous hour (a peer behind, or a late write) is left out', rows: [row({ start: H - 3600_000, minutes: 9 }), row({ minutes: 1 })], want: { a: [1, 0], b: [0, 0] } },
    { why: 'a row of the next hour (a peer whose clock is ahead) is left out too', rows: [row({ start: H + 3600_000, minutes: 9 })], want: { a: [0, 0], b: [0, 0] } },
    { why: 'a carrier this config has no budget for is ignored', rows: [row({ carrier: 'zz', minutes: 4 })], want: { a: [0, 0], b: [0, 0] } },
  ];
  for (const c of cases) {
    test(c.why, () => {
      const got = peerTotals(c.rows, ['a', 'b'], 'd1', T0);
      assert.deepEqual(Object.fromEntries([...got].map(([k, s]) => [k, [s.hour.minutes, s.day.minutes]])), c.want);
      for (const s of got.values()) assert.deepEqual([s.hour.start, s.day.start], [H, D]);
    });
  }
});

describe('own + peers against the budget', () => {
  const b = budget({ perHour: { minutes: 10, money: null }, perDay: { minutes: 100, money: null } });
  const cases: { why: string; own: number; peers: CarrierSpend | null; now: number; want: string | null }[] = [
    { why: 'no cluster: own spend alone', own: 9, peers: null, now: T0, want: null },
    { why: 'own 4 + peers 6 reach 10: used cluster-wide, the peers\' part named', own: 4, peers: peers(6, 6), now: T0, want: 'hourly budget of 10 min used cluster-wide (6 min by peers)' },
    { why: 'the peers alone can use it up', own: 0, peers: peers(10, 10), now: T0, want: 'hourly budget of 10 min used cluster-wide (10 min by peers)' },
    { why: 'own alone used up with peers at 0: the plain reason', own: 10, peers: peers(0, 0), now: T0, want: 'hourly budget of 10 min used' },
    { why: 'below the limit together', own: 4, peers: peers(5.5, 5.5), now: T0, want: null },
    { why: 'the hour rolled over since the read: the peers\' hour counts 0, their day still counts', own: 0, peers: peers(10, 95), now: at(11, 0, 1), want: null },
    { why: 'the day rolled over: nothing of the last read counts', own: 0, peers: peers(10, 100), now: at(0, 0, 1, 3), want: null },
    { why: 'peers\' day with own day reaches the daily limit', own: 5, peers: peers(0, 95, at(9, 10)), now: T0, want: 'daily budget of 100 min used cluster-wide (95 min by peers)' },
  ];
  for (const c of cases) {
    test(c.why, () => {
      const own = charge(freshSpend(T0), { minutes: c.own, money: 0 }, T0);
      const got = overBudget(own, b, c.now, c.peers);
      assert.equal(got?.reason ?? null, c.want);
      if (got) assert.ok(isBudgetReason(got.reason), 'the skip metric and plan recognise it');
    });
  }
  test('peersAt keeps a window read for the current start and zeroes an ended one', () => {
    const p = peers(3, 30);
    assert.equal(peersAt(p, at(10, 59, 59))?.hour.minutes, 3);
    assert.deepEqual([peersAt(p, at(11))?.hour.minutes, peersAt(p, at(11))?.hour.start, peersAt(p, at(11))?.day.minutes], [0, at(11), 30]);
    assert.equal(peersAt(null, T0), null);
  });
  test('a reason with money and fractions', () => {
    assert.equal(budgetReason({ window: 'day', unit: 'money', limit: 50, peers: 12.3456 }), 'daily budget of 50 money used cluster-wide (12.346 money by peers)');
    assert.ok(isBudgetReason('daily budget of 50 money used cluster-wide (12.346 money by peers)'));
    assert.ok(!isBudgetReason('daily budget of 50 money used cluster-wide'));
  });
  test('crossings count the peers: own 2 on top of peers 6 crosses "near" of 10', () => {
    const s0 = freshSpend(T0);
    const s1 = charge(s0, { minutes: 2, money: 0 }, T0);
    assert.deepEqual(crossings(s0, s1, b, T0, peers(6, 6)).map((x) => [x.window, x.level, x.spent, x.peers]), [['hour', 'near', 8, 6]]);
  });
});

describe('the cost ledger with peers', () => {
  const b = budget({ perHour: { minutes: 2, money: null } });
  test('setPeers feeds every check; own spend stays apart; carriers without a budget publish nothing', () => {
    const l = new CostLedger([carrier('a', { budget: b, billingIncrement: 60 }), carrier('free')], T0);
    assert.deepEqual(l.budgeted(), ['a']);
    assert.equal(l.over('a', T0), null);
    assert.deepEqual(l.setPeers(new Map([['a', peers(1.6, 1.6)]]), T0).map((x) => [x.carrier, x.crossing.level, x.crossing.peers]), [['a', 'near', 1.6]], 'the peers\' spend alone crosses alertShare');
    assert.deepEqual(l.setPeers(new Map([['a', peers(1.6, 1.6)]]), T0), [], 'the same read again: no second alert');
    assert.equal(l.over('a', T0), null, '1.6 of 2');
    assert.deepEqual(l.charge('a', 5, T0).map((x) => x.level), ['used'], 'own 1 min (billed per minute) on top of peers 1.6');
    assert.equal(l.over('a', T0)?.reason, 'hourly budget of 2 min used cluster-wide (1.6 min by peers)');
    const snap = l.snapshot(T0).get('a');
    assert.deepEqual([snap?.hour.minutes, snap?.peers?.hour.minutes, snap?.budget[0]?.spent], [1, 1.6, 2.6]);
    assert.deepEqual(l.own(T0).map((o) => [o.carrier, o.spend.hour.minutes]), [['a', 1]], 'what is published: own spend only');
    assert.match(spendText({ cost: snap }), /^hour 2\.6\/2 min \(own 1 \+ peers 1\.6\) · day 2\.6 min \(own 1 \+ peers 1\.6\)$/);
    assert.equal(l.snapshot(T0).get('free')?.peers, null, 'never read for a carrier without a budget');
  });
  test('a database down: the last known peers\' spend stands until its window ends', () => {
    const l = new CostLedger([carrier('a', { budget: b })], T0);
    l.setPeers(new Map([['a', peers(2, 2)]]), T0);
    // no further setPeers (no read succeeds): the checks go on with what was known
    assert.match(l.over('a', at(10, 59))?.reason ?? '', /cluster-wide \(2 min by peers\)/);
    assert.equal(l.over('a', at(11, 0, 1)), null, 'the new hour: the peers\' old hour is no longer theirs to count');
  });
});
