import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { QualitySettings } from '../../src/config/schema.js';
import { JUDGE_EVERY_MS, QualityLedger, type QualityChange } from '../../src/health/quality-ledger.js';
import { QualityWindow, type QualitySample } from '../../src/health/quality-window.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 30);
const MIN = 60_000;
const POLICY: QualitySettings = {
  enabled: true, recentWindow: 2 * MIN, baselineWindow: 2 * MIN, minDials: 4, minBaselineDials: 4, minSamples: 20,
  asrDrop: 0.5, asrFloor: 0, pddRise: 100, pddRiseMs: 2000, pddCeiling: 0, shortCall: 6000, shortShareRise: 0.25,
  shortShareCeiling: 0, recoverMargin: 0.5, minDemoted: MIN,
};

/** 6 answered Dials per group in the baseline, then `bad` failed ones in the recent window for uk-mobile only. */
function rig(): { w: QualityWindow; ledger: QualityLedger; changes: QualityChange[]; now: number } {
  const w = new QualityWindow();
  const changes: QualityChange[] = [];
  const ledger = new QualityLedger(w, POLICY, ['uk-mobile', 'us'], (c) => changes.push(c));
  const add = (over: Partial<QualitySample>): void => w.add({ carrier: 'a', group: 'us', endedAt: T0, seized: true, answered: true, talkMs: 30_000, pddMs: 2000, ...over });
  for (let i = 0; i < 6; i++) {
    add({ group: 'us' });
    add({ group: 'uk-mobile' });
  }
  const now = T0 + 3 * MIN;
  // 4 of the 6 recent uk-mobile Dials fail: the group's ASR 33 % < 50 % of 100 %; the carrier as a whole 67 %, not demoted
  for (let i = 0; i < 6; i++) add({ group: 'us', endedAt: now - 10_000 });
  for (let i = 0; i < 6; i++) add({ group: 'uk-mobile', endedAt: now - 10_000, answered: i >= 4, talkMs: i >= 4 ? 30_000 : 0, pddMs: null });
  return { w, ledger, changes, now };
}

describe('QualityLedger', () => {
  test('a (carrier, group) demotion demotes the carrier for that group\'s numbers only', () => {
    const { ledger, changes, now } = rig();
    assert.match(ledger.demotion('a', 'uk-mobile', now) ?? '', /^prefix group uk-mobile: ASR 33% of 6 vs baseline 100% of 6/);
    assert.equal(ledger.demotion('a', 'us', now), null);
    assert.equal(ledger.demotion('a', null, now), null, 'a number in no group');
    assert.equal(ledger.demotion('a', 'not-configured', now), null);
    assert.deepEqual(changes.map((c) => [c.carrier, c.group, c.from, c.to]), [['a', 'uk-mobile', 'ok', 'demoted']]);
  });

  test('judged at most once per JUDGE_EVERY_MS: a call in between reads the last judgement', () => {
    const { w, ledger, now } = rig();
    assert.equal(ledger.judge('a', 'us', now).state, 'ok');
    // the us Dials now fail too, but the next second's judgement has not come yet
    for (let i = 0; i < 20; i++) w.add({ carrier: 'a', group: 'us', endedAt: now, seized: true, answered: false, talkMs: 0, pddMs: null });
    assert.equal(ledger.judge('a', 'us', now + JUDGE_EVERY_MS - 1).state, 'ok');
    assert.equal(ledger.judge('a', 'us', now + JUDGE_EVERY_MS).state, 'demoted');
  });

  test('turning quality ordering off returns every demoted carrier at once, each with its event', () => {
    const { ledger, changes, now } = rig();
    ledger.demotion('a', 'uk-mobile', now);
    ledger.configure({ ...POLICY, enabled: false }, new Set(['a']), ['uk-mobile', 'us'], now + 10);
    assert.deepEqual(changes.map((c) => [c.group, c.to, c.judgement.reason]), [['uk-mobile', 'demoted', changes[0]?.judgement.reason], ['uk-mobile', 'ok', 'returned: quality ordering turned off']]);
    assert.equal(ledger.demotion('a', 'uk-mobile', now + 20), null);
  });

  test('a reload that drops a group or a carrier forgets its judgement', () => {
    const { ledger, changes, now } = rig();
    ledger.demotion('a', 'uk-mobile', now);
    ledger.configure(POLICY, new Set(['a']), ['us'], now + 10);
    assert.equal(ledger.demotion('a', 'uk-mobile', now + 20), null, 'no longer a configured group');
    assert.equal(changes.length, 1);
  });
});
