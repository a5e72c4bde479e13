import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRouting } from '../../src/config/carriers.js';
import type { HealthSnapshot } from '../../src/health/types.js';
import { QualityWindow } from '../../src/health/quality-window.js';
import { formatPlan } from '../../src/ops/cli-format.js';
import { previewPlan } from '../../src/ops/plan-preview.js';
import { progressTimeoutNow } from '../../src/routing/progress-timeout.js';

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

  test('adaptive progress: each Dial with the value its carriers learned, a simultaneous one with the longest, and where it came from', () => {
    const routing = routingOf(
      [
        { name: 'fast', dial: 'SIP/${number}@fast', ringTimeout: 30, progressTimeout: 5, adaptiveProgress: { minSamples: 20 } },
        { name: 'slow', dial: 'SIP/${number}@slow', ringTimeout: 30, progressTimeout: 8, adaptiveProgress: { minSamples: 20 } },
        { name: 'fixed', dial: 'SIP/${number}@fixed', ringTimeout: 30 },
      ],
      [{ name: 'seq', carriers: ['fast', 'slow', 'fixed'] }, { name: 'both', strategy: 'simultaneous', carriers: ['fast', 'slow'] }],
    );
    const T = Date.UTC(2026, 0, 1, 12);
    const w = new QualityWindow();
    for (let i = 0; i < 30; i++) {
      w.add({ carrier: 'fast', group: null, endedAt: T, seized: true, answered: true, talkMs: 1000, pddMs: 600 + i * 10 });
      w.add({ carrier: 'slow', group: null, endedAt: T, seized: true, answered: true, talkMs: 1000, pddMs: 5500 + i * 20 });
    }
    const progress = (c: Parameters<typeof progressTimeoutNow>[1], g: string | null) => progressTimeoutNow(w, c, g, T + 1000);
    const seq = previewPlan(routing, up('fast', 'slow', 'fixed'), { number: '15552345678', route: 'seq' }, () => 0, undefined, undefined, undefined, progress);
    // fast: p99 890 ms × 1.5 = 1.4 → minSeconds 1.5; slow: p99 6.1 s × 1.5 = 9.2
    assert.deepEqual(seq.orders[0]?.dials.map((d) => d.dial), ['SIP/15552345678@fast,30^1.5,T', 'SIP/15552345678@slow,30^9.2,T', 'SIP/15552345678@fixed,30^5,T']);
    const text = formatPlan(seq);
    assert.match(text, /fast,30\^1\.5,T\)\n\s+progress timeout: 1\.5 s learned \(p99 890 ms × 1\.5 over 30 delays, raised to minSeconds\)\n/);
    assert.match(text, /fixed,30\^5,T\)\n$/, 'a fixed carrier gets no progress line');
    const both = previewPlan(routing, up('fast', 'slow'), { number: '15552345678', route: 'both' }, () => 0, undefined, undefined, undefined, progress);
    assert.deepEqual(both.orders[0]?.dials.map((d) => d.dial), ['SIP/15552345678@fast&SIP/15552345678@slow,30^9.2,T']);
    assert.match(formatPlan(both), /progress timeout: fast 1\.5 s learned .*; slow 9\.2 s learned/);
    // without the daemon's delays (the default): the configured values, as a fresh daemon would dial
    assert.deepEqual(previewPlan(routing, up('fast', 'slow', 'fixed'), { number: '15552345678', route: 'seq' }, () => 0).orders[0]?.dials.map((d) => d.dial), ['SIP/15552345678@fast,30^5,T', 'SIP/15552345678@slow,30^8,T', 'SIP/15552345678@fixed,30^5,T']);
  });
});
