import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MemorySink } from '../support/memory-sink.js';
import { startService, type Service } from '../../src/service.js';
import type { AmiSimulator } from '../sim/ami-server.js';
import { simulateCall, type Behaviour } from '../sim/agi-sim.js';
import { memoryAttemptLog } from '../support/attempt-log.js';
import { memoryLog } from '../support/daemon.js';
import { AMI_CARRIERS, reachableAmi, simServiceConfig } from '../support/sim-service.js';
import { until as untilMs } from '../support/until.js';
import { SUSPECT_REASON } from '../../src/health/suspect.js';

const until = (pred: () => boolean, ms = 3000): Promise<void> => untilMs(pred, ms);
const NUM = '15552345678';

// a 1 s progress timeout; the simulator's blackhole returns when Dial's progress timer would (CHANUNAVAIL, no key)
const CARRIERS = AMI_CARRIERS.map((c) => (c.name === 'primary' ? { ...c, progressTimeout: 1 } : c));
const SWALLOW: Record<string, Behaviour> = { 'carrier-primary': { kind: 'blackhole', afterMs: 1000 }, 'carrier-b': { kind: 'answer', talkMs: 5 } };

describe('suspect carrier: after a swallowed INVITE, one call at a time (the daemon against the simulators)', () => {
  let ami: AmiSimulator;
  let svc: Service;
  let sink: MemorySink;
  const call = (carriers: Record<string, Behaviour>) => simulateCall({ port: svc.daemon.port, args: [NUM], carriers });
  const reason = (c: string) => svc.health.snapshot().get(c)?.reason ?? '';
  const dialedPrimary = (dials: readonly string[]) => dials.some((d) => d.includes('carrier-primary'));

  before(async () => {
    ami = await reachableAmi();
    // the breaker stays closed through this test: the suspect rule alone decides who dials the primary
    const config = simServiceConfig(ami.port, 'fa-suspect-', { carriers: CARRIERS, 'health.consecutiveFailures': 20, 'health.minVolume': 100 });
    sink = new MemorySink();
    svc = await startService({ config, configFile: null, log: memoryLog('warn').log, attemptLog: () => memoryAttemptLog(sink) });
    await until(() => svc.health.snapshot().get('primary')?.state === 'up' && svc.health.snapshot().get('secondary')?.state === 'up');
  });
  after(async () => {
    await svc.stop();
    await ami.close();
  });

  test('4 concurrent calls behind a swallowed INVITE: one Dials the primary, three skip it at once', async () => {
    const first = await call(SWALLOW);
    assert.ok(dialedPrimary(first.dials), 'nothing known yet: the first call dials the primary');
    assert.equal(first.vars.get('FAILOVER_CARRIER'), 'secondary');
    assert.match(reason('primary'), /^suspect: /);

    const before = sink.attempts.length;
    const results = await Promise.all([0, 1, 2, 3].map(() => call(SWALLOW)));
    const onPrimary = results.filter((r) => dialedPrimary(r.dials));
    assert.equal(onPrimary.length, 1, 'only one call dials the suspect carrier');
    for (const r of results) assert.equal(r.vars.get('FAILOVER_CARRIER'), 'secondary');
    for (const r of results.filter((x) => !dialedPrimary(x.dials))) assert.equal(r.dials.length, 1, 'a skipped call dials only the secondary: nobody rung twice');
    const skips = sink.attempts.slice(before).filter((a) => a.verdict === 'skipped' && a.carrier === 'primary');
    assert.equal(skips.length, 3);
    for (const s of skips) assert.equal(s.reason, SUSPECT_REASON);
    assert.equal(svc.health.snapshot().get('primary')?.state, 'up', 'a flag, not an ejection');
  });

  test('a 503 from the primary is a SIP response: the suspect flag clears and calls join again', async () => {
    const r = await call({ 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer', talkMs: 5 } });
    assert.ok(dialedPrimary(r.dials));
    assert.doesNotMatch(reason('primary'), /suspect/);
    const results = await Promise.all([0, 1].map(() => call({ 'carrier-primary': { kind: 'answer', talkMs: 300 } })));
    assert.deepEqual(results.map((x) => x.vars.get('FAILOVER_CARRIER')), ['primary', 'primary'], 'no longer one at a time');
  });
});
