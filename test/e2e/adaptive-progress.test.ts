import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AttemptRecord } from '../../src/calls/records.js';
import { formatPlan, formatStatus } from '../../src/ops/cli-format.js';
import { controlRequest } from '../../src/ops/control-client.js';
import type { PlanPreview } from '../../src/ops/plan-preview.js';
import { renderStatusPage } from '../../src/ops/status-page.js';
import { startService, type Service } from '../../src/service.js';
import type { AmiSimulator } from '../sim/ami-server.js';
import { simulateCall, type Behaviour } from '../sim/agi-sim.js';
import { memoryAttemptLog } from '../support/attempt-log.js';
import { memoryLog } from '../support/daemon.js';
import { MemorySink } from '../support/memory-sink.js';
import { AMI_CARRIERS, reachableAmi, simServiceConfig } from '../support/sim-service.js';
import { until } from '../support/until.js';

const NUM = '15552345678';

/**
 * Issue 16 part 2 end to end: the daemon against the simulators, which play Dial's progress timer and the carriers'
 * post-dial delays in time (SimCallOptions.playTimers), so a timeout the daemon writes is the time the Dial takes.
 */
async function service(prefix: string, primary: Record<string, unknown>, overrides: Record<string, unknown> = {}): Promise<{ svc: Service; sink: MemorySink; ami: AmiSimulator; socket: string }> {
  const ami = await reachableAmi();
  const carriers = AMI_CARRIERS.map((c) => (c.name === 'primary' ? { ...c, ...primary } : c));
  const config = simServiceConfig(ami.port, prefix, { carriers, ...overrides });
  const sink = new MemorySink();
  const svc = await startService({ config, configFile: null, log: memoryLog('warn').log, attemptLog: () => memoryAttemptLog(sink) });
  await until(() => svc.health.snapshot().get('primary')?.state === 'up' && svc.health.snapshot().get('secondary')?.state === 'up', 3000);
  return { svc, sink, ami, socket: config.settings.control.socket };
}

const primaryRows = (sink: MemorySink, from: number): AttemptRecord[] => sink.attempts.slice(from).filter((a) => a.carrier === 'primary' && a.verdict !== 'skipped');

describe('adaptive progress timeout: a fast carrier that starts swallowing INVITEs is cut at what it taught', () => {
  let env: Awaited<ReturnType<typeof service>>;
  const call = (carriers: Record<string, Behaviour>) => simulateCall({ port: env.svc.daemon.port, args: [NUM], carriers, playTimers: 1 });

  before(async () => {
    // breaker knobs out of the way: this test is about the timer, not the ejection
    env = await service('fa-adaptive-', { progressTimeout: 5, adaptiveProgress: { minSamples: 10, minSeconds: 1 } }, { 'health.consecutiveFailures': 20, 'health.minVolume': 100 });
  });
  after(async () => {
    await env.svc.stop();
    await env.ami.close();
  });

  test('10 calls with a post-dial delay of 700-850 ms, then a swallowed INVITE costs 1.3 s (850 ms × 1.5), not 5 s', async () => {
    const healthy = await Promise.all([700, 720, 740, 760, 780, 800, 810, 820, 840, 850].map((alertMs) => call({ 'carrier-primary': { kind: 'answer', alertMs, talkMs: 5 } })));
    for (const r of healthy) {
      assert.equal(r.vars.get('FAILOVER_CARRIER'), 'primary');
      assert.match(r.dials[0] ?? '', /,30\^5,/, 'nothing learned yet: the configured 5 s');
    }
    // where an operator looks: status (CLI, page, /status JSON), plan, /metrics
    const st = env.svc.status();
    assert.deepEqual(st.carriers.find((c) => c.name === 'primary')?.progress, { source: 'learned', seconds: 1.3, group: null, percentile: 99, percentileMs: 850, factor: 1.5, samples: 10, bound: null });
    assert.match(formatStatus(st), /primary .* 1\.3 s p99×1\.5 /);
    assert.match(formatStatus(st), /secondary .* 5 s /, 'a fixed carrier shows its configured value');
    assert.match(renderStatusPage(st), /title="progress timeout 1\.3 s learned \(p99 850 ms × 1\.5 over 10 delays\)">timeout 1\.3 s learned</);
    const answer = await controlRequest(env.socket, { cmd: 'plan', number: NUM });
    assert.ok(answer.ok);
    const plan = answer.data as PlanPreview;
    assert.equal(plan.orders[0]?.dials[0]?.dial, 'SIP/15552345678@carrier-primary,30^1.3,T', 'plan writes the Dial the call will send');
    assert.match(formatPlan(plan), /1\. primary .*\n\s+progress timeout: 1\.3 s learned \(p99 850 ms × 1\.5 over 10 delays\)\n\s+2\. secondary .*Dial\(PJSIP\/15552345678@carrier-b,60\^5,T\)\n\s+3\. tertiary/, 'a fixed carrier: its Dial says it all');
    const metric = await env.svc.metrics.registry.getSingleMetricAsString('failover_agi_carrier_progress_timeout_seconds');
    assert.match(metric, /failover_agi_carrier_progress_timeout_seconds\{carrier="primary"\} 1\.3/);
    assert.match(metric, /failover_agi_carrier_progress_timeout_seconds\{carrier="secondary"\} 5/);

    const from = env.sink.attempts.length;
    const t0 = Date.now();
    const r = await call({ 'carrier-primary': { kind: 'blackhole' }, 'carrier-b': { kind: 'answer', talkMs: 5 } });
    const tookMs = Date.now() - t0;
    assert.equal(r.vars.get('FAILOVER_CARRIER'), 'secondary', 'the next carrier takes the call');
    assert.match(r.dials[0] ?? '', /^SIP\/15552345678@carrier-primary,30\^1\.3,T$/, 'the Dial string carries the learned timeout');
    const [row] = primaryRows(env.sink, from);
    assert.equal(row?.verdict, 'next');
    assert.equal(row?.dialString, r.dials[0]);
    assert.equal(row?.reason, 'CHANUNAVAIL with no SIP response; progress timeout 1.3 s learned (p99 850 ms × 1.5 over 10 delays)', 'explain shows where the timeout came from then');
    assert.ok(row !== undefined && row.ringMs >= 1250 && row.ringMs < 2500, `the row's elapsed time is the learned timeout: ${row?.ringMs} ms`);
    assert.ok(tookMs < 4000, `the whole call took ${tookMs} ms, well under the fixed 5 s`);
  });

  test('more swallowed INVITEs do not pull it down: no delay, nothing learned', async () => {
    for (let i = 0; i < 2; i++) {
      // the suspect rule lets one call at a time dial it; sequential calls each do
      const r = await call({ 'carrier-primary': { kind: 'blackhole' }, 'carrier-b': { kind: 'answer', talkMs: 5 } });
      assert.match(r.dials[0] ?? '', /carrier-primary,30\^1\.3,T$/);
    }
    assert.equal(env.svc.status().carriers.find((c) => c.name === 'primary')?.progress.seconds, 1.3);
  });
});

describe('adaptive progress timeout: a carrier whose normal post-dial delay is 6 s', () => {
  // a tenth of real time: a 6 s delay plays in 0.6 s, an 8 s timer in 0.8 s; RINGTIME_MS still says 6000
  const SCALE = 0.1;
  const SIX: Behaviour = { kind: 'answer', alertMs: 6000, talkMs: 5 };
  const calls = (env: Awaited<ReturnType<typeof service>>, n: number) =>
    Promise.all(Array.from({ length: n }, (_, i) => simulateCall({ port: env.svc.daemon.port, args: [NUM], uniqueid: `6s.${i}`, carriers: { 'carrier-primary': { ...SIX, alertMs: 5800 + i * 20 }, 'carrier-b': { kind: 'answer', talkMs: 5 } }, playTimers: SCALE })));

  test('fixed 5 s: every call is cut before it rings, and the carrier is ejected (the issue\'s failure)', async () => {
    const env = await service('fa-adaptive-fixed-', { progressTimeout: 5 });
    try {
      const rs = [];
      for (let i = 0; i < 3; i++) rs.push(...(await calls(env, 1)));
      for (const r of rs) assert.equal(r.vars.get('FAILOVER_CARRIER'), 'secondary');
      assert.equal(env.svc.health.snapshot().get('primary')?.state, 'down', '3 cut calls in a row open the breaker');
    } finally {
      await env.svc.stop();
      await env.ami.close();
    }
  });

  test('progressTimeout 8 with adaptive mode: it keeps answering, learns 9 s, and is not ejected', async () => {
    const env = await service('fa-adaptive-6s-', { progressTimeout: 8, adaptiveProgress: { minSamples: 10 } });
    try {
      const first = await calls(env, 10);
      for (const r of first) assert.equal(r.vars.get('FAILOVER_CARRIER'), 'primary', 'the configured 8 s lets the 6 s delays through');
      const from = env.sink.attempts.length;
      const later = await calls(env, 5);
      for (const r of later) {
        assert.equal(r.vars.get('FAILOVER_CARRIER'), 'primary');
        assert.match(r.dials[0] ?? '', /carrier-primary,30\^9,T$/, 'p99 6.0 s × 1.5 = 9 s, within maxSeconds 10');
      }
      assert.ok(primaryRows(env.sink, from).every((a) => a.verdict === 'answered' && a.pddMs !== undefined && a.pddMs !== null && a.pddMs >= 5800));
      assert.equal(env.svc.health.snapshot().get('primary')?.state, 'up');
      assert.equal(env.svc.health.inspect().get('primary')?.breaker, 'closed');
    } finally {
      await env.svc.stop();
      await env.ami.close();
    }
  });
});
