import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { AmiSimulator, peerStatusEvent } from '../sim/ami-server.js';
import { startAmiFeed, type AmiFeed } from '../../src/health/ami-feed.js';
import { createHealthMap, type HealthMap } from '../../src/health/health-map.js';
import type { CarrierEvent } from '../../src/health/types.js';
import { AMI, CARRIERS, carrier, HEALTH, memoryLog, route, ROUTES, sleep, waitFor } from './helpers.js';

interface FeedRig {
  sim: AmiSimulator;
  map: HealthMap;
  feed: AmiFeed;
  events: CarrierEvent[];
  logs: ReturnType<typeof memoryLog>;
  state(c: string): string | undefined;
  reason(c: string): string | undefined;
  states(): Record<string, string>;
}

const rigs: FeedRig[] = [];

/** Asterisk as the example config expects it: every technology, a PJSIP peer named by its AOR, a registration. */
function populate(sim: AmiSimulator): void {
  sim.setSipPeer('carrier-primary', 'Reachable', 12, false);
  sim.setSipPeer('other-peer', 'Unreachable', 0, false);
  sim.setIaxPeer('carrier-c', 'Lagged', 2504, false);
  sim.setEndpoint('carrier-b', ['carrier-b'], [{ aor: 'carrier-b', uri: 'sip:carrier-b@203.0.113.20:5060', status: 'Reachable', rttUsec: 3456 }]);
  sim.setEndpoint('carrier-d', ['carrier-d-aor'], [{ aor: 'carrier-d-aor', uri: 'sip:gw@198.51.100.7:5060', status: 'Unreachable', rttUsec: 0 }]);
  sim.setRegistration('carrier-b', { clientUri: 'sip:4420@sip.carrier-b.example', serverUri: 'sip:sip.carrier-b.example', status: 'Registered', endpoint: 'carrier-b' }, false);
}

async function feedRig(opts: { populate?: boolean; booted?: boolean; ami?: Partial<typeof AMI> } = {}): Promise<FeedRig> {
  const sim = await AmiSimulator.start({ booted: opts.booted ?? true });
  if (opts.populate !== false) populate(sim);
  const logs = memoryLog();
  const events: CarrierEvent[] = [];
  const map = createHealthMap({ carriers: CARRIERS, routes: ROUTES, health: HEALTH, staleAfter: AMI.staleAfter, onEvent: (e) => events.push(e), logger: logs.log });
  const feed = startAmiFeed({ ami: { ...AMI, port: sim.port, ...opts.ami }, healthMap: map, logger: logs.log });
  const r: FeedRig = {
    sim,
    map,
    feed,
    events,
    logs,
    state: (c) => map.snapshot().get(c)?.state,
    reason: (c) => map.snapshot().get(c)?.reason,
    states: () => Object.fromEntries([...map.snapshot()].map(([k, v]) => [k, v.state])),
  };
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.feed.stop();
    r.map.close();
    await r.sim.close();
  }
});

const resynced = (r: FeedRig, n = 1) => waitFor(() => r.feed.stats().resyncs >= n, 3000, `resync #${n}`);

describe('AMI feed: the simulator end to end', () => {
  test('after login and FullyBooted it resyncs every technology and the map shows what Asterisk knows', async () => {
    const r = await feedRig();
    await resynced(r);
    assert.deepEqual(r.states(), { primary: 'up', secondary: 'up', tertiary: 'lagged', 'by-aor': 'down', local: 'unknown' });
    assert.equal(r.reason('primary'), 'PeerStatus Reachable (12 ms)');
    assert.match(r.reason('tertiary') ?? '', /PeerStatus Lagged \(2504 ms\)/);
    assert.deepEqual(
      r.sim.actions.map((a) => (a.action === 'PJSIPShowEndpoint' ? `${a.action} ${a.headers['endpoint']}` : a.action)),
      ['login', 'Events', 'SIPpeerstatus', 'IAXpeerlist', 'PJSIPShowEndpoints', 'PJSIPShowEndpoint carrier-b', 'PJSIPShowEndpoint carrier-d', 'PJSIPShowRegistrationsOutbound'],
    );
    const s = r.feed.stats();
    assert.equal(s.connected, true);
    assert.equal(s.connects, 1);
    assert.ok(s.lastResyncAt !== null && s.lastEventAt !== null);
    assert.ok(r.events.every((e) => e.source === 'ami'));
  });

  test('live PeerStatus, ContactStatus and Registry events move carriers between resyncs', async () => {
    const r = await feedRig();
    await resynced(r);
    r.sim.setSipPeer('carrier-primary', 'Unreachable');
    await waitFor(() => r.state('primary') === 'down', 2000, 'primary down');
    r.sim.setContact('carrier-b', { aor: 'carrier-b', uri: 'sip:carrier-b@203.0.113.20:5060', status: 'Unreachable', rttUsec: 0 });
    await waitFor(() => r.state('secondary') === 'down', 2000, 'secondary down');
    r.sim.setRegistration('carrier-b', { clientUri: 'sip:4420@sip.carrier-b.example', serverUri: 'sip:sip.carrier-b.example', status: 'Rejected', endpoint: 'carrier-b' });
    r.sim.setContact('carrier-b', { aor: 'carrier-b', uri: 'sip:carrier-b@203.0.113.20:5060', status: 'Reachable', rttUsec: 2000 });
    await sleep(50);
    assert.equal(r.state('secondary'), 'down', 'the rejected registration still holds it down');
    assert.match(r.reason('secondary') ?? '', /registration Rejected/);
    assert.ok(r.logs.lines().some((l) => l['msg'] === 'carrier down' && l['carrier'] === 'primary'));
  });

  test('Asterisk stops: states hold, then go unknown after staleAfter; it restarts: reconnect, wait for boot, resync', async () => {
    const r = await feedRig();
    await resynced(r);
    const lost = Date.now();
    await r.sim.stopListening();
    await waitFor(() => r.feed.stats().connected === false, 2000, 'AMI loss noticed');
    assert.equal(r.state('primary'), 'up');
    await waitFor(() => r.state('primary') === 'unknown', 2000, 'staleness');
    assert.ok(Date.now() - lost >= AMI.staleAfter - 20, 'not before staleAfter');
    assert.match(r.reason('primary') ?? '', /^no fresh AMI data for \d+ ms \(connection lost\)/);
    assert.equal(r.state('by-aor'), 'unknown');
    // Asterisk comes back with a different picture, still booting
    r.sim.setSipPeer('carrier-primary', 'Unreachable', 0, false);
    r.sim.setEndpoint('carrier-d', ['carrier-d-aor'], [{ aor: 'carrier-d-aor', uri: 'sip:gw@198.51.100.7:5060', status: 'Reachable', rttUsec: 900 }]);
    await r.sim.restart({ booted: false });
    await waitFor(() => r.feed.stats().connected, 3000, 'reconnect');
    await sleep(60);
    assert.equal(r.feed.stats().resyncs, 1, 'no resync before FullyBooted');
    r.sim.boot();
    await resynced(r, 2);
    assert.equal(r.state('primary'), 'down');
    assert.equal(r.state('by-aor'), 'up');
    assert.equal(r.feed.stats().connects, 2);
    assert.ok(r.feed.stats().connectFailures >= 1, 'refused while Asterisk was down');
  });

  test('a network blip (connection dropped, Asterisk still up) reconnects and resyncs', async () => {
    const r = await feedRig();
    await resynced(r);
    r.sim.setSipPeer('carrier-primary', 'Lagged', 900, false);
    r.sim.dropAll();
    await resynced(r, 2);
    assert.equal(r.state('primary'), 'lagged');
    const s = r.feed.stats();
    assert.deepEqual([s.connects, s.disconnects], [2, 1]);
  });

  test('an event that arrives while a resync reads is applied over it, not lost under it', async () => {
    const r = await feedRig();
    await resynced(r);
    // right after SIPpeerstatus answered "Reachable", the peer goes unreachable
    r.sim.after.set('sippeerstatus', () => {
      r.sim.setSipPeer('carrier-primary', 'Unreachable');
      r.sim.after.clear();
    });
    assert.equal(await r.feed.resync('test'), true);
    assert.equal(r.state('primary'), 'down');
  });

  test('SIPpeerstatus refused (no write=system): SIPpeers gives the same picture', async () => {
    const r = await feedRig();
    r.sim.denied.add('SIPpeerstatus');
    await resynced(r);
    assert.equal(r.state('primary'), 'up');
    assert.equal(r.reason('primary'), 'PeerStatus Reachable (12 ms)');
    assert.equal(r.sim.actionsNamed('SIPpeers').length, 1);
  });

  test('a part that fails leaves its carriers unknown with the reason, the rest resync', async () => {
    const r = await feedRig();
    r.sim.denied.add('PJSIPShowEndpoints');
    r.sim.unknown.add('IAXpeerlist');
    await resynced(r);
    assert.deepEqual(r.states(), { primary: 'up', secondary: 'unknown', tertiary: 'unknown', 'by-aor': 'unknown', local: 'unknown' });
    assert.equal(r.reason('secondary'), 'resync failed: PJSIPShowEndpoints: Permission denied');
    assert.equal(r.reason('tertiary'), 'resync failed: chan_iax2 is not loaded (IAXpeerlist unknown)');
    const warn = r.logs.lines().find((l) => l['msg'] === 'AMI resync incomplete: carriers it could not read are unknown');
    assert.ok(warn);
  });

  test('a resync action that never answers times out; the next login resyncs again', async () => {
    const r = await feedRig({ ami: { actionTimeout: 150 } });
    r.sim.ignored.add('IAXpeerlist');
    await resynced(r);
    assert.match(r.reason('tertiary') ?? '', /IAXpeerlist: no reply within 150 ms/);
    assert.equal(r.state('primary'), 'up');
  });

  test('a refused login keeps carriers unknown and says why', async () => {
    const r = await feedRig({ ami: { secret: 'wrong' } });
    await waitFor(() => r.feed.stats().loginFailures >= 2, 2000, 'two refused logins');
    assert.equal(r.state('primary'), 'unknown');
    const err = r.logs.lines().find((l) => l['level'] === 50);
    assert.match(String(err?.['msg']), /AMI login failed: AMI login as "failover-agi" refused .*Authentication failed/);
    assert.ok(!r.logs.text().includes('wrong'), 'the secret is never logged');
  });

  test('no FullyBooted after login (user without read=system): resync anyway, with a warning', async () => {
    const r = await feedRig({ booted: false });
    await resynced(r);
    assert.ok(r.logs.lines().some((l) => String(l['msg']).startsWith('no FullyBooted after login')));
    assert.equal(r.state('primary'), 'up');
  });

  test('a config reload resyncs, so a new carrier gets its state', async () => {
    const r = await feedRig();
    await resynced(r);
    r.sim.setSipPeer('carrier-new', 'Reachable', 30, false);
    r.map.replaceCarriers([...CARRIERS, carrier('new', 'SIP/${number}@carrier-new', 'carrier-new')], [route('outbound-failover', ['new', 'primary'])]);
    assert.equal(r.state('new'), 'unknown');
    await resynced(r, 2);
    assert.equal(r.state('new'), 'up');
  });

  test('stop() ends it: no more logins', async () => {
    const r = await feedRig();
    await resynced(r);
    await r.feed.stop();
    const n = r.sim.actionsNamed('login').length;
    await sleep(80);
    assert.equal(r.sim.actionsNamed('login').length, n);
    assert.equal(r.feed.stats().connected, false);
    r.sim.emit(peerStatusEvent('SIP', 'carrier-primary', 'Unreachable'));
    assert.equal(r.state('primary'), 'up');
  });
});
