import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MemorySink } from '../support/memory-sink.js';
import { loadConfig } from '../../src/config/load.js';
import { startService, type Service } from '../../src/service.js';
import { AmiSimulator } from '../sim/ami-server.js';
import { simulateCall, type Behaviour } from '../sim/agi-sim.js';
import { memoryAttemptLog } from '../support/attempt-log.js';
import { CARRIERS, ROUTES, memoryLog } from '../support/daemon.js';
import { until as untilMs } from '../support/until.js';

const until = (pred: () => boolean, ms = 3000): Promise<void> => untilMs(pred, ms);

const NUM = '15552345678';



describe('health drives routing: the daemon against the AMI and FastAGI simulators', () => {
  let ami: AmiSimulator;
  let svc: Service;
  let sink: MemorySink;
  let lines: () => Record<string, unknown>[];
  const call = (carriers: Record<string, Behaviour>) => simulateCall({ port: svc.daemon.port, args: [NUM], carriers });
  const state = (c: string) => svc.health.snapshot().get(c)?.state;

  before(async () => {
    ami = await AmiSimulator.start();
    ami.setSipPeer('carrier-primary', 'Reachable');
    ami.setEndpoint('carrier-b', ['carrier-b'], [{ aor: 'carrier-b', uri: 'sip:carrier-b@127.0.0.1:5072', status: 'Reachable', rttUsec: 1500 }]);
    ami.setIaxPeer('carrier-c', 'Reachable');
    const dir = mkdtempSync(join(tmpdir(), 'fa-health-'));
    const config = loadConfig({
      file: null,
      env: {},
      overrides: {
        'agi.port': 0,
        'http.port': 0,
        'ami.enabled': true,
        'ami.port': ami.port,
        'ami.secret': 'sim-secret',
        'ami.reconnectMin': 20,
        'ami.reconnectMax': 100,
        'ami.staleAfter': 400,
        'health.baseEjection': 300,
        'health.consecutiveFailures': 3,
        'health.recoverySuccesses': 2,
        'control.socket': join(dir, 'c.sock'),
        'control.stateFile': join(dir, 's.json'),
        carriers: CARRIERS.map((c) => ({ ...c, peer: c.dial.includes('@') ? c.dial.split('@')[1] : 'carrier-c' })),
        routes: ROUTES,
      },
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
