import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { simulateCall } from '../sim/agi-sim.js';
import { startTestDaemon } from '../support/daemon.js';

const ss = spawnSync('ss', ['-V']).status === 0;

test('the AGI port listens with agi.listenBacklog (ss shows it as Send-Q)', { skip: ss ? false : 'ss (iproute2) not installed' }, async () => {
  const d = await startTestDaemon({ overrides: { 'agi.listenBacklog': 1234 } });
  try {
    const r = spawnSync('ss', ['-ltnH', `sport = :${d.port}`], { encoding: 'utf8' });
    const [, , sendQ] = r.stdout.trim().split(/\s+/);
    assert.equal(sendQ, '1234', r.stdout);
  } finally {
    await d.stop();
  }
});

test('a dialer burst: 500 connects at once are all served, none refused or dropped', async () => {
  const d = await startTestDaemon();
  try {
    const results = await Promise.allSettled(
      Array.from({ length: 500 }, (_, i) => simulateCall({ port: d.port, args: ['15552345678'], uniqueid: `1799.${i}`, carriers: { 'carrier-primary': { kind: 'answer', talkMs: 200 } } })),
    );
    const answered = results.filter((r) => r.status === 'fulfilled' && r.value.vars.get('FAILOVER_STATUS') === 'ANSWER').length;
    assert.equal(answered, 500);
  } finally {
    await d.stop();
  }
});
