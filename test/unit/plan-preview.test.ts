import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRouting } from '../../src/config/carriers.js';
import type { HealthSnapshot } from '../../src/health/types.js';
import { previewPlan } from '../../src/ops/plan-preview.js';

const routingOf = (carriers: unknown[], routes: unknown[]) => {
  const r = parseRouting(carriers, routes);
  if (!r.ok) throw new Error(r.problems.join('\n'));
  return r.routing;
};
const up = (...names: string[]): HealthSnapshot => new Map(names.map((n) => [n, { state: 'up', since: 0, reason: '' }]));

describe('plan shows what the next real call will do', () => {
  const carriers = [
    { name: 'a', dial: 'SIP/${number}@a', ringTimeout: 30, progressTimeout: 4, dialOptions: 'To' },
    { name: 'b', dial: 'PJSIP/${number}@b', weight: 3 },
    { name: 'c', dial: 'IAX2/c/${number}', weight: 1 },
  ];

  test('each Dial as it would be sent: channel, ring^progress and options', () => {
    const p = previewPlan(routingOf(carriers, [{ name: 'out', carriers: ['a', 'b'] }]), up('a', 'b'), { number: '15552345678' }, () => 0);
    assert.deepEqual(p.orders[0]?.dials.map((d) => d.dial), ['SIP/15552345678@a,30^4,To', 'PJSIP/15552345678@b,60^5,T']);
  });

  test('round robin: the start the daemon will use next, read from its counter, not advanced', () => {
    const routing = routingOf(carriers, [{ name: 'rr', strategy: 'round_robin', carriers: ['a', 'b', 'c'] }]);
    let asked = 0;
    const p = previewPlan(routing, up('a', 'b', 'c'), { number: '15552345678' }, () => (asked++, 4));
    assert.deepEqual(p.orders[0]?.dials.map((d) => d.carriers[0]?.carrier), ['b', 'c', 'a']);
    assert.equal(asked, 1);
  });

  test('weighted: every order a call can get, with its share of calls', () => {
    const p = previewPlan(routingOf(carriers, [{ name: 'w', strategy: 'weighted', carriers: ['b', 'c'] }]), up('b', 'c'), { number: '15552345678' }, () => 0);
    assert.deepEqual(
      p.orders.map((o) => [o.share, o.dials.map((d) => d.carriers[0]?.carrier)]),
      [
        [0.75, ['b', 'c']],
        [0.25, ['c', 'b']],
      ],
    );
  });

  test('simultaneous: one Dial of every leg', () => {
    const p = previewPlan(routingOf(carriers, [{ name: 's', strategy: 'simultaneous', carriers: ['a', 'b'] }]), up('a', 'b'), { number: '15552345678' }, () => 0);
    assert.deepEqual(p.orders[0]?.dials.map((d) => d.dial), ['SIP/15552345678@a&PJSIP/15552345678@b,60^5,To']);
  });

  test('the route is chosen by script and number as a call chooses it', () => {
    const routing = routingOf(carriers, [
      { name: 'uk', script: 'outbound', pattern: '^44', carriers: ['a'] },
      { name: 'rest', script: 'outbound', carriers: ['b'] },
      { name: 'manual', script: 'manual', carriers: ['c'] },
    ]);
    assert.equal(previewPlan(routing, up('a', 'b', 'c'), { number: '447700900123' }, () => 0).route, 'uk');
    assert.equal(previewPlan(routing, up('a', 'b', 'c'), { number: '15552345678' }, () => 0).route, 'rest');
    assert.equal(previewPlan(routing, up('a', 'b', 'c'), { number: '15552345678', script: 'manual' }, () => 0).route, 'manual');
    assert.match(previewPlan(routing, up(), { number: '1', script: 'nope' }, () => 0).error ?? '', /^NOROUTE/);
  });
});
