import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AttemptRecord, AttemptVerdict } from '../../src/calls/records.js';
import { nearestRank, QualityWindow, qualitySample, shortCallShare, TALK_CLAMP_S, type QualitySample } from '../../src/health/quality-window.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const MIN = 60_000;

function rec(over: Partial<AttemptRecord> & { verdict: AttemptVerdict }): AttemptRecord {
  return {
    uniqueid: 'u', attempt: 1, serverId: 's', route: 'out', strategy: 'failover', carrier: 'a', dialString: '', number: '1',
    callerCode: '', leadId: null, campaign: '', startedAt: T0 - 1000, answeredAt: null, endedAt: T0, ringMs: 0, talkMs: 0,
    dialStatus: '', cause: null, sipCode: null, sipReason: '', reason: '', healthState: 'up', ...over,
  };
}

function sample(over: Partial<QualitySample>): QualitySample {
  return { carrier: 'a', group: null, endedAt: T0, seized: true, answered: false, talkMs: 0, pddMs: null, ...over };
}

describe('quality sample of an attempt record', () => {
  // DIALSTATUS values as app_dial.c sets them; the table is what the answer-seizure ratio counts
  const table: [string, Partial<AttemptRecord> & { verdict: AttemptVerdict }, { seized: boolean; answered: boolean } | null][] = [
    ['answered', { verdict: 'answered', dialStatus: 'ANSWER', talkMs: 42_000 }, { seized: true, answered: true }],
    ['503 then next (CONGESTION)', { verdict: 'next', dialStatus: 'CONGESTION', cause: 34, sipCode: 503 }, { seized: true, answered: false }],
    ['swallowed INVITE (progress timeout, CHANUNAVAIL)', { verdict: 'next', dialStatus: 'CHANUNAVAIL' }, { seized: true, answered: false }],
    ['404 unallocated (stop): the carrier answered for the number', { verdict: 'stop', dialStatus: 'CHANUNAVAIL', cause: 1, sipCode: 404 }, { seized: true, answered: false }],
    ['callee busy: the callee decided', { verdict: 'stop', dialStatus: 'BUSY', cause: 17, sipCode: 486 }, { seized: false, answered: false }],
    ['rang out: the callee decided', { verdict: 'stop', dialStatus: 'NOANSWER', cause: 19 }, { seized: false, answered: false }],
    ['caller hung up during the Dial', { verdict: 'stop', dialStatus: 'CANCEL' }, { seized: false, answered: false }],
    ['skipped carrier: no Dial', { verdict: 'skipped' }, null],
    ['interrupted: outcome unknown', { verdict: 'interrupted' }, null],
    // src/calls/failover-call.ts: an AGI error during the Dial is recorded 'stop' with no DIALSTATUS
    ['AGI error during the Dial (stop, no DIALSTATUS): outcome unknown', { verdict: 'stop', dialStatus: '', reason: 'AGI error during attempt: socket closed' }, null],
    ['invalid number', { verdict: 'invalid', carrier: '' }, null],
    ['closing exhausted row without a carrier', { verdict: 'exhausted', carrier: '' }, null],
    ['a simultaneous Dial label', { verdict: 'stop', carrier: 'a&b' }, null],
  ];
  for (const [name, r, want] of table) {
    test(name, () => {
      const s = qualitySample(rec(r));
      assert.deepEqual(s === null ? null : { seized: s.seized, answered: s.answered }, want);
    });
  }
  test('talk time only for answered Dials; pdd kept when Asterisk reported one', () => {
    const s = qualitySample(rec({ verdict: 'answered', dialStatus: 'ANSWER', talkMs: 3002, pddMs: 1510, prefixGroup: 'uk-mobile' }));
    assert.deepEqual(s, { carrier: 'a', group: 'uk-mobile', endedAt: T0, seized: true, answered: true, talkMs: 3002, pddMs: 1510 });
    assert.equal(qualitySample(rec({ verdict: 'next', dialStatus: 'CONGESTION', talkMs: 5 }))?.talkMs, 0);
    assert.equal(qualitySample(rec({ verdict: 'next', dialStatus: 'CONGESTION', pddMs: null }))?.pddMs, null);
  });
});

describe('quality window', () => {
  test('ASR, delays and talk over a span; the carrier as a whole counts every group', () => {
    const w = new QualityWindow();
    w.add(sample({ answered: true, talkMs: 2_500, pddMs: 900, group: 'uk' }));
    w.add(sample({ answered: true, talkMs: 60_000, pddMs: 1_200 }));
    w.add(sample({ pddMs: 4_000, group: 'uk' }));
    w.add(sample({ seized: false }));
    const all = w.figures('a', null, T0 - 5 * MIN, T0 + MIN);
    assert.deepEqual([all.dials, all.seized, all.answered, all.asr, all.alerted], [4, 3, 2, 2 / 3, 3]);
    assert.equal(nearestRank(all.pdd, 50), 1_200);
    assert.equal(shortCallShare(all, 6_000), 0.5);
    const uk = w.figures('a', 'uk', T0 - 5 * MIN, T0 + MIN);
    assert.deepEqual([uk.dials, uk.seized, uk.answered, uk.asr], [2, 2, 1, 0.5]);
    assert.deepEqual(w.figures('b', null, T0 - 5 * MIN, T0 + MIN).asr, null);
    assert.equal(shortCallShare(w.figures('b', null, T0 - 5 * MIN, T0 + MIN), 6_000), null);
  });

  test('spans are whole buckets: a baseline and a recent span do not overlap', () => {
    const w = new QualityWindow(MIN, 60);
    for (let m = 0; m < 30; m++) w.add(sample({ endedAt: T0 + m * MIN + 30_000, answered: m < 20 }));
    const recent = w.figures('a', null, T0 + 20 * MIN, T0 + 30 * MIN);
    const baseline = w.figures('a', null, T0, T0 + 20 * MIN);
    assert.deepEqual([recent.dials, recent.answered, baseline.dials, baseline.answered], [10, 0, 20, 20]);
  });

  test('buckets older than keep are dropped, so memory does not grow with time', () => {
    const w = new QualityWindow(MIN, 10);
    for (let m = 0; m < 100; m++) w.add(sample({ endedAt: T0 + m * MIN }));
    assert.equal(w.figures('a', null, T0, T0 + 100 * MIN).dials, 10);
  });

  test('talk times past the clamp count as long, never short', () => {
    const w = new QualityWindow();
    w.add(sample({ answered: true, talkMs: 3_600_000 }));
    const f = w.figures('a', null, T0 - MIN, T0 + MIN);
    assert.deepEqual([...f.talk.keys()], [TALK_CLAMP_S]);
    assert.equal(shortCallShare(f, 10_000_000), 0);
  });

  test('retain forgets carriers a reload dropped', () => {
    const w = new QualityWindow();
    w.add(sample({ carrier: 'a' }));
    w.add(sample({ carrier: 'b' }));
    w.retain(new Set(['b']));
    assert.equal(w.figures('a', null, T0 - MIN, T0 + MIN).dials, 0);
    assert.equal(w.figures('b', null, T0 - MIN, T0 + MIN).dials, 1);
  });

  test('nearestRank with a decimal percent (p99.9) and a whole one', () => {
    const counts = new Map<number, number>(Array.from({ length: 1000 }, (_, i) => [i + 1, 1]));
    assert.deepEqual([nearestRank(counts, 99.9), nearestRank(counts, 99), nearestRank(counts, 95), nearestRank(counts, 50)], [999, 990, 950, 500]);
  });
});
