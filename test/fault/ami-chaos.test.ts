import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MemorySink } from '../support/memory-sink.js';
import { loadConfig } from '../../src/config/load.js';
import { startService, type AttemptLog } from '../../src/service.js';
import { AmiSimulator } from '../sim/ami-server.js';
import { simulateCall } from '../sim/agi-sim.js';
import { memoryAttemptLog } from '../support/attempt-log.js';
import { CARRIERS, ROUTES, memoryLog } from '../support/daemon.js';
import { until } from '../support/until.js';


describe('AMI chaos during traffic', () => {
  test('AMI dropped, refusing logins, then restarted: every call is served; health goes stale, then resyncs', async () => {
    const ami = await AmiSimulator.start();
    ami.setSipPeer('carrier-primary', 'Reachable');
    ami.setEndpoint('carrier-b', ['carrier-b'], [{ aor: 'carrier-b', uri: 'sip:carrier-b@127.0.0.1:5072', status: 'Reachable', rttUsec: 900 }]);
    ami.setIaxPeer('carrier-c', 'Reachable');
    const dir = mkdtempSync(join(tmpdir(), 'fa-chaos-'));
    const sink = new MemorySink();
    const attemptLog = memoryAttemptLog(sink);
    const config = loadConfig({
      file: null,
      env: {},
      overrides: {
        'agi.port': 0, 'http.port': 0, 'ami.enabled': true, 'ami.port': ami.port, 'ami.secret': 'sim-secret',
        'ami.reconnectMin': 20, 'ami.reconnectMax': 80, 'ami.staleAfter': 300, 'ami.actionTimeout': 300,
        'control.socket': join(dir, 'c.sock'), 'control.stateFile': join(dir, 's.json'),
        carriers: CARRIERS.map((c) => ({ ...c, peer: c.dial.includes('@') ? c.dial.split('@')[1] : 'carrier-c' })),
        routes: ROUTES,
      },
    });
    const { log, lines } = memoryLog('info');
    const svc = await startService({ config, configFile: null, log, attemptLog: () => attemptLog });
    const state = (c: string) => svc.health.snapshot().get(c)?.state;
    try {
      await until(() => state('primary') === 'up', 3000);
      let stop = false;
      let calls = 0;
      let served = 0;
      const traffic = (async () => {
        while (!stop) {
          calls++;
          const r = await simulateCall({ port: svc.daemon.port, args: ['15552345678'], carriers: { 'carrier-primary': { kind: 'reject', sip: 486 }, 'carrier-b': { kind: 'answer' }, 'carrier-c': { kind: 'answer' } } });
          if (r.vars.get('FAILOVER_STATUS')) served++;
        }
      })();
      ami.refuseLogins = true;
      ami.dropAll();
      await until(() => state('primary') === 'unknown', 3000);
      await until(() => lines().some((l) => String(l['msg']).includes('AMI login failed')), 3000);
      await ami.stopListening();
      await new Promise((r) => setTimeout(r, 200));
      ami.refuseLogins = false;
      await ami.restart();
      await until(() => state('primary') === 'up' && state('secondary') === 'up', 5000);
      stop = true;
      await traffic;
      assert.ok(calls > 20, `traffic flowed: ${calls} calls`);
      assert.equal(served, calls, 'every call got a verdict while AMI was away');
      assert.equal(sink.attempts.filter((a) => a.verdict === 'skipped').length, 0, 'unknown is dialed, not skipped');
    } finally {
      await svc.stop();
      await ami.close();
    }
  });
});
