import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ADAPTIVE_PROGRESS_DEFAULTS, CARRIER_DEFAULTS } from '../../src/config/carriers.js';
import type { CarrierConfig } from '../../src/config/types.js';
import { LEARN_EVERY_MS, LearnedProgress } from '../../src/health/learned-progress.js';
import { QualityWindow, type QualitySample } from '../../src/health/quality-window.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const carrier = (p: Partial<CarrierConfig> = {}): CarrierConfig => ({
  ...CARRIER_DEFAULTS, name: 'a', dial: 'SIP/${number}@a', peer: 'a', adaptiveProgress: { ...ADAPTIVE_PROGRESS_DEFAULTS, minSamples: 10 }, budget: null, ...p,
});
const rang = (pddMs: number, endedAt: number): QualitySample => ({ carrier: 'a', group: null, endedAt, seized: true, answered: true, talkMs: 30_000, pddMs });

describe('learned progress timeouts, read by every Dial', () => {
  test('a learned value is reused within LEARN_EVERY_MS and taken again after it', () => {
    const w = new QualityWindow();
    const p = new LearnedProgress(w);
    const c = carrier();
    for (let i = 0; i < 10; i++) w.add(rang(1000, T0));
    assert.equal(p.get(c, null, T0).seconds, 1.5);
    // slower delays arrive: the value read inside the second is the one already worked out
    for (let i = 0; i < 100; i++) w.add(rang(4000, T0));
    assert.equal(p.get(c, null, T0 + LEARN_EVERY_MS - 1).seconds, 1.5);
    assert.equal(p.get(c, null, T0 + LEARN_EVERY_MS).seconds, 6);
  });

  test('a carrier still learning is read afresh: the Dial after the minSamples-th delay uses what it taught', () => {
    const w = new QualityWindow();
    const p = new LearnedProgress(w);
    const c = carrier();
    for (let i = 0; i < 9; i++) w.add(rang(1000, T0));
    assert.equal(p.get(c, null, T0).source, 'configured');
    w.add(rang(1000, T0));
    assert.deepEqual([p.get(c, null, T0 + 1).source, p.get(c, null, T0 + 1).seconds], ['learned', 1.5]);
  });

  test('a reload (a new config object), the clock going back, or clear() take it again; fixed carriers are never kept', () => {
    const w = new QualityWindow();
    const p = new LearnedProgress(w);
    for (let i = 0; i < 10; i++) w.add(rang(1000, T0));
    assert.equal(p.get(carrier(), null, T0).seconds, 1.5);
    assert.equal(p.get(carrier({ adaptiveProgress: { ...ADAPTIVE_PROGRESS_DEFAULTS, minSamples: 10, factor: 3 } }), null, T0).seconds, 3);
    const c = carrier();
    assert.equal(p.get(c, null, T0 + 5000).seconds, 1.5);
    for (let i = 0; i < 100; i++) w.add(rang(4000, T0));
    assert.equal(p.get(c, null, T0 + 5000).seconds, 1.5, 'inside the second: kept');
    assert.equal(p.get(c, null, T0 + 4999).seconds, 6, 'the clock went back: worked out again');
    for (let i = 0; i < 20_000; i++) w.add(rang(500, T0));
    p.clear();
    assert.equal(p.get(c, null, T0).seconds, 1.5);
    assert.deepEqual(p.get(carrier({ adaptiveProgress: null }), null, T0), { source: 'configured', seconds: 5, samples: 0, minSamples: 0 });
  });
});
