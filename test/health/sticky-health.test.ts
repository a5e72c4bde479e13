import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contactStatusEvent, peerStatusEvent } from '../sim/ami-server.js';
import { contactVerdict, expireFacts, factsDeadline, peerListStatus, peerVerdict, type AmiFacts } from '../../src/health/ami-facts.js';
import { CLOSED, endEjection, type Breaker } from '../../src/health/breaker.js';
import { EMPTY_RESYNC, factsFromResync, type ResyncData } from '../../src/health/resync.js';
import { planAttempts } from '../../src/routing/plan.js';
import { carrier, fail, HEALTH, mapRig, parseRaw, route } from './helpers.js';

/** "Health that sticks": every verdict is either refreshed by Asterisk or ends by itself. */

const RTT = { laggedRtt: 500, laggedRttMaxAge: 60_000, now: 1_000 };
const B_URI = 'sip:carrier-b@203.0.113.20:5060';

describe('chan_sip and IAX2: the status word decides, the RTT is shown only', () => {
  const rows: [string, string, number | null, string, string][] = [
    ['Reachable at 1001 ms (qualify answered on a retransmission)', 'Reachable', 1001, 'up', 'PeerStatus Reachable (1001 ms)'],
    ['Reachable at 1 ms', 'Reachable', 1, 'up', 'PeerStatus Reachable (1 ms)'],
    ['Reachable without Time (the async event)', 'Reachable', null, 'up', 'PeerStatus Reachable'],
    ['Lagged at 300 ms (the peer has a lower maxms)', 'Lagged', 300, 'lagged', 'PeerStatus Lagged (300 ms)'],
    ['Lagged without Time', 'Lagged', null, 'lagged', 'PeerStatus Lagged'],
    ['Unreachable', 'Unreachable', null, 'down', 'PeerStatus Unreachable'],
    ['Unmonitored (qualify=no)', 'Unmonitored', null, 'unmonitored', 'qualify=no'],
    ['Unknown (qualified, no answer yet)', 'Unknown', null, 'unknown', 'not qualified yet'],
  ];
  for (const [label, status, rtt, level, reason] of rows) {
    test(label, () => {
      const v = peerVerdict(status, rtt);
      assert.equal(v?.level, level);
      assert.ok(v?.reason.includes(reason), v?.reason);
      assert.equal(v?.expires, undefined, 'a word Asterisk republishes on every change never needs to expire');
    });
  }

  test('SIPpeers rows (the fallback resync): OK (1001 ms) is Reachable, UNKNOWN stays unknown, Unmonitored is not qualified', () => {
    const cases: [string, string | undefined][] = [
      ['OK (1001 ms)', 'up'],
      ['LAGGED (2504 ms)', 'lagged'],
      ['UNKNOWN', 'unknown'],
      ['Unmonitored', 'unmonitored'],
    ];
    for (const [text, level] of cases) {
      const row = peerListStatus(text);
      assert.equal(peerVerdict(row.status, row.rttMs)?.level, level, text);
    }
  });

  test('a resync at OK (1001 ms) keeps the primary up; a later faster qualify needs no event', () => {
    const r = mapRig();
    const data: ResyncData = { ...EMPTY_RESYNC, sipPeers: { ok: true, value: new Map([['carrier-primary', { status: 'Reachable', rttMs: 1001 }]]) } };
    r.map.applyResync(data);
    assert.equal(r.state('primary'), 'up');
    assert.equal(r.reason('primary'), 'PeerStatus Reachable (1001 ms)');
    r.clock.advance(47_000);
    assert.equal(r.state('primary'), 'up', 'nothing to wait for: no reload needed');
  });
});

describe('PJSIP: an RTT-derived lagged ends unless a newer RTT confirms it', () => {
  test('contactVerdict: over laggedRtt is lagged until now + laggedRttMaxAge, then up', () => {
    const v = contactVerdict('Reachable', '502816', B_URI, RTT);
    assert.equal(v?.level, 'lagged');
    assert.equal(v?.expires?.at, 61_000);
    assert.equal(v?.expires?.then.level, 'up');
    assert.match(v?.expires?.then.reason ?? '', /503 ms was not confirmed for 60 s \(lagged expired\)/);
    assert.equal(contactVerdict('Reachable', '3456', B_URI, RTT)?.expires, undefined);
    assert.equal(contactVerdict('Reachable', '502816', B_URI, { ...RTT, laggedRttMaxAge: 0 })?.level, 'up', 'laggedRttMaxAge 0: an RTT never makes it lagged');
  });

  test('expireFacts and factsDeadline', () => {
    const lag = contactVerdict('Reachable', '700000', B_URI, RTT);
    assert.ok(lag);
    const f: AmiFacts = { peer: null, contacts: new Map([[B_URI, { aor: 'carrier-b', verdict: lag }]]), registration: null, note: null };
    assert.equal(factsDeadline(f), 61_000);
    assert.equal(expireFacts(f, 60_999), f, 'nothing due: same object');
    const later = expireFacts(f, 61_000);
    assert.equal(later.contacts?.get(B_URI)?.verdict.level, 'up');
    assert.equal(factsDeadline(later), null);
  });

  test('through the map: lagged from the retransmitted qualify (multi/pjsip_contact_flap, 502816 µs) expires by itself', () => {
    const r = mapRig();
    r.map.applyAmiEvent(parseRaw(contactStatusEvent({ uri: B_URI, status: 'Reachable', aor: 'carrier-b', endpoint: 'carrier-b', rttUsec: 502_816 })));
    assert.equal(r.state('secondary'), 'lagged');
    r.clock.advance(59_999);
    assert.equal(r.state('secondary'), 'lagged');
    r.clock.advance(1);
    assert.equal(r.state('secondary'), 'up');
    assert.match(r.reason('secondary') ?? '', /lagged expired/);
    assert.deepEqual(r.events.map((e) => [e.from, e.to, e.source]), [
      ['unknown', 'lagged', 'ami'],
      ['lagged', 'up', 'ami'],
    ]);
  });

  test('a newer RTT over laggedRtt confirms it and restarts the age; a resync with a fast RTT ends it at once', () => {
    const r = mapRig();
    const ev = (rttUsec: number) => parseRaw(contactStatusEvent({ uri: B_URI, status: 'Reachable', aor: 'carrier-b', endpoint: 'carrier-b', rttUsec }));
    r.map.applyAmiEvent(ev(700_000));
    r.clock.advance(50_000);
    r.map.applyAmiEvent(ev(800_000));
    r.clock.advance(50_000);
    assert.equal(r.state('secondary'), 'lagged', '100 s after the first RTT, 50 s after the confirming one');
    r.clock.advance(10_000);
    assert.equal(r.state('secondary'), 'up');
    r.map.applyAmiEvent(ev(900_000));
    assert.equal(r.state('secondary'), 'lagged');
    const endpoints = new Map([['carrier-b', { name: 'carrier-b', aors: ['carrier-b'], deviceState: 'Not in use' }]]);
    r.map.applyResync({
      ...EMPTY_RESYNC,
      endpoints: { ok: true, value: endpoints },
      endpointContacts: new Map([['carrier-b', { ok: true, value: [{ aor: 'carrier-b', uri: B_URI, status: 'Reachable', rttUsec: '2100' }] }]]),
      registrations: { ok: true, value: [] },
    });
    assert.equal(r.state('secondary'), 'up');
  });

  test('a timer, not only snapshot(), ends the lagged verdict', async () => {
    const r = mapRig({ health: { laggedRttMaxAge: 30 } });
    r.clock.set(Date.now());
    r.map.applyAmiEvent(parseRaw(contactStatusEvent({ uri: B_URI, status: 'Reachable', aor: 'carrier-b', endpoint: 'carrier-b', rttUsec: 700_000 })));
    assert.equal(r.events.at(-1)?.to, 'lagged');
    r.clock.set(Date.now() + 60);
    await new Promise((res) => setTimeout(res, 80));
    assert.equal(r.events.at(-1)?.to, 'up');
    r.map.close();
  });

  test('factsFromResync stamps the age with the resync time', () => {
    const t = { carrier: 'secondary', tech: 'pjsip' as const, peer: 'carrier-b', endpoint: null, aor: null };
    const data: ResyncData = {
      ...EMPTY_RESYNC,
      endpoints: { ok: true, value: new Map([['carrier-b', { name: 'carrier-b', aors: ['carrier-b'], deviceState: '' }]]) },
      endpointContacts: new Map([['carrier-b', { ok: true, value: [{ aor: 'carrier-b', uri: B_URI, status: 'Reachable', rttUsec: '900000' }] }]]),
      registrations: { ok: true, value: [] },
    };
    assert.equal(factsDeadline(factsFromResync(t, data, { ...RTT, now: 5_000 }).facts), 65_000);
  });
});

describe('qualify=no: the carrier keeps its place, judged by the breaker only', () => {
  const carriers = [carrier('plain', 'SIP/${number}@plain', 'plain'), carrier('qualified', 'SIP/${number}@qualified', 'qualified')];
  const routes = [route('r', ['plain', 'qualified'])];
  const order = (r: ReturnType<typeof mapRig>) =>
    planAttempts({ route: routes[0] as (typeof routes)[0], carriers: new Map(carriers.map((c) => [c.name, c])), health: r.map.snapshot(), rotation: 0, random: 0 }).targets.map((t) => t.carrier.name);

  test('Unmonitored first in the route stays first (it was `unknown`, behind every qualified carrier)', () => {
    const r = mapRig({ carriers, routes });
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'plain', 'Unmonitored')));
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'qualified', 'Reachable')));
    assert.deepEqual(order(r), ['plain', 'qualified']);
    assert.equal(r.state('plain'), 'up');
    assert.match(r.reason('plain') ?? '', /not qualified, health from the breaker only/);
  });

  test('its breaker still opens, recovers and closes', () => {
    const r = mapRig({ carriers, routes });
    r.map.applyResync({ ...EMPTY_RESYNC, sipPeers: { ok: true, value: new Map([['plain', { status: 'Unmonitored', rttMs: null }], ['qualified', { status: 'Reachable', rttMs: 4 }]]) } });
    for (let i = 0; i < 3; i++) r.map.recordAttempt(fail('plain'));
    assert.equal(r.state('plain'), 'down');
    assert.deepEqual(order(r), ['qualified']);
    r.clock.advance(30_000);
    assert.equal(r.state('plain'), 'probing');
    r.map.recordAttempt({ carrier: 'plain', carrierFailure: false, carrierSuccess: true, reason: 'answered', at: 0 });
    r.map.recordAttempt({ carrier: 'plain', carrierFailure: false, carrierSuccess: true, reason: 'answered', at: 0 });
    assert.equal(r.state('plain'), 'up');
    assert.match(r.reason('plain') ?? '', /qualify=no/);
  });
});

describe('a breaker opening while Asterisk already has the carrier down', () => {
  test('is a CarrierEvent (down → down, source breaker) and a warning, though the state stays down', () => {
    const r = mapRig();
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Unreachable')));
    for (let i = 0; i < 3; i++) r.map.recordAttempt(fail('primary'));
    const opening = r.events.at(-1);
    assert.deepEqual([opening?.from, opening?.to, opening?.source], ['down', 'down', 'breaker']);
    assert.match(opening?.reason ?? '', /^breaker opened: 3 carrier failures in a row .* \(already down: PeerStatus Unreachable\)/);
    assert.equal(r.state('primary'), 'down');
    assert.match(r.reason('primary') ?? '', /PeerStatus Unreachable; breaker open until/);
    const warn = r.logs.lines().find((l) => l['msg'] === 'breaker opened while the carrier was already down');
    assert.equal(warn?.['carrier'], 'primary');
    // only the opening is an event: later failures while open are not
    r.map.recordAttempt(fail('primary'));
    assert.equal(r.events.filter((e) => e.source === 'breaker').length, 1);
  });
});

describe('Asterisk reaching it again ends the ejection the same outage caused', () => {
  const open = (at: number): Breaker => ({ kind: 'open', until: at + 30_000, reason: 'x', openings: [at] });
  test('endEjection, pure', () => {
    const b = endEjection(open(0), 'back', HEALTH);
    assert.ok(b.kind === 'half-open' && b.successes === 0 && b.probeUntil === null && b.openings.length === 1);
    assert.equal(endEjection(open(0), 'back', { ...HEALTH, recoverySuccesses: 0 }).kind, 'closed');
    assert.equal(endEjection(CLOSED, 'back', HEALTH), CLOSED);
  });

  // [label, ms the breaker opens relative to AMI Unreachable (negative = before), state at once after Reachable]
  const rows: [string, number, string][] = [
    ['opened while Asterisk had it down', 2_000, 'probing'],
    ['opened just before Asterisk noticed (qualify lags the outage)', -20_000, 'probing'],
    ['opened outageLeadTime before: still the same outage', -65_000, 'probing'],
    ['opened longer before: another trouble, the ejection runs on', -65_001, 'down'],
  ];
  for (const [label, offset, state] of rows) {
    test(label, () => {
      const r = mapRig({ health: { baseEjection: 300_000, maxEjection: 600_000 } });
      r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Reachable')));
      const unreachable = () => r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Unreachable')));
      const trip = () => {
        for (let i = 0; i < 3; i++) r.map.recordAttempt(fail('primary'));
      };
      if (offset < 0) {
        trip();
        r.clock.advance(-offset);
        unreachable();
      } else {
        unreachable();
        r.clock.advance(offset);
        trip();
      }
      r.clock.advance(5_000);
      assert.equal(r.state('primary'), 'down');
      r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Reachable')));
      assert.equal(r.state('primary'), state, r.reason('primary'));
      if (state === 'probing') {
        assert.match(r.reason('primary') ?? '', /ends the ejection this outage caused/);
        assert.equal(r.map.claimProbe('primary'), true);
        assert.equal(r.map.claimProbe('primary'), false, 'one trial call at a time');
        r.map.recordAttempt(fail('primary'));
        assert.match(r.reason('primary') ?? '', /opening 2/, 'a failed trial ejects for longer: the opening is remembered');
      }
    });
  }
});
