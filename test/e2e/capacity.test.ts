import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import type { AttemptSignal, HealthSnapshot, HealthView } from '../../src/health/types.js';
import { formatPlan, formatStatus } from '../../src/ops/cli-format.js';
import { previewPlan } from '../../src/ops/plan-preview.js';
import { renderStatusPage } from '../../src/ops/status-page.js';
import { startService, type Service } from '../../src/service.js';
import { simulateCall, type Behaviour, type SimCallResult } from '../sim/agi-sim.js';
import { memoryAttemptLog } from '../support/attempt-log.js';
import { memoryLog, startTestDaemon } from '../support/daemon.js';
import { MemorySink } from '../support/memory-sink.js';
import { until } from '../support/until.js';

const NUM = '15552345678';
/** A bridged call: 180, 200 OK, then Dial holds until the callee hangs up (answer_callee_bye). */
const held = (talkMs: number): Behaviour => ({ kind: 'answer', talkMs });
const ANSWER: Behaviour = { kind: 'answer' };

const CARRIERS = [
  { name: 'primary', dial: 'SIP/${number}@carrier-primary', maxChannels: 2 },
  { name: 'secondary', dial: 'PJSIP/${number}@carrier-b', maxChannels: 1 },
  { name: 'tertiary', dial: 'IAX2/carrier-c/${number}', maxCps: 0.1 },
];
const ROUTES = [
  { name: 'main', script: 'outbound-failover', carriers: ['primary', 'secondary', 'tertiary'] },
  { name: 'full', script: 'full', carriers: ['primary', 'secondary'] },
  { name: 'cps', script: 'cps', carriers: ['tertiary', 'secondary'] },
  { name: 'both', script: 'both', strategy: 'simultaneous', carriers: ['primary', 'secondary'] },
];

describe('capacity caps through the FastAGI simulator: the whole service', () => {
  let svc: Service;
  let sink: MemorySink;
  let file: string;
  let baseConfig: Record<string, unknown>;
  const call = (carriers: Record<string, Behaviour>, script = 'outbound-failover'): Promise<SimCallResult> => simulateCall({ port: svc.daemon.port, script, args: [NUM], carriers });
  const inUse = (c: string): number => svc.status().carriers.find((x) => x.name === c)?.capacity.channelsInUse ?? -1;
  const since = (n: number) => sink.attempts.slice(n);
  const metric = async (line: RegExp): Promise<string | undefined> => (await svc.metrics.registry.metrics()).split('\n').find((l) => line.test(l));

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fa-caps-'));
    file = join(dir, 'config.json');
    baseConfig = {
      agi: { port: 0 },
      http: { port: 0 },
      ami: { enabled: false },
      // one failure would eject a carrier: an at-cap skip must not count as one
      health: { consecutiveFailures: 1 },
      control: { socket: join(dir, 'c.sock'), stateFile: join(dir, 's.json') },
      carriers: CARRIERS,
      routes: ROUTES,
    };
    writeFileSync(file, JSON.stringify(baseConfig));
    const m = memoryLog('info');
    sink = new MemorySink();
    svc = await startService({ config: loadConfig({ file, env: {} }), configFile: file, log: m.log, attemptLog: () => memoryAttemptLog(sink) });
  });
  after(async () => {
    await svc.stop();
  });

  test('maxChannels 2, three calls held at once: the third goes to the secondary with a skipped row "at channel cap 2/2"', async () => {
    const first = [call({ 'carrier-primary': held(1500) }), call({ 'carrier-primary': held(1500) })];
    await until(() => inUse('primary') === 2, 3000);
    const n = sink.attempts.length;
    const third = await call({ 'carrier-primary': ANSWER, 'carrier-b': ANSWER });
    assert.deepEqual(third.dials.map((d) => d.split(',')[0]), ['PJSIP/15552345678@carrier-b'], 'no Dial on the carrier at its cap');
    assert.equal(third.vars.get('FAILOVER_CARRIER'), 'secondary');
    const rows = since(n).map((a) => [a.carrier, a.verdict, a.reason]);
    assert.deepEqual(rows[0], ['primary', 'skipped', 'at channel cap 2/2']);
    assert.deepEqual(rows[1]?.slice(0, 2), ['secondary', 'answered']);
    const held2 = await Promise.all(first);
    for (const r of held2) assert.equal(r.vars.get('FAILOVER_CARRIER'), 'primary');
    assert.equal(inUse('primary'), 0, 'each channel is released when its Dial returns');
    assert.notEqual(svc.health.snapshot().get('primary')?.state, 'down', 'an at-cap skip is no failure (consecutiveFailures is 1 here)');
    assert.match((await metric(/^failover_agi_skips_total\{carrier="primary",reason="channel_cap"\}/)) ?? '', / 1$/);
  });

  test('while at the cap, metrics, status, the status page and plan show in-use/cap', async () => {
    const calls = [call({ 'carrier-primary': held(1500) }), call({ 'carrier-primary': held(1500) })];
    await until(() => inUse('primary') === 2, 3000);
    assert.equal(await metric(/^failover_agi_carrier_channels_in_use\{carrier="primary"\}/), 'failover_agi_carrier_channels_in_use{carrier="primary"} 2');
    assert.equal(await metric(/^failover_agi_carrier_channel_cap\{carrier="primary"\}/), 'failover_agi_carrier_channel_cap{carrier="primary"} 2');
    assert.equal(await metric(/^failover_agi_carrier_cps_cap\{carrier="tertiary"\}/), 'failover_agi_carrier_cps_cap{carrier="tertiary"} 0.1');
    assert.equal(await metric(/^failover_agi_carrier_channel_cap\{carrier="tertiary"\}/), undefined, 'no channel cap, no cap series');
    assert.match((await metric(/^failover_agi_carrier_dial_legs_total\{carrier="primary"\}/)) ?? '', / [4-9]$/);
    const st = svc.status();
    const p = st.carriers.find((c) => c.name === 'primary');
    assert.deepEqual([p?.capacity.channelsInUse, p?.capacity.channelCap, p?.capacity.atCap], [2, 2, 'at channel cap 2/2']);
    const table = formatStatus(st);
    assert.match(table, /IN USE/);
    assert.match(table, /primary .*2\/2 ch · \d+ cps .*at channel cap 2\/2/);
    assert.match(table, /tertiary .*0 ch · 0\/0\.1 cps/);
    const page = renderStatusPage(st);
    assert.match(page, /data-label="Channels · cps" class="num hot" title="at channel cap 2\/2">2\/2 ch · \d+ cps</);
    const plan = previewPlan(svc.daemon.routing(), svc.health.snapshot(), { number: NUM }, svc.daemon.nextRotation, (c) => svc.daemon.capacity.blocked(c, Date.now()));
    assert.deepEqual(plan.orders[0]?.dials.map((d) => d.carriers[0]?.carrier), ['secondary', 'tertiary']);
    assert.deepEqual(plan.skipped.map((s) => [s.carrier, s.reason]), [['primary', 'at channel cap 2/2']]);
    assert.match(formatPlan(plan), /-  primary\s+unknown\s+skipped: at channel cap 2\/2/);
    await Promise.all(calls);
  });

  test('maxCps: a second call within the bucket\'s refill goes on to the next carrier, "at 0.1 cps"', async () => {
    const n = sink.attempts.length;
    const a = await call({ 'carrier-c': ANSWER, 'carrier-b': ANSWER }, 'cps');
    const b = await call({ 'carrier-c': ANSWER, 'carrier-b': ANSWER }, 'cps');
    assert.equal(a.vars.get('FAILOVER_CARRIER'), 'tertiary');
    assert.equal(b.vars.get('FAILOVER_CARRIER'), 'secondary');
    assert.deepEqual(b.dials.map((d) => d.split(',')[0]), ['PJSIP/15552345678@carrier-b']);
    const skip = since(n).find((r) => r.verdict === 'skipped');
    assert.deepEqual([skip?.carrier, skip?.reason], ['tertiary', 'at 0.1 cps']);
    assert.match((await metric(/^failover_agi_skips_total\{carrier="tertiary",reason="cps_cap"\}/)) ?? '', / 1$/);
  });

  test('every carrier at its cap: FAILOVER_STATUS=CAPACITY, congestion 34, no Dial, nothing armed', async () => {
    const holding = [call({ 'carrier-primary': held(1500) }, 'full'), call({ 'carrier-primary': held(1500) }, 'full')];
    await until(() => inUse('primary') === 2, 3000);
    const third = call({ 'carrier-b': held(1500) }, 'full');
    await until(() => inUse('secondary') === 1, 3000);
    const plan = previewPlan(svc.daemon.routing(), svc.health.snapshot(), { number: NUM, route: 'full' }, svc.daemon.nextRotation, (c) => svc.daemon.capacity.blocked(c, Date.now()));
    assert.equal(plan.atCapacity, true);
    assert.match(formatPlan(plan), /FAILOVER_STATUS=CAPACITY/);
    const n = sink.attempts.length;
    const r = await call({ 'carrier-primary': ANSWER, 'carrier-b': ANSWER }, 'full');
    assert.deepEqual(r.dials, [], 'no Dial');
    assert.deepEqual([r.vars.get('FAILOVER_STATUS'), r.vars.get('DIALSTATUS'), r.vars.get('FAILOVER_CAUSE'), r.vars.get('FAILOVER_ATTEMPTS')], ['CAPACITY', 'CONGESTION', '34', '0']);
    assert.ok(!r.sets.some(([k, v]) => k === 'FAILOVER_STATUS' && v === 'DIALING'), 'never armed: no Dial could have rung anyone');
    assert.deepEqual(
      since(n).map((a) => [a.carrier, a.verdict, a.reason]),
      [
        ['primary', 'skipped', 'at channel cap 2/2'],
        ['secondary', 'skipped', 'at channel cap 1/1'],
        ['', 'exhausted', 'no carrier could be tried: every carrier left is at its capacity cap (FAILOVER_STATUS=CAPACITY)'],
      ],
    );
    assert.match((await metric(/^failover_agi_calls_total\{route="full",status="CAPACITY"\}/)) ?? '', / 1$/);
    await Promise.all([...holding, third]);
    assert.deepEqual([inUse('primary'), inUse('secondary')], [0, 0]);
  });

  test('a simultaneous Dial holds one channel on each of its carriers', async () => {
    const both = call({ 'carrier-primary': held(1200), 'carrier-b': { kind: 'ring-no-answer' } }, 'both');
    await until(() => inUse('primary') === 1 && inUse('secondary') === 1, 3000);
    // secondary's one channel is taken by the losing leg until the Dial returns: the next call skips it
    const n = sink.attempts.length;
    const r = await call({ 'carrier-primary': ANSWER, 'carrier-c': ANSWER });
    assert.equal(r.vars.get('FAILOVER_CARRIER'), 'primary');
    const r2c = await both;
    assert.equal(r2c.vars.get('FAILOVER_CARRIER'), 'primary');
    assert.equal(since(n).filter((a) => a.verdict === 'skipped').length, 0, 'primary had 1 of 2 in use: not at cap');
    assert.deepEqual([inUse('primary'), inUse('secondary')], [0, 0]);
  });

  test('SIGHUP reload: the counts survive for carriers that keep their name, under the new caps', async () => {
    const holding = [call({ 'carrier-primary': held(2000) }), call({ 'carrier-primary': held(2000) })];
    await until(() => inUse('primary') === 2, 3000);
    writeFileSync(file, JSON.stringify({ ...baseConfig, carriers: CARRIERS.map((c) => (c.name === 'primary' ? { ...c, maxChannels: 3 } : c)) }));
    assert.equal((await svc.reload()).ok, true);
    const p = svc.status().carriers.find((c) => c.name === 'primary')?.capacity;
    assert.deepEqual([p?.channelsInUse, p?.channelCap], [2, 3], 'the two calls in progress still count');
    const third = call({ 'carrier-primary': held(2000) });
    await until(() => inUse('primary') === 3, 3000);
    const n = sink.attempts.length;
    const fourth = await call({ 'carrier-primary': ANSWER, 'carrier-b': ANSWER });
    assert.equal(fourth.vars.get('FAILOVER_CARRIER'), 'secondary');
    assert.equal(since(n)[0]?.reason, 'at channel cap 3/3');
    await Promise.all([...holding, third]);
    assert.equal(inUse('primary'), 0);
  });
});

/** Health that says what the calls told it: which carriers were claimed for a trial, and every signal. */
function watchingHealth(state: HealthSnapshot): HealthView & { claims: string[]; signals: AttemptSignal[] } {
  const claims: string[] = [];
  const signals: AttemptSignal[] = [];
  return {
    claims,
    signals,
    snapshot: () => state,
    snapshotFor: () => state,
    claimProbe: (c) => (claims.push(c), true),
    claimSuspect: () => 'free' as const,
    recordAttempt: (s) => void signals.push(s),
  };
}

describe('an at-cap carrier is neither a failure nor a success for health', () => {
  test('a half-open carrier at its cap: no trial claimed, no signal; the call goes to the next carrier', async () => {
    const health = watchingHealth(
      new Map([
        ['primary', { state: 'probing', since: 0, reason: 'ejection over' }],
        ['secondary', { state: 'up', since: 0, reason: '' }],
      ]),
    );
    const d = await startTestDaemon({
      carriers: [
        { name: 'primary', dial: 'SIP/${number}@carrier-primary', maxChannels: 1 },
        { name: 'secondary', dial: 'PJSIP/${number}@carrier-b' },
      ],
      routes: [{ name: 'outbound-failover', carriers: ['primary', 'secondary'] }],
      health,
    });
    try {
      const trial = simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-primary': held(800) } });
      await until(() => d.daemon.capacity.snapshot(Date.now()).get('primary')?.channelsInUse === 1, 3000);
      const r = await simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-primary': ANSWER, 'carrier-b': ANSWER } });
      assert.equal(r.vars.get('FAILOVER_CARRIER'), 'secondary');
      assert.deepEqual(health.claims, ['primary'], 'only the trial call claimed the trial');
      assert.deepEqual(health.signals.map((s) => s.carrier), ['secondary'], 'the at-cap skip sent the breaker nothing');
      await trial;
      assert.deepEqual(health.signals.map((s) => [s.carrier, s.carrierSuccess]), [['secondary', true], ['primary', true]]);
    } finally {
      await d.stop();
    }
  });

  test('a failed Dial frees its channel at once: the call dialing its next carrier no longer holds the first', async () => {
    const health = watchingHealth(new Map());
    const d = await startTestDaemon({
      carriers: [
        { name: 'primary', dial: 'SIP/${number}@carrier-primary', maxChannels: 1 },
        { name: 'secondary', dial: 'PJSIP/${number}@carrier-b', maxChannels: 1 },
      ],
      routes: [{ name: 'outbound-failover', carriers: ['primary', 'secondary'] }],
      health,
    });
    const use = (c: string) => d.daemon.capacity.snapshot(Date.now()).get(c)?.channelsInUse;
    try {
      const r = simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': held(800) } });
      await until(() => use('secondary') === 1, 3000);
      assert.equal(use('primary'), 0);
      const other = await simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-primary': ANSWER } });
      assert.equal(other.vars.get('FAILOVER_CARRIER'), 'primary', 'the freed channel is usable by another call');
      assert.equal((await r).vars.get('FAILOVER_CARRIER'), 'secondary');
      assert.deepEqual([use('primary'), use('secondary')], [0, 0]);
    } finally {
      await d.stop();
    }
  });

  test('a Dial never placed (caller gone, an AGI error before it) gives its channel back', async () => {
    const d = await startTestDaemon({ carriers: [{ name: 'primary', dial: 'SIP/${number}@carrier-primary', maxChannels: 1 }], routes: [{ name: 'outbound-failover', carriers: ['primary'] }] });
    const use = () => d.daemon.capacity.snapshot(Date.now()).get('primary')?.channelsInUse;
    try {
      const gone = await simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-primary': ANSWER }, hangupAfterCommand: 0 });
      assert.deepEqual(gone.dials, []);
      const broken = await simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-primary': ANSWER }, rawReplies: { 1: '520 Invalid command syntax.\n' } });
      assert.deepEqual(broken.dials, []);
      await until(() => d.calls.length === 2, 3000);
      assert.deepEqual(d.calls.map((c) => c.status), ['CANCEL', 'ERROR']);
      assert.equal(use(), 0);
      const r = await simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-primary': ANSWER } });
      assert.equal(r.vars.get('FAILOVER_CARRIER'), 'primary', 'the cap of 1 is free for the next call');
    } finally {
      await d.stop();
    }
  });
});
