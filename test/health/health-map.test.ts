import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contactStatusEvent, peerStatusEvent, registryEvent } from '../sim/ami-server.js';
import { factsUnknown, NO_FACTS, type AmiFacts } from '../../src/health/ami-facts.js';
import { CLOSED, type Breaker } from '../../src/health/breaker.js';
import { ejectionAllowed } from '../../src/health/ejection.js';
import { publish, type AdminHold } from '../../src/health/health-core.js';
import { EMPTY_RESYNC, type ResyncData } from '../../src/health/resync.js';
import { carrier, CARRIERS, fail, HEALTH, mapRig, parseRaw, route, ROUTES } from './helpers.js';

const up: AmiFacts = { peer: { level: 'up', reason: 'PeerStatus Reachable' }, contacts: null, registration: null, note: null };
const lagged: AmiFacts = { ...up, peer: { level: 'lagged', reason: 'PeerStatus Lagged' } };
const down: AmiFacts = { ...up, peer: { level: 'down', reason: 'PeerStatus Unreachable' } };
const open: Breaker = { kind: 'open', until: 1_800_000_030_000, reason: 'x', openings: [1] };
const half: Breaker = { kind: 'half-open', successes: 0, probeUntil: null, reason: 'ejection over', openings: [1] };
const drain: AdminHold = { mode: 'drain', until: null, reason: 'carrier maintenance' };
const forced: AdminHold = { mode: 'force-down', until: null, reason: 'fraud alert' };

describe('published state: precedence', () => {
  const rows: [string, boolean, AdminHold | null, AmiFacts, Breaker, string][] = [
    ['config disabled beats everything', false, forced, down, open, 'disabled'],
    ['drain: disabled even when Asterisk and the breaker say down', true, drain, down, open, 'disabled'],
    ['force-down beats an AMI up carrier', true, forced, up, CLOSED, 'down'],
    ['AMI down beats a closed breaker', true, null, down, CLOSED, 'down'],
    ['AMI down beats a half-open breaker', true, null, down, half, 'down'],
    ['breaker open beats AMI up', true, null, up, open, 'down'],
    ['breaker open beats AMI unknown', true, null, NO_FACTS, open, 'down'],
    ['half-open beats AMI up', true, null, up, half, 'probing'],
    ['half-open beats AMI lagged', true, null, lagged, half, 'probing'],
    ['closed breaker: AMI lagged', true, null, lagged, CLOSED, 'lagged'],
    ['closed breaker: AMI up', true, null, up, CLOSED, 'up'],
    ['closed breaker: nothing known', true, null, factsUnknown('AMI down for 30 s'), CLOSED, 'unknown'],
  ];
  for (const [label, enabled, admin, facts, breaker, state] of rows) {
    test(label, () => assert.equal(publish({ enabled, admin, facts, breaker }, HEALTH).state, state));
  }
});

describe('maxEjectedPercent', () => {
  const routes = [route('r4', ['a', 'b', 'c', 'd']), route('r2', ['d', 'e'])];
  const cases: [string, string, string[], number, boolean][] = [
    ['100 % never limits', 'a', ['b', 'c', 'd'], 100, true],
    ['50 % of 4: a second one may go', 'b', ['a'], 50, true],
    ['50 % of 4: not a third', 'c', ['a', 'b'], 50, false],
    ['a carrier in no route', 'z', ['a', 'b', 'c'], 10, true],
    ['every route holding it counts (d: 1 of 2 in r2 at 50 %)', 'd', ['e'], 50, false],
    ['0 % never ejects', 'a', [], 0, false],
    ['34 % of 3 allows one', 'a', [], 34, true],
  ];
  for (const [label, c, ejected, pct, okExpected] of cases) {
    test(label, () => {
      const routesHere = label.startsWith('34') ? [route('r3', ['a', 'b', 'c'])] : routes;
      assert.equal(ejectionAllowed(c, routesHere, new Set(ejected), pct).ok, okExpected);
    });
  }

  test('the map keeps the last carriers of a route in service and says so', () => {
    const carriers = ['a', 'b', 'c', 'd'].map((n) => carrier(n, `SIP/\${number}@${n}`, n));
    const r = mapRig({ carriers, routes: [route('r', ['a', 'b', 'c', 'd'])], health: { maxEjectedPercent: 50 } });
    for (const c of ['a', 'b', 'c']) for (let i = 0; i < 3; i++) r.map.recordAttempt(fail(c));
    assert.deepEqual(['a', 'b', 'c', 'd'].map((c) => r.state(c)), ['down', 'down', 'unknown', 'unknown']);
    const warn = r.logs.lines().find((l) => l['msg'] === 'breaker would open but maxEjectedPercent keeps the carrier in service');
    assert.ok(warn);
    assert.equal(warn['carrier'], 'c');
    assert.equal(warn['allowed'], 2);
    // once a's ejection ends and it closes again, c may go on the next failure
    r.clock.advance(30_000);
    r.map.claimProbe('a');
    r.map.recordAttempt({ carrier: 'a', carrierFailure: false, carrierSuccess: true, reason: 'answered', at: 0 });
    r.map.recordAttempt({ carrier: 'a', carrierFailure: false, carrierSuccess: true, reason: 'answered', at: 0 });
    assert.equal(r.state('a'), 'unknown');
    r.map.recordAttempt(fail('c'));
    assert.equal(r.state('c'), 'down');
  });
});

describe('operator and config', () => {
  test('drain → disabled, force-down with until → down then back by itself, enable → back', () => {
    const r = mapRig();
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Reachable')));
    assert.equal(r.map.setAdmin('primary', { mode: 'drain', until: null, reason: 'maintenance' }), true);
    assert.equal(r.state('primary'), 'disabled');
    assert.match(r.reason('primary') ?? '', /drained by operator: maintenance/);
    r.map.setAdmin('primary', null);
    assert.equal(r.state('primary'), 'up');
    r.map.setAdmin('primary', { mode: 'force-down', until: r.clock.now() + 600_000, reason: 'fraud' });
    assert.equal(r.state('primary'), 'down');
    r.clock.advance(600_000);
    assert.equal(r.state('primary'), 'up');
    assert.equal(r.map.setAdmin('nope', null), false);
    assert.deepEqual(
      r.events.slice(1).map((e) => [e.from, e.to, e.source]),
      [
        ['up', 'disabled', 'admin'],
        ['disabled', 'up', 'admin'],
        ['up', 'down', 'admin'],
        ['down', 'up', 'admin'],
      ],
    );
  });

  test('enabled: false is disabled from the start and on reload; a changed peer waits for a resync', () => {
    const carriers = [carrier('a', 'SIP/${number}@pa', 'pa'), carrier('b', 'SIP/${number}@pb', 'pb', { enabled: false })];
    const r = mapRig({ carriers, routes: [route('r', ['a', 'b'])] });
    assert.equal(r.state('b'), 'disabled');
    assert.equal(r.reason('b'), 'disabled in config');
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'pa', 'Reachable')));
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'pb', 'Reachable')));
    let replaced = 0;
    r.map.onCarriersReplaced(() => replaced++);
    r.map.replaceCarriers([carrier('a', 'SIP/${number}@pa', 'pa', { enabled: false }), carrier('b', 'SIP/${number}@pb', 'pb'), carrier('c', 'PJSIP/${number}@pc', 'pc')], [route('r', ['a', 'b', 'c'])]);
    assert.equal(replaced, 1);
    assert.equal(r.state('a'), 'disabled');
    assert.equal(r.state('b'), 'up', 'b kept what Asterisk said while it was disabled');
    assert.equal(r.state('c'), 'unknown');
    assert.deepEqual(
      r.events.filter((e) => e.source === 'config').map((e) => [e.carrier, e.from, e.to]),
      [
        ['a', 'up', 'disabled'],
        ['b', 'disabled', 'up'],
      ],
    );
    r.map.replaceCarriers([carrier('b', 'PJSIP/${number}@pb2', 'pb2')], [route('r', ['b'])]);
    assert.equal(r.state('b'), 'unknown');
    assert.match(r.reason('b') ?? '', /waiting for the next resync/);
    assert.equal(r.map.snapshot().has('a'), false);
    assert.deepEqual(r.map.amiTargets().map((t) => [t.carrier, t.tech, t.peer]), [['b', 'pjsip', 'pb2']]);
  });

  test('logs: down, all carriers of the route down, back on the primary', () => {
    const r = mapRig();
    for (const [tech, peer] of [['SIP', 'carrier-primary'], ['PJSIP', 'carrier-b'], ['IAX2', 'carrier-c']] as const) {
      r.map.applyAmiEvent(parseRaw(peerStatusEvent(tech, peer, 'Reachable')));
      r.map.applyAmiEvent(parseRaw(peerStatusEvent(tech, peer, 'Unreachable')));
    }
    const msgs = () => r.logs.lines().map((l) => String(l['msg']));
    assert.equal(msgs().filter((m) => m === 'carrier down').length, 3);
    assert.ok(msgs().includes('all carriers of route outbound-failover down'));
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('IAX2', 'carrier-c', 'Reachable')));
    assert.ok(msgs().includes('route outbound-failover has a usable carrier again'));
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Reachable')));
    r.map.recordAttempt({ carrier: 'primary', carrierFailure: false, carrierSuccess: true, reason: 'answered', at: 0 });
    r.map.recordAttempt({ carrier: 'primary', carrierFailure: false, carrierSuccess: true, reason: 'answered', at: 0 });
    assert.equal(r.state('primary'), 'up');
    assert.ok(msgs().includes('route outbound-failover back on the primary carrier primary'));
    const down = r.logs.lines().find((l) => l['msg'] === 'carrier down');
    assert.equal(down?.['level'], 40);
    assert.equal(down?.['source'], 'ami');
  });

  test('snapshot is cached until something changes', () => {
    const r = mapRig();
    const a = r.map.snapshot();
    assert.equal(r.map.snapshot(), a);
    r.map.recordAttempt({ carrier: 'primary', carrierFailure: false, carrierSuccess: false, reason: 'caller hung up', at: 0 });
    assert.equal(r.map.claimProbe('primary'), true);
    assert.equal(r.map.snapshot(), a, 'a neutral signal and a claim on a closed breaker change nothing');
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Reachable')));
    assert.notEqual(r.map.snapshot(), a);
  });
});

describe('AMI loss and resync, pure (ManualClock)', () => {
  test('AMI-derived states become unknown staleAfter ms after AMI is lost, not before', () => {
    const r = mapRig({ staleAfter: 30_000 });
    r.map.amiUp();
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Reachable')));
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('PJSIP', 'carrier-b', 'Unreachable')));
    r.map.amiDown();
    r.clock.advance(29_999);
    assert.equal(r.state('primary'), 'up');
    assert.equal(r.state('secondary'), 'down');
    r.clock.advance(1);
    assert.equal(r.state('primary'), 'unknown');
    assert.equal(r.state('secondary'), 'unknown');
    assert.match(r.reason('primary') ?? '', /no fresh AMI data for 30 s/);
    assert.equal(r.reason('local'), 'technology not followed over AMI');
    const last = r.events.at(-1);
    assert.equal(last?.source, 'ami');
  });

  test('the breaker still rules while AMI is stale', () => {
    const r = mapRig({ staleAfter: 1000 });
    r.map.amiUp();
    r.map.amiDown();
    for (let i = 0; i < 3; i++) r.map.recordAttempt(fail('primary'));
    r.clock.advance(1000);
    assert.equal(r.state('primary'), 'down');
  });

  test('a reconnect that never resynced does not stop the countdown; events heard after going stale go stale too', () => {
    const r = mapRig({ staleAfter: 1000 });
    r.map.amiUp();
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Reachable')));
    r.map.amiDown();
    r.clock.advance(600);
    r.map.amiDown();
    r.clock.advance(400);
    assert.equal(r.state('primary'), 'unknown', 'counted from the first loss');
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Reachable')));
    assert.equal(r.state('primary'), 'up');
    r.map.amiDown();
    r.clock.advance(1000);
    assert.equal(r.state('primary'), 'unknown');
  });

  test('amiUp before staleAfter keeps what was known', () => {
    const r = mapRig({ staleAfter: 1000 });
    r.map.amiUp();
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Reachable')));
    r.map.amiDown();
    r.clock.advance(500);
    r.map.amiUp();
    r.clock.advance(5000);
    assert.equal(r.state('primary'), 'up');
  });

  const resync = (over: Partial<ResyncData>): ResyncData => ({ ...EMPTY_RESYNC, ...over });

  test('a resync replaces everything AMI said; carriers it does not find become unknown', () => {
    const r = mapRig();
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', 'Unreachable')));
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('PJSIP', 'carrier-b', 'Reachable')));
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('IAX2', 'carrier-c', 'Reachable')));
    r.map.applyResync(
      resync({
        sipPeers: { ok: true, value: new Map([['carrier-primary', { status: 'Reachable', rttMs: 8 }]]) },
        iaxPeers: { ok: true, value: new Map() },
        endpoints: {
          ok: true,
          value: new Map([
            ['carrier-b', { name: 'carrier-b', aors: ['carrier-b'], deviceState: 'Not in use' }],
            ['carrier-d', { name: 'carrier-d', aors: ['carrier-d-aor', 'carrier-d-backup'], deviceState: 'Not in use' }],
          ]),
        },
        endpointContacts: new Map([
          ['carrier-b', { ok: true, value: [{ aor: 'carrier-b', uri: 'sip:b@203.0.113.20', status: 'Unreachable', rttUsec: 'N/A' }] }],
          [
            'carrier-d',
            {
              ok: true,
              value: [
                { aor: 'carrier-d-aor', uri: 'sip:d@198.51.100.7', status: 'Reachable', rttUsec: '900000' },
                { aor: 'carrier-d-backup', uri: 'sip:d2@198.51.100.8', status: 'Reachable', rttUsec: '1000' },
              ],
            },
          ],
        ]),
        registrations: { ok: true, value: [] },
      }),
    );
    assert.equal(r.state('primary'), 'probing', 'was down, resync says reachable: recovering');
    assert.equal(r.state('secondary'), 'down');
    assert.equal(r.state('tertiary'), 'unknown');
    assert.equal(r.reason('tertiary'), 'peer "carrier-c" not found in IAXpeerlist');
    assert.equal(r.state('by-aor'), 'lagged', 'only the AOR the peer names counts (900 ms), not the endpoint\'s other AOR');
  });

  test('a failed part leaves those carriers unknown with the reason', () => {
    const r = mapRig();
    r.map.applyResync(resync({ sipPeers: { ok: false, error: 'SIPpeerstatus: no reply within 5000 ms' }, endpoints: { ok: true, value: new Map() }, registrations: { ok: true, value: [] } }));
    assert.equal(r.reason('primary'), 'resync failed: SIPpeerstatus: no reply within 5000 ms');
    assert.equal(r.reason('secondary'), 'PJSIP endpoint or AOR "carrier-b" not found');
  });

  test('registrations learned at resync match later Registry events by client and server URI', () => {
    const r = mapRig();
    const endpoints = new Map([['carrier-b', { name: 'carrier-b', aors: ['carrier-b'], deviceState: 'Not in use' }]]);
    r.map.applyResync(
      resync({
        endpoints: { ok: true, value: endpoints },
        endpointContacts: new Map([['carrier-b', { ok: true, value: [{ aor: 'carrier-b', uri: 'sip:b@203.0.113.20', status: 'Reachable', rttUsec: '2000' }] }]]),
        registrations: { ok: true, value: [{ name: 'reg-b', endpoint: 'carrier-b', clientUri: 'sip:4420@sip.provider.example', serverUri: 'sip:sip.provider.example', status: 'Registered' }] },
      }),
    );
    assert.equal(r.state('secondary'), 'up');
    r.map.applyAmiEvent(parseRaw(registryEvent({ channelType: 'PJSIP', username: 'sip:4420@sip.provider.example', domain: 'sip:sip.provider.example', status: 'Rejected' })));
    assert.equal(r.state('secondary'), 'down');
    assert.match(r.reason('secondary') ?? '', /registration Rejected/);
  });

  test('after a resync, contact events for a peer named by its AOR follow that AOR only', () => {
    const r = mapRig();
    r.map.applyResync(
      resync({
        endpoints: { ok: true, value: new Map([['carrier-d', { name: 'carrier-d', aors: ['carrier-d-aor', 'carrier-d-backup'], deviceState: '' }]]) },
        endpointContacts: new Map([['carrier-d', { ok: true, value: [{ aor: 'carrier-d-aor', uri: 'sip:d@198.51.100.7', status: 'Reachable', rttUsec: '1000' }] }]]),
        registrations: { ok: true, value: [] },
      }),
    );
    assert.equal(r.state('by-aor'), 'up');
    r.map.applyAmiEvent(parseRaw(contactStatusEvent({ uri: 'sip:d2@198.51.100.8', status: 'Unreachable', aor: 'carrier-d-backup', endpoint: 'carrier-d' })));
    assert.equal(r.state('by-aor'), 'up');
    r.map.applyAmiEvent(parseRaw(contactStatusEvent({ uri: 'sip:d@198.51.100.7', status: 'Unreachable', aor: 'carrier-d-aor', endpoint: 'carrier-d' })));
    assert.equal(r.state('by-aor'), 'down');
    // the endpoint-level PeerStatus also reaches it
    assert.equal(r.map.inspect().get('by-aor')?.ami.level, 'down');
  });

  test('inspect shows the parts', () => {
    const r = mapRig({ carriers: CARRIERS, routes: ROUTES });
    for (let i = 0; i < 3; i++) r.map.recordAttempt(fail('primary'));
    const i = r.map.inspect().get('primary');
    assert.equal(i?.breaker, 'open');
    assert.equal(i?.ejectedUntil, r.clock.now() + 30_000);
    assert.equal(i?.ami.level, 'unknown');
  });
});
