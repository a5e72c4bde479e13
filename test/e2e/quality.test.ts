import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load.js';
import { formatPlan, formatStatus } from '../../src/ops/cli-format.js';
import { previewPlan } from '../../src/ops/plan-preview.js';
import { renderStatusPage } from '../../src/ops/status-page.js';
import { startService, type Service } from '../../src/service.js';
import { createRecordStore } from '../../src/store/record-store.js';
import { migrate } from '../../src/store/migrate.js';
import { simulateCall, type Behaviour, type SimCallResult } from '../sim/agi-sim.js';
import { memoryAttemptLog } from '../support/attempt-log.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { memoryLog } from '../support/daemon.js';
import { MemorySink } from '../support/memory-sink.js';

const NUM = '15552345678';
const ANSWER: Behaviour = { kind: 'answer' };
const REJECT: Behaviour = { kind: 'reject', sip: 503 };
const MIN = 60_000;

const CARRIERS = [
  { name: 'primary', dial: 'SIP/${number}@carrier-primary' },
  { name: 'secondary', dial: 'PJSIP/${number}@carrier-b' },
];
const ROUTES = [{ name: 'main', script: 'outbound-failover', carriers: ['primary', 'secondary'] }];

/**
 * Real time moved by hand: the quality window keeps one-minute buckets, so the test jumps whole minutes instead of
 * waiting them. It starts 5 s into a minute, so the few seconds a phase takes never cross a bucket boundary.
 */
function jumpingClock(): Clock & { jump(ms: number): void } {
  const start = Math.ceil(Date.now() / MIN) * MIN + 5000;
  let offset = start - Date.now();
  return { now: () => Date.now() + offset, jump: (ms) => void (offset += ms) };
}

const dialed = (r: SimCallResult): string[] => r.dials.map((d) => (d.includes('carrier-primary') ? 'primary' : 'secondary'));

describe('quality ordering through the FastAGI simulator: the whole service, events in MariaDB', () => {
  let svc: Service;
  let t: TestDatabase;
  const sink = new MemorySink();
  const clock = jumpingClock();
  const call = (carriers: Record<string, Behaviour>): Promise<SimCallResult> => simulateCall({ port: svc.daemon.port, args: [NUM], carriers });
  const qualityEvents = () => sink.events.filter((e) => e.source === 'quality');

  before(async () => {
    t = await createTestDatabase();
    await migrate(t.db, memoryLog().log);
    const dir = mkdtempSync(join(tmpdir(), 'fa-quality-'));
    const config = loadConfig({
      file: null,
      env: {},
      overrides: {
        'agi.port': 0,
        'http.port': 0,
        'ami.enabled': false,
        db: t.db,
        'store.spoolDir': dir,
        'store.flushMs': 20,
        'control.socket': join(dir, 'c.sock'),
        'control.stateFile': join(dir, 's.json'),
        // the breaker stays out of it: a carrier that fails every call is demoted here, never ejected
        'health.consecutiveFailures': 0,
        'health.minVolume': 100000,
        // small windows and volumes so the test runs in seconds: 2 min recent, the 2 min before it as baseline
        'health.quality.recentWindow': 2 * MIN,
        'health.quality.baselineWindow': 2 * MIN,
        'health.quality.minDials': 4,
        'health.quality.minBaselineDials': 4,
        'health.quality.minDemoted': MIN,
        carriers: CARRIERS,
        routes: ROUTES,
      },
    });
    const store = (c: typeof config) => createRecordStore({ db: c.settings.db, store: c.settings.store, serverId: c.settings.serverId, log: memoryLog().log, clock });
    svc = await startService({ config, configFile: null, clock, log: memoryLog('info').log, attemptLog: (c) => memoryAttemptLog(sink, store(c)) });
  });
  let stopped = false;
  after(async () => {
    if (!stopped) await svc.stop();
    await t.drop();
  });

  test('a healthy baseline: 6 calls answered by primary, primary stays first', async () => {
    for (let i = 0; i < 6; i++) {
      const r = await call({ 'carrier-primary': ANSWER, 'carrier-b': ANSWER });
      assert.deepEqual(dialed(r), ['primary']);
      clock.jump(1000);
    }
    assert.equal(svc.daemon.qualityLedger.judge('primary', null, clock.now()).state, 'ok');
  });

  test('its answer rate drops to 0: demoted after minDials seized Dials, the next calls dial secondary first', async () => {
    // the baseline minute slides into the baseline window
    clock.jump(2 * MIN);
    for (let i = 0; i < 4; i++) {
      const r = await call({ 'carrier-primary': REJECT, 'carrier-b': ANSWER });
      assert.deepEqual(dialed(r), ['primary', 'secondary'], `call ${i + 1}: not judged before 4 seized Dials`);
      clock.jump(1000);
    }
    assert.equal(qualityEvents().length, 0);
    const n = sink.attempts.length;
    const r = await call({ 'carrier-primary': REJECT, 'carrier-b': ANSWER });
    assert.deepEqual(dialed(r), ['secondary'], 'primary demoted: secondary answers first');
    assert.equal(r.vars.get('FAILOVER_CARRIER'), 'secondary');
    const ev = qualityEvents();
    assert.equal(ev.length, 1);
    assert.deepEqual([ev[0]?.carrier, ev[0]?.from, ev[0]?.to], ['primary', 'ok', 'demoted']);
    assert.equal(ev[0]?.reason, 'demoted: ASR 0% of 4 vs baseline 100% of 6 (limit 50%)');
    const rows = sink.attempts.slice(n);
    assert.deepEqual(rows.map((a) => [a.carrier, a.verdict, a.orderReason ?? null]), [['secondary', 'answered', 'moved ahead of demoted primary']]);
    assert.equal(svc.health.snapshot().get('primary')?.state === 'down', false, 'demoted, not ejected');
  });

  test('status, the status page, plan and /metrics show the demotion and the figures behind it', async () => {
    const st = svc.status();
    const p = st.carriers.find((c) => c.name === 'primary');
    assert.equal(p?.quality?.state, 'demoted');
    assert.equal(p?.quality?.recent.seized, 4);
    assert.equal(p?.quality?.baseline.asr, 1);
    const text = formatStatus(st);
    assert.match(text, /^primary\s+unknown\s.*DEMOTED\s+AMI off.*demoted: ASR 0% of 4 vs baseline 100% of 6 \(limit 50%\) \(dialed after the others\)$/m);
    assert.match(text, /^secondary\s+\S+\s.*\sok\s+AMI off/m);
    assert.match(text, /^ {2}primary: DEMOTED \d+s ago: ASR 0% of 4 vs baseline 100% of 6 \(limit 50%\)$/m);
    assert.match(text, /^ {2}secondary: in order: ASR 100% of \d+, /m);
    const page = renderStatusPage(st);
    assert.match(page, /<b>primary<\/b> demoted for quality: dialed after the others/);
    assert.match(page, /<span class="badge st-demoted">DEMOTED<\/span>/);
    const plan = previewPlan(svc.daemon.routing(), (g) => svc.health.snapshotFor(g), { number: NUM }, svc.daemon.nextRotation, () => null, () => null, (c, g) => svc.daemon.qualityLedger.demotion(c, g, clock.now()));
    assert.deepEqual(plan.orders[0]?.dials.map((d) => [d.carriers[0]?.carrier, d.note]), [
      ['secondary', 'moved ahead of demoted primary'],
      ['primary', 'demoted: ASR 0% of 4 vs baseline 100% of 6 (limit 50%)'],
    ]);
    const shown = formatPlan(plan);
    assert.match(shown, /demoted for quality, dialed after the others: primary \(ASR 0% of 4/);
    assert.match(shown, /1\. secondary .*\n\s+moved ahead of demoted primary\n\s+2\. primary .*\n\s+demoted: ASR 0% of 4/);
    const metrics = await svc.metrics.registry.metrics();
    assert.match(metrics, /^failover_agi_carrier_quality_demoted\{carrier="primary",prefix_group=""\} 1$/m);
    assert.match(metrics, /^failover_agi_carrier_quality_demoted\{carrier="secondary",prefix_group=""\} 0$/m);
    assert.match(metrics, /^failover_agi_carrier_transitions_total\{carrier="primary",to="demoted",source="quality"\} 1$/m);
  });

  test('the demoted carrier is still dialed when the other fails, and first when the other is down', async () => {
    const n = sink.attempts.length;
    const r = await call({ 'carrier-primary': ANSWER, 'carrier-b': REJECT });
    assert.deepEqual(dialed(r), ['secondary', 'primary']);
    assert.equal(r.vars.get('FAILOVER_CARRIER'), 'primary');
    const rows = sink.attempts.slice(n);
    assert.deepEqual(rows.map((a) => [a.carrier, a.verdict]), [['secondary', 'next'], ['primary', 'answered']]);
    assert.match(rows[1]?.orderReason ?? '', /^demoted: ASR 0% of 4 vs baseline 100% of 6/);
    clock.jump(1000);
    svc.health.setAdmin('secondary', { mode: 'force-down', until: null, reason: 'test' });
    const down = await call({ 'carrier-primary': ANSWER, 'carrier-b': ANSWER });
    assert.deepEqual(dialed(down), ['primary'], 'the only usable carrier, demoted or not');
  });

  test('answering again: no return before minDemoted, then back in its place, with no flapping in between', async () => {
    // secondary is forced down: every call goes to primary, which answers; 4 bad + 15 good = 79% ASR in the window, above the 75% return limit
    for (let i = 0; i < 13; i++) {
      clock.jump(1000);
      const r = await call({ 'carrier-primary': ANSWER, 'carrier-b': ANSWER });
      assert.deepEqual(dialed(r), ['primary']);
    }
    assert.equal(svc.daemon.qualityLedger.judge('primary', null, clock.now()).state, 'demoted', 'minDemoted has not passed');
    assert.equal(qualityEvents().length, 1, 'no flapping: still the one demotion');
    svc.health.setAdmin('secondary', null);
    // a minute on: the window still holds the 4 failures and the answers since, and minDemoted has passed
    clock.jump(MIN);
    const r = await call({ 'carrier-primary': ANSWER, 'carrier-b': ANSWER });
    assert.deepEqual(dialed(r), ['primary'], 'primary first again');
    const ev = qualityEvents();
    assert.equal(ev.length, 2);
    assert.deepEqual([ev[1]?.from, ev[1]?.to], ['demoted', 'ok']);
    assert.match(ev[1]?.reason ?? '', /^returned: figures recovered: ASR 79% of 19, .*\(baseline ASR 100% of 6/);
  });

  test('each demotion and return is a carrier_event row with the figures', async () => {
    stopped = true;
    await svc.stop();
    const rows = await t.query<{ carrier: string; from_state: string; to_state: string; source: string; reason: string }>(
      "SELECT carrier, from_state, to_state, source, reason FROM carrier_event WHERE source = 'quality' ORDER BY id",
    );
    assert.deepEqual(rows.map((r) => [r.carrier, r.from_state, r.to_state]), [['primary', 'ok', 'demoted'], ['primary', 'demoted', 'ok']]);
    assert.equal(rows[0]?.reason, 'demoted: ASR 0% of 4 vs baseline 100% of 6 (limit 50%)');
    const moved = await t.query<{ n: number }>("SELECT COUNT(*) AS n FROM carrier_attempt WHERE order_reason LIKE 'demoted: ASR%' AND carrier = 'primary'");
    assert.ok(Number(moved[0]?.n) >= 3, 'the demoted carrier\'s rows say why it was dialed late');
  });
});
