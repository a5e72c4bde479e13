import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { simulateCall } from '../sim/agi-sim.js';
import { CARRIERS, ROUTES, startTestDaemon, type TestDaemon } from '../support/daemon.js';

const NUM = '15552345678';
const KEY = 'a-reloaded-key-0123456789';
const settings = (overrides: Record<string, unknown>) => loadConfig({ file: null, env: {}, overrides: { 'agi.port': 0, carriers: CARRIERS, routes: ROUTES, ...overrides } }).settings;
const answer = { 'carrier-primary': { kind: 'answer' } } as const;

/** What a reload hands the running AGI server: new connections get it, the socket stays where it is. */
describe('daemon retune: AGI settings for new connections and calls', () => {
  let t: TestDaemon;
  before(async () => {
    t = await startTestDaemon();
  });
  after(async () => t.stop());

  test('log.showNumbers: the next call logs the whole number', async () => {
    await simulateCall({ port: t.port, args: [NUM], uniqueid: 'mask.1', carriers: answer });
    t.daemon.retune(settings({ 'log.showNumbers': true }), '');
    await simulateCall({ port: t.port, args: [NUM], uniqueid: 'mask.2', carriers: answer });
    const numberOf = (u: string) => t.logLines().find((l) => l['uniqueid'] === u && l['number'] !== undefined)?.['number'];
    assert.equal(numberOf('mask.1'), '*******5678');
    assert.equal(numberOf('mask.2'), NUM);
  });

  test('agi.sharedKey: new connections must send the new key', async () => {
    t.daemon.retune(settings({ 'agi.sharedKey': KEY }), KEY);
    const without = await simulateCall({ port: t.port, args: [NUM], carriers: answer });
    assert.deepEqual(without.commands, [], 'no key: no command at all');
    const withKey = await simulateCall({ port: t.port, script: `outbound-failover?key=${KEY}`, args: [NUM], carriers: answer });
    assert.equal(withKey.vars.get('FAILOVER_CARRIER'), 'primary');
    t.daemon.retune(settings({}), '');
  });

  test('agi.allowedPeers: a peer no longer listed is refused; listed again, it is served', async () => {
    t.daemon.retune(settings({ 'agi.allowedPeers': ['10.9.9.9'] }), '');
    const r = await simulateCall({ port: t.port, args: [NUM], carriers: answer });
    assert.deepEqual(r.commands, []);
    assert.ok(t.logLines().some((l) => l['msg'] === 'AGI connection refused: address not in agi.allowedPeers'));
    t.daemon.retune(settings({}), '');
    const again = await simulateCall({ port: t.port, args: [NUM], carriers: answer });
    assert.equal(again.vars.get('FAILOVER_CARRIER'), 'primary');
  });

  test('agi.port in a retune is ignored: the socket stays bound where it is', async () => {
    t.daemon.retune(settings({ 'agi.port': 1 }), '');
    const r = await simulateCall({ port: t.port, args: [NUM], carriers: answer });
    assert.equal(r.vars.get('FAILOVER_CARRIER'), 'primary');
  });
});
