import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { claim, CLOSED, onTime, type Breaker } from '../../src/health/breaker.js';
import { groupHealth, initialState, step, type CoreSettings, type CoreState } from '../../src/health/health-core.js';
import { factScope, groupFactReason, onPeerFact, sharedFromStep, type PeerFact } from '../../src/health/peer-facts.js';
import type { SharedFact } from '../../src/health/peer-facts.js';
import { CARRIERS, fail, HEALTH, ok, route, ROUTES } from './helpers.js';

const NOW = 1_800_000_000_000;
const WAIT = 5000;
const fact = (over: Partial<PeerFact>): PeerFact => ({ carrier: 'primary', server: 'dialer-2', state: 'open', remainingMs: 30_000, ageMs: 0, reason: '3 carrier failures in a row', ...over });
const ownOpen = (until: number, openedAt: number): Breaker => ({ kind: 'open', until, reason: 'own', openings: [openedAt] });
const peerOpen = (until: number): Breaker => ({ kind: 'open', until, reason: 'theirs', openings: [], peer: { server: 'dialer-3', trialFrom: until + WAIT } });
const halfOpen: Breaker = { kind: 'half-open', successes: 0, probeUntil: null, reason: 'ejection over', openings: [NOW - 40_000] };

describe('a peer dialer\'s fact on this dialer\'s breaker, pure', () => {
  const cases: [string, Breaker, Partial<PeerFact>, string, ((b: Breaker) => void)?][] = [
    ['open on a closed breaker: ejected here for the window the peer has left, the peer trials first', CLOSED, {}, 'open', (b) => {
      assert.equal(b.kind === 'open' && b.until, NOW + 30_000);
      assert.deepEqual(b.kind === 'open' && b.peer, { server: 'dialer-2', trialFrom: NOW + 30_000 + WAIT });
    }],
    ['open on a half-open breaker: ejected again', halfOpen, {}, 'open'],
    ['open while this dialer\'s own ejection lasts longer: ours stands', ownOpen(NOW + 60_000, NOW - 1000), {}, 'ignored'],
    ['open while this dialer\'s own ejection ends sooner: the later end wins, and its dialer trials', ownOpen(NOW + 10_000, NOW - 1000), {}, 'open', (b) => assert.equal(b.kind === 'open' && b.peer?.server, 'dialer-2')],
    ['open over a peer\'s ejection: the newer fact wins', peerOpen(NOW + 60_000), { remainingMs: 10_000 }, 'open', (b) => assert.equal(b.kind === 'open' && b.until, NOW + 10_000)],
    ['open whose ejection ended 2 s ago: held for the peer\'s trial for the 3 s of trialWait left', CLOSED, { remainingMs: -2000 }, 'half-open', (b) => {
      assert.equal(b.kind === 'half-open' && b.probeUntil, NOW + 3000);
      assert.equal(b.kind === 'half-open' && b.peer, 'dialer-2');
    }],
    ['open that ended longer than trialWait ago: nothing to do', CLOSED, { remainingMs: -6000 }, 'ignored'],
    ['trial on a closed breaker: probing here too, no trial of our own while the peer\'s holds', CLOSED, { state: 'trial', remainingMs: 20_000 }, 'half-open', (b) => assert.equal(b.kind === 'half-open' && b.probeUntil, NOW + 20_000)],
    ['trial on a peer\'s ejection: probing, held for the peer', peerOpen(NOW + 1000), { state: 'trial', remainingMs: 20_000 }, 'half-open'],
    ['trial while this dialer\'s own ejection runs: ours stands', ownOpen(NOW + 10_000, NOW - 1000), { state: 'trial', remainingMs: 20_000 }, 'ignored'],
    ['trial whose hold is over: nothing to do', CLOSED, { state: 'trial', remainingMs: -1 }, 'ignored'],
    ['closed on a peer\'s ejection: back in service, openings kept', peerOpen(NOW + 20_000), { state: 'closed', remainingMs: 0 }, 'closed'],
    ['closed on our own ejection that opened before the peer learned it', ownOpen(NOW + 20_000, NOW - 10_000), { state: 'closed', remainingMs: 0, ageMs: 2000 }, 'closed', (b) => assert.deepEqual(b.openings, [NOW - 10_000])],
    ['closed learned before our own breaker opened: ours is newer and stands', ownOpen(NOW + 20_000, NOW - 1000), { state: 'closed', remainingMs: 0, ageMs: 5000 }, 'ignored'],
    ['closed on our own half-open: back in service', halfOpen, { state: 'closed', remainingMs: 0, ageMs: 100 }, 'closed'],
    ['closed on a closed breaker: nothing to do', CLOSED, { state: 'closed' }, 'ignored'],
  ];
  for (const [label, before, over, kind, check] of cases) {
    test(label, () => {
      const out = onPeerFact(before, fact(over), NOW, WAIT);
      assert.equal(out.kind === 'applied' ? out.next.kind : 'ignored', kind);
      if (out.kind === 'applied') check?.(out.next);
    });
  }

  test('only a fact that takes a carrier in service out of it asks maxEjectedPercent', () => {
    const on = (b: Breaker, f: Partial<PeerFact>) => {
      const o = onPeerFact(b, fact(f), NOW, WAIT);
      return o.kind === 'applied' && o.ejects;
    };
    assert.deepEqual([on(CLOSED, {}), on(halfOpen, {}), on(CLOSED, { state: 'trial' }), on(peerOpen(NOW + 1), { state: 'closed' })], [true, false, true, false]);
  });

  test('the same fact seen by dialers whose clocks differ by ±5 s leaves each the same time to wait', () => {
    for (const skew of [-5000, 0, 5000]) {
      const now = NOW + skew;
      const out = onPeerFact(CLOSED, fact({ remainingMs: 12_345 }), now, WAIT);
      assert.equal(out.kind === 'applied' && out.next.kind === 'open' && out.next.until - now, 12_345);
    }
  });

  test('a peer\'s ejection ends into half-open held for that peer until trialWait is over; then this dialer may trial', () => {
    const o = onPeerFact(CLOSED, fact({ remainingMs: 1000 }), NOW, WAIT);
    assert.ok(o.kind === 'applied');
    const after = onTime(o.next, NOW + 1000);
    assert.equal(after.kind, 'half-open');
    assert.equal(claim(after, NOW + 1000, 60_000).granted, false);
    assert.equal(claim(after, NOW + 5999, 60_000).granted, false);
    const free = onTime(after, NOW + 6000);
    assert.equal(claim(free, NOW + 6000, 60_000).granted, true);
  });
});

describe('what this dialer shares: its own breaker\'s steps, never a peer\'s', () => {
  test('sharedFromStep: an opening, a trial claim, a recovery; nothing for other steps', () => {
    const open: Breaker = { kind: 'open', until: NOW + 30_000, reason: 'r', openings: [NOW] };
    const trial: Breaker = { ...halfOpen, probeUntil: NOW + 70_000 };
    assert.equal(sharedFromStep('primary', CLOSED, open, NOW, 'x')?.state, 'open');
    assert.equal(sharedFromStep('primary', halfOpen, trial, NOW, 'x')?.until, NOW + 70_000);
    assert.equal(sharedFromStep('primary', halfOpen, CLOSED, NOW, 'answered')?.state, 'closed');
    assert.equal(sharedFromStep('primary', open, open, NOW, 'x'), null);
    assert.equal(sharedFromStep('primary', trial, halfOpen, NOW, 'x'), null);
  });

  const S: CoreSettings = { ...HEALTH, staleAfter: 30_000, trialWait: WAIT };
  const start = () => initialState(CARRIERS, ROUTES, S, NOW);

  test('three failures open the breaker: one open fact with the ejection\'s end; the peer\'s fact applied elsewhere shares nothing', () => {
    let st = start();
    const shared: SharedFact[] = [];
    for (let i = 0; i < 3; i++) {
      const r = step(st, S, { kind: 'attempt', signal: fail('primary', NOW + i) }, NOW + i);
      st = r.state;
      shared.push(...r.shared);
    }
    assert.deepEqual(shared.map((f) => [f.state, f.until]), [['open', NOW + 2 + 30_000]]);
    const other = step(start(), S, { kind: 'peer', fact: fact({}) }, NOW);
    assert.equal(other.shared.length, 0);
    assert.equal(other.granted, true);
    const h = other.state.carriers.get('primary')?.health;
    assert.equal(h?.state, 'down');
    assert.equal(h?.peer, 'dialer-2');
    assert.match(h?.reason ?? '', /^ejected by peer dialer-2 until 2027-01-15T08:00:30\.000Z: 3 carrier failures in a row/);
    assert.deepEqual(other.events.map((e) => [e.source, e.to]), [['peer', 'down']]);
  });

  test('a trial claim here is shared with its hold; a success that closes the breaker is shared as closed', () => {
    let st = step(start(), S, { kind: 'peer', fact: fact({ remainingMs: -WAIT - 1, state: 'open' }) }, NOW).state;
    // nothing applied (the ejection and its trial wait are over): a breaker of our own opens and ends
    for (let i = 0; i < 3; i++) st = step(st, S, { kind: 'attempt', signal: fail('primary') }, NOW).state;
    st = step(st, S, { kind: 'tick' }, NOW + 30_000).state;
    const c = step(st, S, { kind: 'claim', carrier: 'primary' }, NOW + 30_000);
    assert.equal(c.granted, true);
    assert.deepEqual(c.shared.map((f) => [f.state, f.until - (NOW + 30_000)]), [['trial', (60 + 5 + 10) * 1000]]);
    let r = step(c.state, S, { kind: 'attempt', signal: ok('primary') }, NOW + 31_000);
    assert.equal(r.shared.length, 0, 'one of two trial calls through: nothing to share yet');
    r = step(step(r.state, S, { kind: 'claim', carrier: 'primary' }, NOW + 32_000).state, S, { kind: 'attempt', signal: ok('primary') }, NOW + 33_000);
    assert.deepEqual(r.shared.map((f) => f.state), ['closed']);
  });

  test('maxEjectedPercent counts peer ejections and refuses one that would eject too many', () => {
    const S50 = { ...S, maxEjectedPercent: 50 };
    const routes = [route('two', ['primary', 'secondary'])];
    let st = initialState(CARRIERS, routes, S50, NOW);
    st = step(st, S50, { kind: 'peer', fact: fact({ carrier: 'primary' }) }, NOW).state;
    assert.equal(st.carriers.get('primary')?.health.state, 'down');
    const r = step(st, S50, { kind: 'peer', fact: fact({ carrier: 'secondary' }) }, NOW);
    assert.equal(r.granted, false);
    assert.notEqual(r.state.carriers.get('secondary')?.health.state, 'down');
    assert.match(r.notes.map((n) => n.msg).join(), /maxEjectedPercent keeps it in service here/);
  });
});

describe('per-prefix-group facts: shared and applied per (carrier, group)', () => {
  const S: CoreSettings = { ...HEALTH, staleAfter: 30_000, trialWait: WAIT };
  const GROUPS = ['uk-mobile', 'us'];
  const start = (groups: readonly string[] = GROUPS) => initialState(CARRIERS, ROUTES, S, NOW, undefined, groups);
  const inGroup = (group: string, at = NOW) => ({ ...fail('primary', at), group });
  const gb = (st: CoreState, group = 'uk-mobile') => st.carriers.get('primary')?.groups.get(group);

  test('factScope: no group is the carrier; a configured group is that group; another group has nothing here', () => {
    const configured = new Set(GROUPS);
    assert.deepEqual(factScope({}, configured), { kind: 'carrier' });
    assert.deepEqual(factScope({ group: '' }, configured), { kind: 'carrier' });
    assert.deepEqual(factScope({ group: 'us' }, configured), { kind: 'group', group: 'us' });
    assert.deepEqual(factScope({ group: 'de' }, configured), { kind: 'unknown-group', group: 'de' });
    assert.deepEqual(factScope({ group: 'us' }, new Set()), { kind: 'unknown-group', group: 'us' });
  });

  test('sharedFromStep with a group names it; without, the fact has no group (carrier-wide rows stay as they were)', () => {
    const open: Breaker = { kind: 'open', until: NOW + 30_000, reason: 'r', openings: [NOW] };
    assert.equal(sharedFromStep('primary', CLOSED, open, NOW, 'x', 'uk-mobile')?.group, 'uk-mobile');
    assert.equal('group' in (sharedFromStep('primary', CLOSED, open, NOW, 'x') ?? {}), false);
  });

  test('groupFactReason names the group and the peer for each fact', () => {
    const f = fact({ server: 'dialer-1', reason: '3 carrier failures in a row' });
    const open: Breaker = { kind: 'open', until: NOW + 30_000, reason: 'r', openings: [], peer: { server: 'dialer-1', trialFrom: NOW + 35_000 } };
    assert.equal(groupFactReason(f, 'uk-mobile', open), 'prefix group uk-mobile: ejected by peer dialer-1 until 2027-01-15T08:00:30.000Z: 3 carrier failures in a row');
    assert.equal(groupFactReason({ ...f, state: 'closed', reason: 'back in service: answered' }, 'uk-mobile', CLOSED), 'prefix group uk-mobile: back in service by peer dialer-1: back in service: answered');
    const held: Breaker = { kind: 'half-open', successes: 0, probeUntil: NOW + 1000, reason: 'peer dialer-1 holds the trial call', openings: [], peer: 'dialer-1' };
    assert.equal(groupFactReason({ ...f, state: 'trial' }, 'uk-mobile', held), 'prefix group uk-mobile: peer dialer-1 holds the trial call');
  });

  test('failures to one group: an open fact for that group only; the group\'s trial claim and recovery are shared too', () => {
    let st = start();
    const shared: SharedFact[] = [];
    for (let i = 0; i < 3; i++) {
      const r = step(st, S, { kind: 'attempt', signal: inGroup('uk-mobile', NOW + i) }, NOW + i);
      st = r.state;
      shared.push(...r.shared);
    }
    assert.deepEqual(shared.map((f) => [f.group, f.state, f.until - NOW]), [['uk-mobile', 'open', 2 + 30_000]]);
    st = step(st, S, { kind: 'tick' }, NOW + 40_000).state;
    const c = step(st, S, { kind: 'claim', carrier: 'primary', group: 'uk-mobile' }, NOW + 40_000);
    assert.equal(c.granted, true);
    assert.deepEqual(c.shared.map((f) => [f.group, f.state]), [['uk-mobile', 'trial']]);
    let r = step(c.state, S, { kind: 'attempt', signal: { ...ok('primary', NOW + 41_000), group: 'uk-mobile' } }, NOW + 41_000);
    r = step(step(r.state, S, { kind: 'claim', carrier: 'primary', group: 'uk-mobile' }, NOW + 42_000).state, S, { kind: 'attempt', signal: { ...ok('primary', NOW + 43_000), group: 'uk-mobile' } }, NOW + 43_000);
    assert.deepEqual(r.shared.map((f) => [f.group, f.state]), [['uk-mobile', 'closed']]);
  });

  test('a peer\'s group fact: the (carrier, group) breaker here is ejected, the carrier stays up for every other number', () => {
    const r = step(start(), S, { kind: 'peer', fact: fact({ group: 'uk-mobile', server: 'dialer-1' }) }, NOW);
    assert.equal(r.granted, true);
    assert.equal(r.shared.length, 0, 'a peer\'s fact is never shared again');
    const e = r.state.carriers.get('primary');
    assert.ok(e);
    assert.equal(e.breaker.kind, 'closed');
    assert.equal(e.health.state, 'unknown', 'its own state is what it was');
    assert.equal(gb(r.state)?.kind, 'open');
    const h = groupHealth(e, 'uk-mobile', NOW);
    assert.equal(h.state, 'down');
    assert.equal(h.peer, 'dialer-1');
    assert.match(h.reason, /^ejected for prefix group uk-mobile by peer dialer-1 until 2027-01-15T08:00:30\.000Z: 3 carrier failures in a row/);
    assert.equal(groupHealth(e, 'us', NOW).state, 'unknown');
    assert.deepEqual(
      r.events.map((ev) => [ev.source, ev.from, ev.to, ev.group, ev.reason]),
      [['peer', 'unknown', 'unknown', 'uk-mobile', 'prefix group uk-mobile: ejected by peer dialer-1 until 2027-01-15T08:00:30.000Z: 3 carrier failures in a row']],
    );
  });

  test('a peer\'s group ejection ends into its trial: none here for trialWait, the peer\'s trial holds it, its success closes it here', () => {
    let st = step(start(), S, { kind: 'peer', fact: fact({ group: 'uk-mobile', server: 'dialer-1', remainingMs: 1000 }) }, NOW).state;
    st = step(st, S, { kind: 'tick' }, NOW + 1000).state;
    const e = st.carriers.get('primary');
    assert.ok(e);
    const h = groupHealth(e, 'uk-mobile', NOW + 1000);
    assert.equal(h.state, 'probing');
    assert.equal(h.peer, 'dialer-1');
    assert.equal(step(st, S, { kind: 'claim', carrier: 'primary', group: 'uk-mobile' }, NOW + 1000).granted, false);
    assert.equal(step(st, S, { kind: 'claim', carrier: 'primary', group: null }, NOW + 1000).granted, true, 'numbers outside the group dial it');
    st = step(st, S, { kind: 'peer', fact: fact({ group: 'uk-mobile', server: 'dialer-1', state: 'trial', remainingMs: 60_000 }) }, NOW + 2000).state;
    assert.equal(step(st, S, { kind: 'claim', carrier: 'primary', group: 'uk-mobile' }, NOW + 1000 + WAIT).granted, false, 'the peer\'s trial still holds');
    const r = step(st, S, { kind: 'peer', fact: fact({ group: 'uk-mobile', server: 'dialer-1', state: 'closed', remainingMs: 0, ageMs: 10 }) }, NOW + 3000);
    assert.equal(r.granted, true);
    assert.equal(gb(r.state)?.kind, 'closed');
    assert.match(r.events[0]?.reason ?? '', /^prefix group uk-mobile: back in service by peer dialer-1/);
  });

  test('a peer\'s fact for a group this dialer does not have: ignored, said once (not at every new version)', () => {
    let st = start(['us']);
    const warns: string[] = [];
    for (const state of ['open', 'trial', 'closed'] as const) {
      const r = step(st, S, { kind: 'peer', fact: fact({ group: 'uk-mobile', state }) }, NOW);
      st = r.state;
      assert.equal(r.granted, false);
      assert.equal(r.events.length, 0);
      warns.push(...r.notes.filter((n) => n.level === 'warn').map((n) => n.msg));
    }
    assert.deepEqual(warns, ['peer dialer shares facts for a prefix group this dialer does not have: ignored']);
    assert.equal(st.carriers.get('primary')?.groups.size, 0);
    // a reload that adds the group applies its next fact
    st = step(st, S, { kind: 'replace', carriers: CARRIERS, routes: ROUTES, groups: ['us', 'uk-mobile'] }, NOW).state;
    assert.equal(step(st, S, { kind: 'peer', fact: fact({ group: 'uk-mobile' }) }, NOW).granted, true);
  });

  test('maxEjectedPercent counts the group: a peer\'s group ejection of the last usable carrier for the group is refused', () => {
    const S50 = { ...S, maxEjectedPercent: 50 };
    const routes = [route('two', ['primary', 'secondary'])];
    let st = initialState(CARRIERS, routes, S50, NOW, undefined, GROUPS);
    st = step(st, S50, { kind: 'peer', fact: fact({ carrier: 'primary', group: 'uk-mobile' }) }, NOW).state;
    const r = step(st, S50, { kind: 'peer', fact: fact({ carrier: 'secondary', group: 'uk-mobile' }) }, NOW);
    assert.equal(r.granted, false);
    assert.equal(gb(r.state)?.kind, 'open');
    assert.equal(r.state.carriers.get('secondary')?.groups.get('uk-mobile'), undefined);
    assert.match(r.notes.map((n) => n.msg).join(), /for a prefix group but maxEjectedPercent keeps it in service here/);
  });
});
