import assert from 'node:assert/strict';
import { test } from 'node:test';
import client from 'prom-client';
import { CommandHistogram } from '../../src/ops/command-histogram.js';
import { LabelCounts } from '../../src/ops/label-counts.js';

const BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

test('the command histogram prints what prom-client\'s own Histogram prints for the same observations', async () => {
  const theirs = new client.Registry();
  const ours = new client.Registry();
  const h = new client.Histogram({ name: 'x_agi_command_seconds', help: 'Round trip', labelNames: ['command'], buckets: BOUNDS, registers: [theirs] });
  const c = new CommandHistogram('x_agi_command_seconds', 'Round trip', 'command', BOUNDS);
  c.register(ours);
  // on a bound, between bounds, below the first, above the last, zero
  const seen: [string, number][] = [['GET FULL VARIABLE', 0.0005], ['GET FULL VARIABLE', 0.0007], ['EXEC HangupCauseClear', 0.0001], ['GET FULL VARIABLE', 7], ['SET VARIABLE', 0], ['EXEC HangupCauseClear', 0.01], ['GET FULL VARIABLE', 0.3]];
  for (const [verb, s] of seen) {
    h.observe({ command: verb }, s);
    c.observe(verb, s);
  }
  assert.equal(await ours.metrics(), await theirs.metrics());
  // the same JSON, key order aside
  assert.deepEqual(JSON.parse(JSON.stringify(await ours.getMetricsAsJSON())), JSON.parse(JSON.stringify(await theirs.getMetricsAsJSON())));
  ours.resetMetrics();
  theirs.resetMetrics();
  assert.equal(await ours.metrics(), await theirs.metrics(), 'after a reset: no series');
});

test('counts kept by label values print what prom-client\'s Counter.inc prints, at every scrape', async () => {
  const theirs = new client.Registry();
  const ours = new client.Registry();
  const direct = new client.Counter({ name: 'x_attempts_total', help: 'Dials', labelNames: ['carrier', 'verdict', 'sip_code'], registers: [theirs] });
  const counts = new LabelCounts(['carrier', 'verdict', 'sip_code'] as const);
  new client.Counter({ name: 'x_attempts_total', help: 'Dials', labelNames: ['carrier', 'verdict', 'sip_code'], registers: [ours], collect() { counts.into(this); } });
  const seen: [string, string, string][] = [['carrier-a', 'next', '503'], ['carrier-b', 'answered', '200'], ['carrier-a', 'next', '503'], ['carrier-a', 'stop', 'none']];
  for (const [c, v, s] of seen) {
    direct.inc({ carrier: c, verdict: v, sip_code: s });
    counts.inc(c, v, s);
  }
  assert.equal(await ours.metrics(), await theirs.metrics());
  // a second scrape counts nothing twice
  direct.inc({ carrier: 'carrier-b', verdict: 'answered', sip_code: '200' });
  counts.inc('carrier-b', 'answered', '200');
  assert.equal(await ours.metrics(), await theirs.metrics());
});
