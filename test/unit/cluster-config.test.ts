import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const problems = (overrides: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string[] => {
  try {
    loadConfig({ file: null, env, overrides });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
};

describe('cluster.* settings: shared health is on only when asked, and only with a database', () => {
  test('defaults: off, a read every second, lost after 5 s, the ejecting dialer trials first for 5 s', () => {
    assert.deepEqual(loadConfig({ file: null, env: {} }).settings.cluster, { enabled: false, pollMs: 1000, staleAfter: 5000, trialWait: 5000 });
  });
  test('cluster.enabled without db.host is refused, saying why', () => {
    assert.deepEqual(problems({ 'cluster.enabled': true }), ["cluster.enabled needs db.host: the dialers share health through the cluster's database"]);
    assert.deepEqual(problems({ 'cluster.enabled': true, 'db.host': '10.0.0.5' }), []);
  });
  test('FAILOVER_AGI_CLUSTER_ENABLED reads words strictly', () => {
    assert.equal(loadConfig({ file: null, env: { FAILOVER_AGI_CLUSTER_ENABLED: 'yes', FAILOVER_AGI_DB_HOST: 'db' } }).settings.cluster.enabled, true);
    assert.match(problems({}, { FAILOVER_AGI_CLUSTER_ENABLED: 'maybe' }).join(), /cluster\.enabled: must be true or false/);
  });
  const bad: [string, unknown, RegExp][] = [
    ['cluster.pollMs', 0, /cluster\.pollMs: must be a whole number of ms, 1 or more/],
    ['cluster.pollMs', '1s', /cluster\.pollMs: must be a whole number of ms, 1 or more/],
    ['cluster.staleAfter', -1, /cluster\.staleAfter: must be a whole number of ms, 1 or more/],
    ['cluster.trialWait', 2.5, /cluster\.trialWait: must be a whole number, 0 or more/],
  ];
  for (const [key, value, re] of bad) {
    test(`${key} = ${JSON.stringify(value)} is refused`, () => assert.match(problems({ [key]: value }).join('\n'), re));
  }
  test('a staleAfter shorter than one poll would call every pause between reads a loss: refused', () => {
    assert.match(problems({ 'cluster.pollMs': 2000, 'cluster.staleAfter': 1000 }).join(), /cluster\.staleAfter \(1000\) is shorter than cluster\.pollMs \(2000\)/);
  });
});
