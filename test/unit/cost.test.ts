import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CostLedger } from '../../src/calls/cost-ledger.js';
import { parseRouting } from '../../src/config/carriers.js';
import type { CarrierBudget, CarrierConfig } from '../../src/config/types.js';
import { billOf, budgetReason, charge, crossings, demoted, freshSpend, isBudgetReason, levelOf, overBudget, rolled, windowStart } from '../../src/routing/cost.js';

/** Local clock times, as the windows are: 10:30 on a day with no DST change. */
const at = (h: number, m = 0, s = 0, day = 2): number => new Date(2026, 11, day, h, m, s).getTime();
const T0 = at(10, 30);
const carrier = (name: string, p: Partial<CarrierConfig> = {}): CarrierConfig => ({
  name, dial: `SIP/\${number}@${name}`, peer: name, ringTimeout: 60, progressTimeout: 5, adaptiveProgress: null, dialOptions: 'T', weight: 1, enabled: true, retrySipCodes: [], finalSipCodes: [], retryAfterRinging: false, maxChannels: 0, maxCps: 0, clusterShare: 1, pricePerMinute: 0, pricePerCall: 0, billingIncrement: 1, budget: null, ...p,
});
const budget = (p: Partial<CarrierBudget>): CarrierBudget => ({ perHour: null, perDay: null, action: 'skip', alertShare: 0.8, ...p });

describe('the bill of one answered call', () => {
  const rows: { why: string; c: Partial<CarrierConfig>; talkMs: number; minutes: number; money: number }[] = [
    { why: 'per second by default: 90 s is 1.5 min', c: { pricePerMinute: 0.02 }, talkMs: 90_000, minutes: 1.5, money: 0.03 },
    { why: 'a started second counts whole', c: { pricePerMinute: 0.6 }, talkMs: 1_001, minutes: 2 / 60, money: 0.02 },
    { why: 'per started minute (billingIncrement 60): 61 s bills 2 min', c: { pricePerMinute: 1, billingIncrement: 60 }, talkMs: 61_000, minutes: 2, money: 2 },
    { why: 'exactly one increment bills one, not two', c: { pricePerMinute: 1, billingIncrement: 60 }, talkMs: 60_000, minutes: 1, money: 1 },
    { why: '6-second billing: 7 s bills 12 s', c: { pricePerMinute: 1, billingIncrement: 6 }, talkMs: 7_000, minutes: 0.2, money: 0.2 },
    { why: 'an answer with 0 ms of talk bills only the per-call fee', c: { pricePerMinute: 1, pricePerCall: 0.05 }, talkMs: 0, minutes: 0, money: 0.05 },
    { why: 'the per-call fee is added to the minutes', c: { pricePerMinute: 0.5, pricePerCall: 0.1 }, talkMs: 120_000, minutes: 2, money: 1.1 },
    { why: 'an unpriced carrier counts minutes and no money', c: {}, talkMs: 30_000, minutes: 0.5, money: 0 },
  ];
  for (const r of rows) {
    test(r.why, () => {
      const b = billOf(carrier('x', r.c), r.talkMs);
      assert.ok(Math.abs(b.minutes - r.minutes) < 1e-9, `minutes ${b.minutes}`);
      assert.ok(Math.abs(b.money - r.money) < 1e-9, `money ${b.money}`);
    });
  }
});

describe('windows: the clock hour and day of local time', () => {
  test('the hour starts at :00:00 and the day at midnight', () => {
    assert.equal(windowStart(at(10, 59, 59), 'hour'), at(10));
    assert.equal(windowStart(at(11), 'hour'), at(11));
    assert.equal(windowStart(at(23, 59), 'day'), at(0));
  });
  const bill = { minutes: 5, money: 1 };
  test('11:00 starts the hourly spend again; the day keeps counting', () => {
    const s = charge(freshSpend(T0), bill, T0);
    const r = rolled(s, at(11, 0, 0));
    assert.deepEqual([r.hour.minutes, r.day.minutes], [0, 5]);
    assert.equal(rolled(s, at(10, 59, 59)), s, 'still 10:xx: nothing changes');
  });
  test('midnight starts both again', () => {
    const s = charge(freshSpend(T0), bill, T0);
    const r = rolled(s, at(0, 0, 1, 3));
    assert.deepEqual([r.hour.minutes, r.day.minutes, r.day.money], [0, 0, 0]);
  });
  test('a charge in the next hour counts in the new hour only', () => {
    const s = charge(charge(freshSpend(T0), bill, T0), bill, at(11, 5));
    assert.deepEqual([s.hour.minutes, s.day.minutes], [5, 10]);
  });
  test('a clock that went back keeps the counts (never a fresh budget from an NTP step)', () => {
    const s = charge(freshSpend(T0), bill, T0);
    const r = rolled(s, at(9, 59));
    assert.deepEqual([r.hour.minutes, r.day.minutes], [5, 5]);
  });
});

describe('levels and the used-up budget', () => {
  const rows: { why: string; spent: number; limit: number; share: number; level: string }[] = [
    { why: 'below the alert share', spent: 79, limit: 100, share: 0.8, level: 'ok' },
    { why: 'at the alert share is near', spent: 80, limit: 100, share: 0.8, level: 'near' },
    { why: 'at the limit is used', spent: 100, limit: 100, share: 0.8, level: 'used' },
    { why: 'over the limit (one long call) is used', spent: 130, limit: 100, share: 0.8, level: 'used' },
    { why: 'float sums reach the limit: 0.1 + 0.2 of 0.3', spent: 0.1 + 0.2, limit: 0.3, share: 0.8, level: 'used' },
    { why: 'alertShare 1 alerts only at the limit', spent: 99, limit: 100, share: 1, level: 'ok' },
  ];
  for (const r of rows) test(r.why, () => assert.equal(levelOf({ spent: r.spent, limit: r.limit }, r.share), r.level));

  test('the reason names the window and the limit; hour comes before day', () => {
    const b = budget({ perHour: { minutes: 600, money: null }, perDay: { minutes: 1000, money: null } });
    let s = freshSpend(T0);
    assert.equal(overBudget(s, b, T0), null);
    s = charge(s, { minutes: 600, money: 0 }, T0);
    assert.deepEqual(overBudget(s, b, T0), { reason: 'hourly budget of 600 min used', action: 'skip' });
    assert.equal(overBudget(s, b, at(11)), null, 'the next hour has budget again');
    s = charge(s, { minutes: 400, money: 0 }, at(11));
    assert.deepEqual(overBudget(s, b, at(12)), { reason: 'daily budget of 1000 min used', action: 'skip' }, 'the day stays used up for the rest of it');
  });
  test('money and minutes are separate limits: either used up is enough', () => {
    const b = budget({ perDay: { minutes: 1000, money: 50 }, action: 'demote' });
    const s = charge(freshSpend(T0), { minutes: 10, money: 50 }, T0);
    assert.deepEqual(overBudget(s, b, T0), { reason: 'daily budget of 50 money used', action: 'demote' });
  });
  test('the reasons are what the skip metric and plan recognise', () => {
    assert.equal(budgetReason({ window: 'hour', unit: 'minutes', limit: 0.1 }), 'hourly budget of 0.1 min used');
    assert.ok(isBudgetReason('hourly budget of 0.1 min used'));
    assert.ok(isBudgetReason('daily budget of 50 money used'));
    assert.ok(!isBudgetReason('at channel cap 3/3'));
  });
  test('crossings: near once, then used once; a charge that jumps both reports used only', () => {
    const b = budget({ perHour: { minutes: 10, money: null } });
    const s0 = freshSpend(T0);
    const s1 = charge(s0, { minutes: 8, money: 0 }, T0);
    assert.deepEqual(crossings(s0, s1, b, T0).map((x) => x.level), ['near']);
    const s2 = charge(s1, { minutes: 1, money: 0 }, T0);
    assert.deepEqual(crossings(s1, s2, b, T0), [], 'still near: no second alert');
    const s3 = charge(s2, { minutes: 1, money: 0 }, T0);
    assert.deepEqual(crossings(s2, s3, b, T0).map((x) => x.level), ['used']);
    assert.deepEqual(crossings(s0, charge(s0, { minutes: 20, money: 0 }, T0), b, T0).map((x) => x.level), ['used']);
  });
});

describe('demote: over-budget carriers go behind, in their order', () => {
  const rows: { why: string; order: string[]; over: string[]; want: string[] }[] = [
    { why: 'none over: the order stands', order: ['a', 'b', 'c'], over: [], want: ['a', 'b', 'c'] },
    { why: 'the primary over goes last', order: ['a', 'b', 'c'], over: ['a'], want: ['b', 'c', 'a'] },
    { why: 'two over keep their order behind the rest', order: ['a', 'b', 'c'], over: ['a', 'b'], want: ['c', 'a', 'b'] },
    { why: 'all over: the order stands (still used when nothing else is left)', order: ['a', 'b'], over: ['a', 'b'], want: ['a', 'b'] },
  ];
  for (const r of rows) test(r.why, () => assert.deepEqual(demoted(r.order, (x) => r.over.includes(x)), r.want));
});

describe('the cost ledger', () => {
  const b = budget({ perHour: { minutes: 1, money: null } });
  test('charges by carrier config, skips when used up, and keeps the spend across a reload', () => {
    const l = new CostLedger([carrier('a', { budget: b }), carrier('b')], T0);
    assert.deepEqual(l.charge('a', 60_000, T0).map((x) => x.level), ['used']);
    assert.deepEqual(l.over('a', T0), { reason: 'hourly budget of 1 min used', action: 'skip' });
    assert.equal(l.over('b', T0), null);
    l.configure([carrier('a', { budget: { ...b, action: 'demote' } }), carrier('b')], T0);
    assert.deepEqual(l.over('a', T0), { reason: 'hourly budget of 1 min used', action: 'demote' }, 'same name: spend kept, new action');
    l.configure([carrier('a', { budget: { ...b, perHour: { minutes: 5, money: null } } })], T0);
    assert.equal(l.over('a', T0), null, 'a raised budget has room again');
    assert.equal(l.snapshot(T0).get('a')?.hour.minutes, 1);
    assert.equal(l.snapshot(T0).has('b'), false, 'a dropped carrier is forgotten');
  });
  test('a charge for a carrier the config does not hold counts nothing and never throws', () => {
    const l = new CostLedger([carrier('a')], T0);
    assert.deepEqual(l.charge('zz', 60_000, T0), []);
  });
  test('the snapshot shows each limit with its level, and money only for a priced carrier', () => {
    const l = new CostLedger([carrier('a', { pricePerMinute: 0.5, budget: budget({ perDay: { minutes: null, money: 10 } }) }), carrier('b')], T0);
    l.charge('a', 16 * 60_000, T0);
    const a = l.snapshot(T0).get('a');
    assert.deepEqual(a?.budget.map((u) => [u.window, u.unit, u.spent, u.limit, u.level]), [['day', 'money', 8, 10, 'near']]);
    assert.equal(a?.priced, true);
    assert.equal(l.snapshot(T0).get('b')?.priced, false);
  });
  test('seed adds spend read from the attempt log to the current window', () => {
    const l = new CostLedger([carrier('a', { pricePerMinute: 1, pricePerCall: 0.5, budget: budget({ perHour: { minutes: 2, money: null } }) })], T0);
    l.seed('a', 'hour', 2, 2, T0);
    l.seed('a', 'day', 5, 4, T0);
    const a = l.snapshot(T0).get('a');
    assert.deepEqual([a?.hour.minutes, a?.hour.money, a?.day.minutes, a?.day.money], [2, 3, 5, 7]);
    assert.equal(l.over('a', T0)?.reason, 'hourly budget of 2 min used');
  });
});

describe('budget config: strict, every problem listed', () => {
  const parse = (c: Record<string, unknown>) => parseRouting([{ name: 'a', dial: 'SIP/${number}@a', ...c }], [{ name: 'r', carriers: ['a'] }]);
  test('a full budget parses with its defaults', () => {
    const r = parse({ pricePerMinute: 0.01, budget: { perHour: { minutes: 600 }, perDay: { money: 50 } } });
    assert.ok(r.ok);
    assert.deepEqual(r.routing.carriers.get('a')?.budget, { perHour: { minutes: 600, money: null }, perDay: { minutes: null, money: 50 }, action: 'skip', alertShare: 0.8 });
    assert.equal(r.routing.carriers.get('a')?.billingIncrement, 1);
  });
  test('no budget is null, no price is 0', () => {
    const r = parse({});
    assert.ok(r.ok);
    const c = r.routing.carriers.get('a');
    assert.deepEqual([c?.budget, c?.pricePerMinute, c?.pricePerCall], [null, 0, 0]);
  });
  const bad: { why: string; c: Record<string, unknown>; problems: string[] }[] = [
    { why: 'a price given as a string is refused, never read as a number', c: { pricePerMinute: '0.01' }, problems: ['carriers[0].pricePerMinute = "0.01": must be a price per minute from 0 upward, in money units (e.g. 0.012)'] },
    { why: 'a negative fee', c: { pricePerCall: -1 }, problems: ['carriers[0].pricePerCall = -1: must be a price per answered call from 0 upward, in money units'] },
    { why: 'a fractional billing increment', c: { billingIncrement: 1.5 }, problems: ['carriers[0].billingIncrement = 1.5: must be a whole number from 1 to 3600'] },
    { why: 'a budget with no window', c: { budget: { action: 'skip' } }, problems: ['carriers[0].budget = {"action":"skip"}: must set perHour, perDay or both'] },
    { why: 'a window with no limit', c: { budget: { perHour: {} } }, problems: ['carriers[0].budget.perHour = {}: must set minutes, money or both'] },
    { why: 'a money budget without a price could never be spent', c: { budget: { perDay: { money: 5 } } }, problems: ['carriers[0].budget.perDay.money = 5: a money budget needs pricePerMinute or pricePerCall on the carrier: without a price nothing is ever spent'] },
    {
      why: 'every problem at once: unknown keys, a zero limit, a bad action, a bad share',
      c: { budget: { perHour: { minutes: 0, mins: 3 }, perWeek: {}, action: 'drop', alertShare: 80 } },
      problems: [
        'carriers[0].budget.perWeek = {}: unknown key (allowed: perHour, perDay, action, alertShare)',
        'carriers[0].budget.perHour.mins = 3: unknown key (allowed: minutes, money)',
        'carriers[0].budget.perHour.minutes = 0: must be a number of talk minutes above 0, e.g. 600 or 0.5',
        'carriers[0].budget.action = "drop": must be skip (the carrier is not dialed for the rest of the window) or demote (it is dialed after the carriers within budget)',
        'carriers[0].budget.alertShare = 80: must be a share above 0 and at most 1, e.g. 0.8 for 80 %',
      ],
    },
  ];
  for (const r of bad) {
    test(r.why, () => {
      const res = parse(r.c);
      assert.ok(!res.ok);
      assert.deepEqual(res.problems, r.problems);
    });
  }
});
