import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CarrierConfig, RouteConfig, Strategy } from '../../src/config/types.js';
import type { HealthState } from '../../src/health/types.js';
import { planAttempts } from '../../src/routing/plan.js';

const carrier = (name: string, p: Partial<CarrierConfig> = {}): CarrierConfig => ({
  name, dial: `SIP/\${number}@${name}`, peer: name, ringTimeout: 60, progressTimeout: 5, adaptiveProgress: null, dialOptions: 'tT', weight: 1, enabled: true, retrySipCodes: [], finalSipCodes: [], retryAfterRinging: false, maxChannels: 0, maxCps: 0, clusterShare: 1, pricePerMinute: 0, pricePerCall: 0, billingIncrement: 1, budget: null, ...p,
});
const CARRIERS = new Map(['a', 'b', 'c'].map((n) => [n, carrier(n)]));
const route = (strategy: Strategy = 'failover', p: Partial<RouteConfig> = {}): RouteConfig => ({
  name: 'r', pattern: null, strategy, carriers: ['a', 'b', 'c'], maxAttempts: 3, stripDigits: 0, prefix: '', whenAllDown: 'try', callBudget: 0, ...p,
});
const health = (states: Record<string, HealthState>) => new Map(Object.entries(states).map(([k, s]) => [k, { state: s, since: 0, reason: `${k} is ${s}` }]));
const order = (p: ReturnType<typeof planAttempts>) => p.targets.map((t) => t.carrier.name).join('');

describe('planAttempts', () => {
  const rows: [string, Record<string, HealthState>, string, string][] = [
    ['all up: route order', { a: 'up', b: 'up', c: 'up' }, 'abc', ''],
    ['primary down: skipped', { a: 'down', b: 'up', c: 'up' }, 'bc', 'a'],
    ['lagged after healthy', { a: 'lagged', b: 'up', c: 'up' }, 'bca', ''],
    ['unknown after healthy', { a: 'unknown', b: 'up', c: 'lagged' }, 'bac', ''],
    ['all unknown: route order', {}, 'abc', ''],
    ['probing keeps its place', { a: 'probing', b: 'up', c: 'up' }, 'abc', ''],
    ['disabled skipped', { a: 'disabled', b: 'up', c: 'up' }, 'bc', 'a'],
    ['all down: fail open in order', { a: 'down', b: 'down', c: 'down' }, 'abc', ''],
    ['down + lagged: lagged only', { a: 'down', b: 'lagged', c: 'down' }, 'b', 'ac'],
  ];
  for (const [label, states, expected, skipped] of rows) {
    test(label, () => {
      const p = planAttempts({ route: route(), carriers: CARRIERS, health: health(states), rotation: 0, random: 0 });
      assert.equal(order(p), expected);
      assert.equal(p.skipped.map((s) => s.carrier).sort().join(''), skipped);
    });
  }
  test('all down with whenAllDown=refuse: nothing to dial, every carrier skipped with why', () => {
    const p = planAttempts({ route: route('failover', { whenAllDown: 'refuse' }), carriers: CARRIERS, health: health({ a: 'down', b: 'down', c: 'down' }), rotation: 0, random: 0 });
    assert.equal(p.targets.length, 0);
    assert.equal(p.skipped.length, 3);
    assert.match(p.skipped[0]?.reason ?? '', /refuses/);
  });
  test('fail open is flagged', () => {
    const p = planAttempts({ route: route(), carriers: CARRIERS, health: health({ a: 'down', b: 'down', c: 'down' }), rotation: 0, random: 0 });
    assert.equal(p.failedOpen, true);
  });
  test('round_robin rotates the start', () => {
    const got = [0, 1, 2, 3, 4].map((rotation) => order(planAttempts({ route: route('round_robin'), carriers: CARRIERS, health: health({}), rotation, random: 0 })));
    assert.deepEqual(got, ['abc', 'bca', 'cab', 'abc', 'bca']);
  });
  test('round_robin still skips down carriers', () => {
    assert.equal(order(planAttempts({ route: route('round_robin'), carriers: CARRIERS, health: health({ b: 'down' }), rotation: 1, random: 0 })), 'ca');
  });
  test('weighted: first pick proportional to weight, rest heaviest first, weight 0 skipped', () => {
    const cs = new Map([['a', carrier('a', { weight: 1 })], ['b', carrier('b', { weight: 3 })], ['c', carrier('c', { weight: 0 })]]);
    const at = (random: number) => planAttempts({ route: route('weighted'), carriers: cs, health: health({}), rotation: 0, random });
    assert.equal(order(at(0)), 'ab');
    assert.equal(order(at(0.24)), 'ab');
    assert.equal(order(at(0.26)), 'ba');
    assert.equal(order(at(0.99)), 'ba');
    assert.deepEqual(at(0.5).skipped.map((s) => [s.carrier, s.reason]), [['c', 'weight 0 (drained)']]);
  });
  test('weighted: 10,000 draws split 1:3 within 2%', () => {
    const cs = new Map([['a', carrier('a', { weight: 1 })], ['b', carrier('b', { weight: 3 })]]);
    let b = 0;
    for (let i = 0; i < 10000; i++) if (order(planAttempts({ route: route('weighted', { carriers: ['a', 'b'] }), carriers: cs, health: health({}), rotation: 0, random: i / 10000 }))[0] === 'b') b++;
    assert.ok(Math.abs(b / 10000 - 0.75) < 0.02, String(b));
  });
  test('disabled in config is skipped, never dialed, even when all others are down', () => {
    const cs = new Map([['a', carrier('a', { enabled: false })], ['b', carrier('b')], ['c', carrier('c')]]);
    const p = planAttempts({ route: route(), carriers: cs, health: health({ b: 'down', c: 'down' }), rotation: 0, random: 0 });
    assert.equal(order(p), 'bc');
    assert.deepEqual(p.skipped.map((s) => s.carrier), ['a']);
  });
  test('simultaneous plans every usable carrier', () => {
    assert.equal(order(planAttempts({ route: route('simultaneous'), carriers: CARRIERS, health: health({ c: 'down' }), rotation: 0, random: 0 })), 'ab');
  });
});
