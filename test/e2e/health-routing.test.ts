import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MemorySink } from '../support/memory-sink.js';
import { startService, type Service } from '../../src/service.js';
import { AmiSimulator } from '../sim/ami-server.js';
import { simulateCall, type Behaviour } from '../sim/agi-sim.js';
import { memoryAttemptLog } from '../support/attempt-log.js';
import { memoryLog } from '../support/daemon.js';
import { reachableAmi, simServiceConfig } from '../support/sim-service.js';
import { until as untilMs } from '../support/until.js';

const until = (pred: () => boolean, ms = 3000): Promise<void> => untilMs(pred, ms);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const NUM = '15552345678';



describe('health drives routing: the daemon against the AMI and FastAGI simulators', () => {
  let ami: AmiSimulator;
  let svc: Service;
  let sink: MemorySink;
  let lines: () => Record<string, unknown>[];
  const call = (carriers: Record<string, Behaviour>) => simulateCall({ port: svc.daemon.port, args: [NUM], carriers });
  const state = (c: string) => svc.health.snapshot().get(c)?.state;

  before(async () => {
    ami = await reachableAmi();
    const config = simServiceConfig(ami.port, 'fa-health-', {
      'ami.staleAfter': 400,
      'health.baseEjection': 300,
      'health.consecutiveFailures': 3,
      'health.recoverySuccesses': 2,
    });
    const m = memoryLog('debug');
    lines = m.lines;
    sink = new MemorySink();
    svc = await startService({ config, configFile: null, log: m.log, attemptLog: () => memoryAttemptLog(sink) });
    await until(() => state('primary') === 'up' && state('secondary') === 'up' && state('tertiary') === 'up');
  });
  after(async () => {
    await svc.stop();
    await ami.close();
  });

  test('AMI Unreachable: the very next call spends zero Dials on that carrier', async () => {
    const first = await call({ 'carrier-primary': { kind: 'answer' } });
    assert.equal(first.vars.get('FAILOVER_CARRIER'), 'primary');
    ami.setSipPeer('carrier-primary', 'Unreachable');
    await until(() => state('primary') === 'down');
    const before = sink.attempts.length;
    const r = await call({ 'carrier-primary': { kind: 'answer' }, 'carrier-b': { kind: 'answer' } });
    assert.ok(r.dials.every((x) => !x.includes('carrier-primary')), 'a carrier AMI calls unreachable gets no Dial');
    assert.equal(r.vars.get('FAILOVER_CARRIER'), 'secondary');
    const skip = sink.attempts.slice(before).find((a) => a.verdict === 'skipped');
    assert.equal(skip?.carrier, 'primary');
    assert.match(skip?.reason ?? '', /Unreachable/);
    assert.ok(sink.events.some((e) => e.carrier === 'primary' && e.to === 'down' && e.source === 'ami'));
  });

  test('AMI Reachable again: the carrier comes back through trial calls', async () => {
    ami.setSipPeer('carrier-primary', 'Reachable');
    await until(() => state('primary') === 'probing');
    for (let i = 0; i < 2; i++) {
      const r = await call({ 'carrier-primary': { kind: 'answer' } });
      assert.equal(r.vars.get('FAILOVER_CARRIER'), 'primary');
    }
    await until(() => state('primary') === 'up');
    assert.ok(lines().some((l) => String(l['msg']).includes('back on the primary')));
  });

  test('a silent carrier (qualify fine, INVITEs swallowed) is skipped after consecutiveFailures calls, then recovers', async () => {
    const silent: Record<string, Behaviour> = { 'carrier-primary': { kind: 'blackhole', afterMs: 5 }, 'carrier-b': { kind: 'answer' } };
    for (let i = 0; i < 3; i++) {
      const r = await call(silent);
      assert.equal(r.dials.length, 2, `call ${i + 1} still tries the primary`);
    }
    assert.equal(state('primary'), 'down');
    const r4 = await call(silent);
    assert.equal(r4.dials.length, 1, 'the 4th call spends nothing on the silent carrier');
    assert.ok(sink.events.some((e) => e.carrier === 'primary' && e.to === 'down' && e.source === 'breaker'));
    // the ejection (300 ms) ends; the carrier is probed by one call at a time and closes after two good trials
    await until(() => state('primary') === 'probing', 2000);
    for (let i = 0; i < 2; i++) {
      const r = await call({ 'carrier-primary': { kind: 'answer' } });
      assert.equal(r.vars.get('FAILOVER_CARRIER'), 'primary');
    }
    await until(() => state('primary') === 'up');
  });

  test('AMI lost: states go unknown after staleAfter; AMI back: resync restores them', async () => {
    await ami.stopListening();
    await until(() => state('secondary') === 'unknown', 3000);
    await ami.restart();
    await until(() => state('secondary') === 'up', 3000);
    assert.ok(svc.status().ami.connected);
  });
});

describe('health that sticks: verdicts Asterisk never refreshes, qualify=no, the breaker beside AMI, hold-down', () => {
  let ami: AmiSimulator;
  let svc: Service;
  let sink: MemorySink;
  let lines: () => Record<string, unknown>[];
  const call = (carriers: Record<string, Behaviour>) => simulateCall({ port: svc.daemon.port, args: [NUM], carriers });
  const state = (c: string) => svc.health.snapshot().get(c)?.state;
  const reason = (c: string) => svc.health.snapshot().get(c)?.reason ?? '';
  const B = { aor: 'carrier-b', uri: 'sip:carrier-b@127.0.0.1:5072' };
  const openings = async (carrier: string): Promise<number> => {
    const text = await svc.metrics.registry.metrics();
    const m = new RegExp(`breaker_openings_total\\{carrier="${carrier}"\\} (\\d+)`).exec(text);
    return m ? Number(m[1]) : 0;
  };

  before(async () => {
    ami = await AmiSimulator.start();
    // chan_sip qualified the primary on a retransmission: SIPpeerstatus reads `Reachable` with `Time: 1001`
    ami.setSipPeer('carrier-primary', 'Reachable', 1001, false);
    // PJSIP right after boot: the contact is not qualified yet (status_map UNKNOWN → "Unknown")
    ami.setEndpoint('carrier-b', ['carrier-b'], [{ ...B, status: 'Unknown', rttUsec: 0 }]);
    ami.setIaxPeer('carrier-c', 'Reachable');
    const config = simServiceConfig(ami.port, 'fa-sticky-', {
      'ami.staleAfter': 2000,
      'health.baseEjection': 60_000,
      'health.consecutiveFailures': 3,
      'health.recoverySuccesses': 2,
      'health.laggedRttMaxAge': 300,
      'health.holdDownFlaps': 3,
      'health.holdDownWindow': 10_000,
      'health.holdDownQuiet': 400,
    });
    const m = memoryLog('debug');
    lines = m.lines;
    sink = new MemorySink();
    svc = await startService({ config, configFile: null, log: m.log, attemptLog: () => memoryAttemptLog(sink) });
    await until(() => state('tertiary') === 'up' && state('secondary') === 'unknown' && state('primary') !== 'unknown');
  });
  after(async () => {
    await svc.stop();
    await ami.close();
  });

  test('chan_sip resynced at OK (1001 ms) is up and takes the first call (laggedRtt no longer judges chan_sip)', async () => {
    assert.equal(state('primary'), 'up');
    assert.equal(reason('primary'), 'PeerStatus Reachable (1001 ms)');
    const r = await call({ 'carrier-primary': { kind: 'answer' } });
    assert.equal(r.dials.length, 1);
    assert.equal(r.vars.get('FAILOVER_CARRIER'), 'primary');
  });

  test('PJSIP contact qualified at 502816 µs (multi/pjsip_contact_flap) is lagged, then up after laggedRttMaxAge', async () => {
    ami.setContact('carrier-b', { ...B, status: 'Reachable', rttUsec: 502_816 });
    await until(() => state('secondary') === 'lagged');
    const t0 = Date.now();
    await until(() => state('secondary') === 'up', 2000);
    assert.ok(Date.now() - t0 < 1500, 'ended by its age (300 ms), not by a reload');
    assert.ok(sink.events.some((e) => e.carrier === 'secondary' && e.from === 'lagged' && e.to === 'up' && e.source === 'ami'));
  });

  test('qualify=no (SIPpeerstatus Unmonitored) keeps the primary first in the route, ahead of qualified carriers', async () => {
    ami.setSipPeer('carrier-primary', 'Unmonitored', 0, false);
    ami.dropAll(); // Asterisk restarted with qualify=no: the feed logs in again and resyncs
    await until(() => /qualify=no/.test(reason('primary')), 3000);
    assert.equal(state('primary'), 'up');
    const r = await call({ 'carrier-primary': { kind: 'answer' }, 'carrier-b': { kind: 'answer' } });
    assert.ok(r.dials[0]?.includes('carrier-primary'), `first Dial: ${r.dials[0]}`);
    assert.equal(r.vars.get('FAILOVER_CARRIER'), 'primary');
  });

  test('the breaker opens while AMI already has the carrier down: a CarrierEvent, a log line, a metric', async () => {
    ami.setIaxPeer('carrier-c', 'Unreachable');
    await until(() => state('tertiary') === 'down');
    const before = await openings('tertiary');
    // calls that were already dialing it when qualify noticed report their failures late
    for (let i = 0; i < 3; i++) svc.health.recordAttempt({ carrier: 'tertiary', carrierFailure: true, carrierSuccess: false, reason: 'cause 18 is a carrier failure', at: Date.now() });
    const ev = sink.events.find((e) => e.carrier === 'tertiary' && e.source === 'breaker');
    assert.deepEqual([ev?.from, ev?.to], ['down', 'down']);
    assert.match(ev?.reason ?? '', /breaker opened: 3 carrier failures in a row/);
    assert.equal(await openings('tertiary'), before + 1);
    assert.ok(lines().some((l) => l['msg'] === 'breaker opened while the carrier was already down' && l['carrier'] === 'tertiary'));
  });

  test('Reachable ends the ejection that outage caused: probing at once, not after baseEjection (60 s)', async () => {
    const t0 = Date.now();
    ami.setIaxPeer('carrier-c', 'Reachable');
    await until(() => state('tertiary') === 'probing', 1000);
    assert.ok(Date.now() - t0 < 1000);
    assert.match(reason('tertiary'), /ends the ejection this outage caused/);
    // the primary's breaker opens on swallowed INVITEs just before qualify notices, then Asterisk reaches it again
    ami.setSipPeer('carrier-primary', 'Reachable', 4, false);
    for (let i = 0; i < 3; i++) await call({ 'carrier-primary': { kind: 'blackhole', afterMs: 5 }, 'carrier-b': { kind: 'answer' } });
    await until(() => state('primary') === 'down');
    ami.setSipPeer('carrier-primary', 'Unreachable');
    await until(() => reason('primary').startsWith('PeerStatus Unreachable'));
    ami.setSipPeer('carrier-primary', 'Reachable');
    await until(() => state('primary') === 'probing', 1000);
    for (let i = 0; i < 2; i++) {
      const r = await call({ 'carrier-primary': { kind: 'answer' } });
      assert.equal(r.vars.get('FAILOVER_CARRIER'), 'primary', 'the trial calls go to the primary');
    }
    await until(() => state('primary') === 'up');
  });

  test('a contact flapping every 100 ms is held down: no call in its up moments until it was quiet for holdDownQuiet', async () => {
    for (let i = 0; i < 3; i++) {
      ami.setContact('carrier-b', { ...B, status: 'Unreachable', rttUsec: 0 });
      await until(() => state('secondary') === 'down');
      await sleep(50);
      ami.setContact('carrier-b', { ...B, status: 'Reachable', rttUsec: 2000 });
      await sleep(50);
    }
    await until(() => /held down/.test(reason('secondary')));
    assert.equal(state('secondary'), 'down');
    const held = await call({ 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer' }, 'carrier-c': { kind: 'answer' } });
    assert.ok(held.dials.every((d) => !d.includes('carrier-b')), 'held down: no Dial to the flapping carrier');
    assert.ok(lines().some((l) => l['msg'] === 'carrier flapping: held down' && l['carrier'] === 'secondary'));
    await until(() => state('secondary') === 'probing', 2000);
    const r = await call({ 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer' } });
    assert.equal(r.vars.get('FAILOVER_CARRIER'), 'secondary');
  });
});
