import assert from 'node:assert/strict';
import type { Clock } from '../../src/clock.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { formatPlan, formatStatus } from '../../src/ops/cli-format.js';
import { previewPlan } from '../../src/ops/plan-preview.js';
import { renderStatusPage } from '../../src/ops/status-page.js';
import { startService, type Service } from '../../src/service.js';
import { simulateCall, type Behaviour, type SimCallResult } from '../sim/agi-sim.js';
import { memoryAttemptLog } from '../support/attempt-log.js';
import { memoryLog } from '../support/daemon.js';
import { MemorySink } from '../support/memory-sink.js';

const NUM = '15552345678';
/** A bridged call of 200 ms: the simulator sets ANSWEREDTIME_MS to it (answer_callee_bye). */
const TALK: Behaviour = { kind: 'answer', talkMs: 200 };
const ANSWER: Behaviour = { kind: 'answer' };
const REJECT: Behaviour = { kind: 'reject', sip: 503 };

/**
 * 6-second billing makes 200 ms of talk one increment, 0.1 min: one answered call uses up a 0.1 min hourly budget,
 * so the tests never wait for real minutes.
 */
const CARRIERS = [
  { name: 'primary', dial: 'SIP/${number}@carrier-primary', pricePerMinute: 0.5, billingIncrement: 6, budget: { perHour: { minutes: 0.1 } } },
  { name: 'secondary', dial: 'PJSIP/${number}@carrier-b' },
  { name: 'cheap', dial: 'IAX2/carrier-c/${number}', billingIncrement: 6, budget: { perDay: { minutes: 0.1 }, action: 'demote' } },
];
const ROUTES = [
  { name: 'main', script: 'outbound-failover', carriers: ['primary', 'secondary'] },
  { name: 'only', script: 'only', carriers: ['primary'] },
  { name: 'dem', script: 'dem', carriers: ['cheap', 'secondary'] },
];

/**
 * The service's clock runs at real speed but reads 20 minutes into the current local hour, so no run crosses an
 * hour (or a day) boundary and resets the spend it is checking, whenever the suite runs.
 */
function midHourClock(): Clock {
  const d = new Date();
  const intoHour = d.getMinutes() * 60_000 + d.getSeconds() * 1000 + d.getMilliseconds();
  const offset = 20 * 60_000 - intoHour;
  return { now: () => Date.now() + offset };
}
const clock = midHourClock();

describe('cost guard through the FastAGI simulator: the whole service', () => {
  let svc: Service;
  let sink: MemorySink;
  let file: string;
  let baseConfig: Record<string, unknown>;
  const call = (carriers: Record<string, Behaviour>, script = 'outbound-failover'): Promise<SimCallResult> => simulateCall({ port: svc.daemon.port, script, args: [NUM], carriers });
  const since = (n: number) => sink.attempts.slice(n);
  const metric = async (line: RegExp): Promise<string | undefined> => (await svc.metrics.registry.metrics()).split('\n').find((l) => line.test(l));

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fa-cost-'));
    file = join(dir, 'config.json');
    baseConfig = {
      agi: { port: 0 },
      http: { port: 0 },
      ami: { enabled: false },
      // one failure would eject a carrier: a budget skip must not count as one
      health: { consecutiveFailures: 1 },
      control: { socket: join(dir, 'c.sock'), stateFile: join(dir, 's.json') },
      carriers: CARRIERS,
      routes: ROUTES,
    };
    writeFileSync(file, JSON.stringify(baseConfig));
    sink = new MemorySink();
    svc = await startService({ config: loadConfig({ file, env: {} }), configFile: file, clock, log: memoryLog('info').log, attemptLog: () => memoryAttemptLog(sink) });
  });
  after(async () => {
    await svc.stop();
  });

  test('an answered call uses up the 0.1 min hourly budget; the next call skips the carrier with "hourly budget of 0.1 min used"', async () => {
    const first = await call({ 'carrier-primary': TALK, 'carrier-b': ANSWER });
    assert.equal(first.vars.get('FAILOVER_CARRIER'), 'primary');
    assert.equal(await metric(/^failover_agi_carrier_spend\{carrier="primary",window="hour",unit="minutes"\}/), 'failover_agi_carrier_spend{carrier="primary",window="hour",unit="minutes"} 0.1');
    assert.equal(await metric(/^failover_agi_carrier_spend\{carrier="primary",window="day",unit="money"\}/), 'failover_agi_carrier_spend{carrier="primary",window="day",unit="money"} 0.05');
    const n = sink.attempts.length;
    const second = await call({ 'carrier-primary': ANSWER, 'carrier-b': ANSWER });
    assert.deepEqual(second.dials.map((d) => d.split(',')[0]), ['PJSIP/15552345678@carrier-b'], 'no Dial on the carrier over budget');
    assert.equal(second.vars.get('FAILOVER_CARRIER'), 'secondary');
    const rows = since(n).map((a) => [a.carrier, a.verdict, a.reason]);
    assert.deepEqual(rows[0], ['primary', 'skipped', 'hourly budget of 0.1 min used']);
    assert.deepEqual(rows[1]?.slice(0, 2), ['secondary', 'answered']);
    assert.notEqual(svc.health.snapshot().get('primary')?.state, 'down', 'a budget skip is no failure (consecutiveFailures is 1 here)');
    assert.match((await metric(/^failover_agi_skips_total\{carrier="primary",reason="budget"\}/)) ?? '', / 1$/);
  });

  test('metrics, status, the status page and plan show spend against the budget', async () => {
    assert.equal(await metric(/^failover_agi_carrier_budget\{carrier="primary",window="hour",unit="minutes"\}/), 'failover_agi_carrier_budget{carrier="primary",window="hour",unit="minutes"} 0.1');
    assert.equal(await metric(/^failover_agi_carrier_budget\{carrier="secondary"/), undefined, 'no budget, no budget series');
    assert.equal(await metric(/^failover_agi_carrier_budget_alert_share\{carrier="primary"\}/), 'failover_agi_carrier_budget_alert_share{carrier="primary"} 0.8');
    assert.equal(await metric(/^failover_agi_carrier_spend\{carrier="secondary",window="hour",unit="money"\}/), undefined, 'an unpriced carrier has no money series');
    const st = svc.status();
    const p = st.carriers.find((c) => c.name === 'primary');
    assert.deepEqual(p?.cost?.over, { reason: 'hourly budget of 0.1 min used', action: 'skip' });
    assert.match(formatStatus(st), /primary .*hour 0\.1\/0\.1 min, 0\.05 money · day 0\.1 min, 0\.05 money .*hourly budget of 0\.1 min used: skipped/);
    assert.match(renderStatusPage(st), /<span class="spend hot" title="hourly budget of 0.1 min used: skipped">hour 0.1\/0.1 min, 0.05 money/);
    const plan = previewPlan(svc.daemon.routing(), svc.health.snapshot(), { number: NUM }, svc.daemon.nextRotation, () => null, (c) => svc.daemon.cost.over(c, clock.now()));
    assert.deepEqual(plan.orders[0]?.dials.map((d) => d.carriers[0]?.carrier), ['secondary']);
    assert.deepEqual(plan.skipped.map((s) => [s.carrier, s.reason]), [['primary', 'hourly budget of 0.1 min used']]);
    assert.match(formatPlan(plan), /primary\s+unknown\s+skipped: hourly budget of 0\.1 min used/);
  });

  test('every carrier over budget: FAILOVER_STATUS=CAPACITY, congestion 34, no Dial', async () => {
    const n = sink.attempts.length;
    const r = await call({ 'carrier-primary': ANSWER }, 'only');
    assert.deepEqual(r.dials, []);
    assert.deepEqual([r.vars.get('FAILOVER_STATUS'), r.vars.get('DIALSTATUS'), r.vars.get('FAILOVER_CAUSE')], ['CAPACITY', 'CONGESTION', '34']);
    assert.deepEqual(
      since(n).map((a) => [a.carrier, a.verdict, a.reason]),
      [
        ['primary', 'skipped', 'hourly budget of 0.1 min used'],
        ['', 'exhausted', 'no carrier could be tried: every carrier left has used up its budget (FAILOVER_STATUS=CAPACITY)'],
      ],
    );
    const plan = previewPlan(svc.daemon.routing(), svc.health.snapshot(), { number: NUM, route: 'only' }, svc.daemon.nextRotation, () => null, (c) => svc.daemon.cost.over(c, clock.now()));
    assert.equal(plan.atCapacity, true);
  });

  test('demote: the carrier over budget is dialed after the others, and still when they fail', async () => {
    const first = await call({ 'carrier-c': TALK, 'carrier-b': ANSWER }, 'dem');
    assert.equal(first.vars.get('FAILOVER_CARRIER'), 'cheap');
    const second = await call({ 'carrier-c': ANSWER, 'carrier-b': ANSWER }, 'dem');
    assert.deepEqual(second.dials.map((d) => d.split(',')[0]), ['PJSIP/15552345678@carrier-b'], 'secondary first now');
    const n = sink.attempts.length;
    const third = await call({ 'carrier-c': ANSWER, 'carrier-b': REJECT }, 'dem');
    assert.deepEqual(third.dials.map((d) => d.split(',')[0]), ['PJSIP/15552345678@carrier-b', 'IAX2/carrier-c/15552345678'], 'the demoted carrier is still there when nothing else is left');
    assert.equal(third.vars.get('FAILOVER_CARRIER'), 'cheap');
    assert.ok(!since(n).some((r) => r.verdict === 'skipped'), 'demoted, never skipped');
    const plan = previewPlan(svc.daemon.routing(), svc.health.snapshot(), { number: NUM, route: 'dem' }, svc.daemon.nextRotation, () => null, (c) => svc.daemon.cost.over(c, clock.now()));
    assert.deepEqual(plan.demoted, [{ carrier: 'cheap', reason: 'daily budget of 0.1 min used' }]);
    assert.match(formatPlan(plan), /over budget, dialed after the others: cheap \(daily budget of 0\.1 min used\)/);
    assert.match(formatStatus(svc.status()), /cheap .*daily budget of 0\.1 min used: demoted/);
  });

  test('SIGHUP reload: the spend survives for carriers that keep their name, under the new budget', async () => {
    writeFileSync(file, JSON.stringify({ ...baseConfig, carriers: CARRIERS.map((c) => (c.name === 'primary' ? { ...c, budget: { perHour: { minutes: 0.2 } } } : c)) }));
    assert.equal((await svc.reload()).ok, true);
    const p = svc.status().carriers.find((c) => c.name === 'primary');
    assert.equal(p?.cost?.hour.minutes, 0.1, 'spend kept');
    assert.equal(p?.cost?.over, null, 'the raised budget has room');
    const r = await call({ 'carrier-primary': TALK, 'carrier-b': ANSWER });
    assert.equal(r.vars.get('FAILOVER_CARRIER'), 'primary');
    assert.equal(svc.daemon.cost.over('primary', clock.now())?.reason, 'hourly budget of 0.2 min used');
  });
});
