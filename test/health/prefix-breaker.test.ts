import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { groupHealth, initialState, nextRun, spreadAcrossGroups, step, type CoreSettings, type CoreState } from '../../src/health/health-core.js';
import type { AttemptSignal } from '../../src/health/types.js';
import { CARRIERS, fail, HEALTH, ok, ROUTES } from './helpers.js';

const NOW = 1_800_000_000_000;
const S: CoreSettings = { ...HEALTH, staleAfter: 30_000, trialWait: 0 };

describe('the carrier-wide breaker opens only on failures spread across groups', () => {
  const cases: [string, string[], boolean][] = [
    ['no failures', [], true],
    ['all to numbers in no group', [''], true],
    ['all to one group', ['uk-mobile'], false],
    ['one group and numbers in no group', ['uk-mobile', ''], true],
    ['two groups', ['uk-mobile', 'us'], true],
  ];
  for (const [label, run, spread] of cases) test(label, () => assert.equal(spreadAcrossGroups(run), spread));

  test('the run: a failure adds its group once, a success starts over, a neutral outcome changes nothing', () => {
    assert.deepEqual(nextRun([], 'failure', 'uk'), ['uk']);
    assert.deepEqual(nextRun(['uk'], 'failure', 'uk'), ['uk']);
    assert.deepEqual(nextRun(['uk'], 'failure', null), ['uk', '']);
    assert.deepEqual(nextRun(['uk', ''], 'success', null), []);
    assert.deepEqual(nextRun(['uk'], 'neutral', 'us'), ['uk']);
  });
});

function run(signals: (AttemptSignal & { group?: string | null })[], st: CoreState = initialState(CARRIERS, ROUTES, S, NOW)): CoreState {
  for (const s of signals) st = step(st, S, { kind: 'attempt', signal: s }, s.at).state;
  return st;
}
const inGroup = (s: AttemptSignal, group: string | null): AttemptSignal => ({ ...s, group });
const entry = (st: CoreState, c = 'primary') => {
  const e = st.carriers.get(c);
  assert.ok(e);
  return e;
};

describe('per-(carrier, group) breaker through the health core', () => {
  test('3 failures to uk-mobile: the carrier is ejected for uk-mobile only, still up for everything else', () => {
    const st = run([1, 2, 3].map((i) => inGroup(fail('primary', NOW + i), 'uk-mobile')));
    const e = entry(st);
    assert.equal(e.breaker.kind, 'closed');
    assert.notEqual(e.health.state, 'down');
    assert.equal(e.groups.get('uk-mobile')?.kind, 'open');
    const seen = groupHealth(e, 'uk-mobile', NOW + 4);
    assert.equal(seen.state, 'down');
    assert.match(seen.reason, /ejected for prefix group uk-mobile/);
    assert.equal(groupHealth(e, 'us', NOW + 4).state, e.health.state);
  });

  test('a group ejection accounts for its failures: one later failure elsewhere does not eject the whole carrier', () => {
    const uk = [1, 2, 3].map((i) => inGroup(fail('primary', NOW + i), 'uk-mobile'));
    const st = run([...uk, inGroup(fail('primary', NOW + 4), 'us')]);
    assert.equal(entry(st).groups.get('uk-mobile')?.kind, 'open');
    assert.equal(entry(st).breaker.kind, 'closed', 'one US failure after the UK ejection is one failure, not the fourth');
    const more = run([inGroup(fail('primary', NOW + 5), null), inGroup(fail('primary', NOW + 6), 'us')], st);
    assert.equal(entry(more).breaker.kind, 'open', 'three failures outside uk-mobile, across groups: the carrier goes');
  });

  test('failures spread across two groups eject the carrier as a whole', () => {
    const st = run([inGroup(fail('primary', NOW + 1), 'uk-mobile'), inGroup(fail('primary', NOW + 2), 'us'), inGroup(fail('primary', NOW + 3), 'us')]);
    assert.equal(entry(st).breaker.kind, 'open');
    assert.equal(entry(st).health.state, 'down');
  });

  test('failures to numbers in no group eject the carrier as before (no groups configured)', () => {
    const st = run([1, 2, 3].map((i) => fail('primary', NOW + i)));
    assert.equal(entry(st).breaker.kind, 'open');
    assert.equal(entry(st).groups.size, 0);
  });

  test('a success elsewhere does not close the group; the group recovers through its own trial calls', () => {
    let st = run([1, 2, 3].map((i) => inGroup(fail('primary', NOW + i), 'uk-mobile')));
    st = run([inGroup(ok('primary', NOW + 10), 'us')], st);
    assert.equal(entry(st).groups.get('uk-mobile')?.kind, 'open');
    // ejection over (baseEjection 30 s): half-open for the group, one trial call at a time
    const later = NOW + 3 + 30_000;
    st = step(st, S, { kind: 'tick' }, later).state;
    assert.equal(entry(st).groups.get('uk-mobile')?.kind, 'half-open');
    assert.equal(groupHealth(entry(st), 'uk-mobile', later).state, 'probing');
    const first = step(st, S, { kind: 'claim', carrier: 'primary', group: 'uk-mobile' }, later);
    assert.equal(first.granted, true);
    const second = step(first.state, S, { kind: 'claim', carrier: 'primary', group: 'uk-mobile' }, later + 1);
    assert.equal(second.granted, false, 'the group\'s trial is held by the first call');
    assert.equal(step(first.state, S, { kind: 'claim', carrier: 'primary', group: 'us' }, later + 1).granted, true, 'other groups dial it freely');
    st = run([inGroup(ok('primary', later + 2), 'uk-mobile'), inGroup(ok('primary', later + 3), 'uk-mobile')], second.state);
    assert.equal(entry(st).groups.get('uk-mobile')?.kind, 'closed');
  });

  test('an AMI or carrier-wide down wins over the group view', () => {
    let st = run([1, 2, 3].map((i) => inGroup(fail('primary', NOW + i), 'uk-mobile')));
    st = step(st, S, { kind: 'admin', carrier: 'primary', hold: { mode: 'force-down', until: null, reason: 'test' } }, NOW + 5).state;
    assert.match(groupHealth(entry(st), 'uk-mobile', NOW + 5).reason, /forced down by operator/);
  });

  test('maxEjectedPercent counts carriers ejected for the group: the last usable one for uk-mobile stays', () => {
    const s50: CoreSettings = { ...S, maxEjectedPercent: 34 };
    let st = initialState(CARRIERS, ROUTES, s50, NOW);
    for (const c of ['primary', 'secondary']) for (const i of [1, 2, 3]) st = step(st, s50, { kind: 'attempt', signal: inGroup(fail(c, NOW + i), 'uk-mobile') }, NOW + i).state;
    assert.equal(entry(st, 'primary').groups.get('uk-mobile')?.kind, 'open');
    assert.equal(entry(st, 'secondary').groups.get('uk-mobile')?.kind, 'closed');
  });

  test('a reload that drops a group ends its ejections', () => {
    let st = run([1, 2, 3].map((i) => inGroup(fail('primary', NOW + i), 'uk-mobile')));
    st = step(st, S, { kind: 'replace', carriers: CARRIERS, routes: ROUTES, groups: ['us'] }, NOW + 5).state;
    assert.equal(entry(st).groups.has('uk-mobile'), false);
  });
});
