import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AttemptRecord, AttemptVerdict } from '../../src/calls/records.js';
import { nearestRank, pddKey } from '../../src/health/quality-window.js';
import { RecentStats } from '../../src/ops/recent-stats.js';
import { delayText, pddText } from '../../src/ops/status.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
let n = 0;
function rec(carrier: string, verdict: AttemptVerdict, pddMs: number | null | undefined, endedAt = T0): AttemptRecord {
  n++;
  return {
    uniqueid: `u${n}`, attempt: 1, serverId: 's', route: 'out', strategy: 'failover', carrier, dialString: '', number: '1',
    callerCode: '', leadId: null, campaign: '', startedAt: endedAt - 1000, answeredAt: null, endedAt, ringMs: 0, talkMs: 0,
    ...(pddMs === undefined ? {} : { pddMs }), dialStatus: '', cause: null, sipCode: null, sipReason: '', verdict, reason: '', healthState: 'up',
  };
}

describe('post-dial delay over the last 15 minutes', () => {
  test('p50 / p95 are nearest-rank over the Dials that had one, as sql/queries/post-dial-delay.sql takes them', () => {
    // [delays (null: nothing rang, undefined: a record from before schema 4), alerted, p50, p95]
    const table: [string, (number | null | undefined)[], number, number | null, number | null][] = [
      ['no Dial', [], 0, null, null],
      ['nothing rang', [null, null, undefined], 0, null, null],
      ['one Dial: both are it', [1800], 1, 1800, 1800],
      ['two: p50 is the lower (ceil(0.5 × 2) = 1st), p95 the higher', [3000, 900], 2, 900, 3000],
      ['the Dials that did not ring do not count', [null, 700, null, 1500, undefined, 2400], 3, 1500, 2400],
      ['20 Dials 100..2000 ms: 10th and 19th (ceil(0.95 × 20) = 19 exactly)', Array.from({ length: 20 }, (_, i) => (i + 1) * 100), 20, 1000, 1900],
      ['21 Dials: 11th and 20th', Array.from({ length: 21 }, (_, i) => (i + 1) * 100), 21, 1100, 2000],
      ['ties count each Dial', [2, 2, 2, 5000], 4, 2, 5000],
      ['0 ms (rang within the first ms) is a delay', [0, null], 1, 0, 0],
      ['above a second: to 100 ms', [1249, 1251, 3449], 3, 1300, 3400],
    ];
    for (const [name, delays, alerted, p50, p95] of table) {
      const s = new RecentStats();
      for (const d of delays) s.add(rec('a', 'stop', d));
      assert.deepEqual(s.get('a', T0).pdd, { alerted, p50Ms: p50, p95Ms: p95 }, name);
    }
  });

  test('skipped and refused attempts carry no delay; a simultaneous Dial is no one carrier; each carrier its own', () => {
    const s = new RecentStats();
    s.add(rec('a', 'skipped', 900));
    s.add(rec('', 'invalid', 900));
    s.add(rec('a&b', 'answered', 400));
    s.add(rec('a', 'answered', 2500));
    s.add(rec('b', 'next', 8000));
    assert.deepEqual(s.get('a', T0).pdd, { alerted: 1, p50Ms: 2500, p95Ms: 2500 });
    assert.deepEqual(s.get('b', T0).pdd, { alerted: 1, p50Ms: 8000, p95Ms: 8000 });
    assert.deepEqual({ dials: s.get('a', T0).dials, skipped: s.get('a', T0).skipped }, { dials: 1, skipped: 1 });
  });

  test('delays leave the figures with their minute bucket, 15 minutes on', () => {
    const s = new RecentStats();
    s.add(rec('a', 'stop', 9000, T0));
    s.add(rec('a', 'stop', 1000, T0 + 10 * 60_000));
    assert.deepEqual(s.get('a', T0 + 10 * 60_000).pdd, { alerted: 2, p50Ms: 1000, p95Ms: 9000 });
    assert.deepEqual(s.get('a', T0 + 15 * 60_000).pdd, { alerted: 1, p50Ms: 1000, p95Ms: 1000 }, 'the first minute is out of the window');
    assert.deepEqual(s.get('a', T0 + 26 * 60_000).pdd, { alerted: 0, p50Ms: null, p95Ms: null });
  });

  test('memory is a count per distinct delay: 100,000 Dials in one minute keep at most ~4,000 keys', () => {
    const s = new RecentStats();
    for (let i = 0; i < 100_000; i++) s.add(rec('a', 'stop', (i * 7919) % 400_000));
    const keys = new Set(Array.from({ length: 400_000 }, (_, ms) => pddKey(ms)));
    assert.ok(keys.size <= 4000, `${keys.size} distinct keys`);
    const st = s.get('a', T0).pdd;
    assert.equal(st.alerted, 100_000);
    assert.equal(st.p95Ms, 300_000, 'delays past 5 min are clamped there');
  });

  test('pddKey: exact below 1 s, 100 ms above, never negative, clamped at 5 min', () => {
    const table: [number, number][] = [[0, 0], [2, 2], [999, 999], [999.6, 1000], [1049, 1000], [1050, 1100], [3449, 3400], [-5, 0], [1e9, 300_000]];
    for (const [ms, key] of table) assert.equal(pddKey(ms), key, `${ms} ms`);
  });

  test('nearestRank on counts', () => {
    const counts = new Map([[100, 1], [200, 3], [900, 1]]);
    assert.deepEqual([nearestRank(counts, 50), nearestRank(counts, 95), nearestRank(counts, 1), nearestRank(new Map(), 50)], [200, 900, 100, null]);
  });

  test('shown as ms below a second, tenths of a second above; a dash with none', () => {
    const table: [number, string][] = [[2, '2 ms'], [999, '999 ms'], [1000, '1.0 s'], [1240, '1.2 s'], [3400, '3.4 s'], [12_960, '13.0 s']];
    for (const [ms, text] of table) assert.equal(delayText(ms), text);
    assert.equal(pddText({ last15m: { dials: 3, answered: 1, failures: 0, skipped: 0, asr: 1 / 3, pdd: { alerted: 2, p50Ms: 850, p95Ms: 3400 } } }), '850 ms / 3.4 s');
    assert.equal(pddText({ last15m: { dials: 3, answered: 0, failures: 3, skipped: 0, asr: 0, pdd: { alerted: 0, p50Ms: null, p95Ms: null } } }), '-');
  });
});
