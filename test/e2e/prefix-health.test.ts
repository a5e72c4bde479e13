import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { formatPlan, formatStatus } from '../../src/ops/cli-format.js';
import { controlRequest } from '../../src/ops/control-client.js';
import type { PlanPreview } from '../../src/ops/plan-preview.js';
import { renderStatusPage } from '../../src/ops/status-page.js';
import { startService, type Service } from '../../src/service.js';
import { AmiSimulator } from '../sim/ami-server.js';
import { simulateCall, type Behaviour } from '../sim/agi-sim.js';
import { memoryAttemptLog } from '../support/attempt-log.js';
import { CARRIERS, memoryLog, ROUTES } from '../support/daemon.js';
import { freePort } from '../support/free-port.js';
import { MemorySink } from '../support/memory-sink.js';
import { simServiceConfig } from '../support/sim-service.js';
import { until } from '../support/until.js';

const UK_MOBILE = '447700900123';
const US = '15552345678';

/**
 * Issue 15 part 3 end to end: the primary's upstream drops UK mobiles only (503 for numbers starting 447, answers
 * everything else). The simulator plays the carrier per call: the test picks the primary's behaviour by the number
 * it dials, as the carrier's upstream would.
 */
describe('health per destination prefix: a carrier that fails for one group only', () => {
  let ami: AmiSimulator;
  let svc: Service;
  let sink: MemorySink;
  let socket = '';
  const primaryFor = (n: string): Behaviour => (n.startsWith('447') ? { kind: 'reject', sip: 503 } : { kind: 'answer' });
  const call = (n: string) => simulateCall({ port: svc.daemon.port, args: [n], carriers: { 'carrier-primary': primaryFor(n), 'carrier-b': { kind: 'answer' } } });
  const state = (c: string) => svc.health.snapshot().get(c)?.state;

  before(async () => {
    ami = await AmiSimulator.start();
    ami.setSipPeer('carrier-primary', 'Reachable');
    ami.setEndpoint('carrier-b', ['carrier-b'], [{ aor: 'carrier-b', uri: 'sip:carrier-b@127.0.0.1:5072', status: 'Reachable', rttUsec: 1500 }]);
    ami.setIaxPeer('carrier-c', 'Reachable');
    const config = simServiceConfig(ami.port, 'fa-prefix-', {
      'http.port': await freePort(),
      'health.consecutiveFailures': 3,
      'health.baseEjection': 600_000,
      'health.maxEjection': 600_000,
      prefixGroups: [{ name: 'uk-mobile', prefixes: ['447'] }, { name: 'us', prefixes: ['1'] }],
    });
    socket = config.settings.control.socket;
    sink = new MemorySink();
    svc = await startService({ config, configFile: null, log: memoryLog('info').log, attemptLog: () => memoryAttemptLog(sink) });
    await until(() => state('primary') === 'up' && state('secondary') === 'up', 3000);
  });
  after(async () => {
    await svc.stop();
    await ami.close();
  });

  test('up to the threshold every UK mobile call still tries the primary, then fails over', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await call(UK_MOBILE);
      assert.ok(r.dials[0]?.includes('carrier-primary'), `call ${i + 1} dials the primary first`);
      assert.equal(r.vars.get('FAILOVER_CARRIER'), 'secondary');
    }
    assert.equal(state('primary'), 'up', 'failures to one group alone do not eject the carrier');
  });

  test('after the threshold UK mobile calls skip the primary, with a skipped row naming the group', async () => {
    const before = sink.attempts.length;
    const r = await call(UK_MOBILE);
    assert.ok(r.dials.every((d) => !d.includes('carrier-primary')), 'no Dial to the primary for uk-mobile');
    assert.equal(r.vars.get('FAILOVER_CARRIER'), 'secondary');
    const rows = sink.attempts.slice(before);
    const skip = rows.find((a) => a.verdict === 'skipped');
    assert.equal(skip?.carrier, 'primary');
    assert.equal(skip?.healthState, 'down');
    assert.match(skip?.reason ?? '', /ejected for prefix group uk-mobile/);
    assert.ok(rows.length >= 2 && rows.every((a) => a.prefixGroup === 'uk-mobile'), 'every row of the call records the group');
  });

  test('calls to other numbers still Dial the primary', async () => {
    const before = sink.attempts.length;
    const r = await call(US);
    assert.ok(r.dials[0]?.includes('carrier-primary'));
    assert.equal(r.vars.get('FAILOVER_CARRIER'), 'primary');
    const rows = sink.attempts.slice(before);
    assert.deepEqual(rows.map((a) => [a.carrier, a.verdict, a.prefixGroup]), [['primary', 'answered', 'us']]);
    assert.equal(state('primary'), 'up');
  });

  test('status shows the per-(carrier, group) ejection; the carrier itself is up', async () => {
    const st = svc.status();
    const primary = st.carriers.find((c) => c.name === 'primary');
    assert.equal(primary?.state, 'up');
    assert.deepEqual(primary?.groups.map((g) => [g.group, g.state]), [['uk-mobile', 'down']]);
    assert.match(formatStatus(st), /primary × uk-mobile: EJECTED for \d+ s more \(3 carrier failures in a row/);
    assert.match(renderStatusPage(st), /ejected for uk-mobile/);
    const metrics = await (await fetch(`http://127.0.0.1:${svc.httpPort}/metrics`)).text();
    assert.match(metrics, /failover_agi_group_breaker\{carrier="primary",prefix_group="uk-mobile",state="open"\} 1/);
    assert.match(metrics, /failover_agi_group_breaker\{carrier="primary",prefix_group="us",state="closed"\} 1/);
    assert.match(metrics, /failover_agi_skips_total\{carrier="primary",reason="group_down"\} 1/);
  });

  test('plan NUMBER (over the control socket) names the group and plans as the call would', async () => {
    const uk = await controlRequest(socket, { cmd: 'plan', number: UK_MOBILE });
    assert.ok(uk.ok);
    const p = uk.data as PlanPreview;
    assert.equal(p.prefixGroup, 'uk-mobile');
    assert.deepEqual(p.orders[0]?.dials.map((d) => d.carriers[0]?.carrier), ['secondary', 'tertiary']);
    assert.match(formatPlan(p), /number 447700900123, prefix group uk-mobile/);
    assert.match(formatPlan(p), /-  primary\s+down\s+skipped: ejected for prefix group uk-mobile/);
    const us = await controlRequest(socket, { cmd: 'plan', number: US });
    assert.ok(us.ok);
    assert.equal((us.data as PlanPreview).prefixGroup, 'us');
    assert.equal((us.data as PlanPreview).orders[0]?.dials[0]?.carriers[0]?.carrier, 'primary');
    const none = await controlRequest(socket, { cmd: 'plan', number: '33123456789' });
    assert.ok(none.ok);
    assert.equal((none.data as PlanPreview).prefixGroup, null);
    assert.doesNotMatch(formatPlan(none.data as PlanPreview), /prefix group/);
  });

  test('failures spread across groups still eject the carrier as a whole', async () => {
    const spread = (n: string) => simulateCall({ port: svc.daemon.port, args: [n], carriers: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer' } } });
    for (const n of [US, '33123456789', US]) await spread(n);
    assert.equal(state('primary'), 'down');
  });
});

describe('prefixGroups on SIGHUP reload', () => {
  let svc: Service;
  let file: string;
  let base: Record<string, unknown>;
  const call = (n: string) => simulateCall({ port: svc.daemon.port, args: [n], carriers: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer' } } });
  const groupsOf = (c: string) => svc.status().carriers.find((x) => x.name === c)?.groups.map((g) => g.group) ?? [];

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fa-prefix-reload-'));
    file = join(dir, 'config.json');
    base = {
      agi: { port: 0 },
      http: { port: 0 },
      ami: { enabled: false },
      health: { consecutiveFailures: 2, baseEjection: 600_000, maxEjection: 600_000 },
      control: { socket: join(dir, 'c.sock'), stateFile: join(dir, 's.json') },
      carriers: CARRIERS,
      routes: ROUTES,
      prefixGroups: [{ name: 'uk-mobile', prefixes: ['447'] }, { name: 'us', prefixes: ['1'] }],
    };
    writeFileSync(file, JSON.stringify(base));
    svc = await startService({ config: loadConfig({ file, env: {} }), configFile: file, log: memoryLog('info').log, attemptLog: () => memoryAttemptLog(new MemorySink()) });
    for (let i = 0; i < 2; i++) await call(UK_MOBILE);
    assert.deepEqual(groupsOf('primary'), ['uk-mobile']);
  });
  after(async () => {
    await svc.stop();
  });

  test('an invalid prefixGroups is refused with every problem, and the ejection stands', async () => {
    writeFileSync(file, JSON.stringify({ ...base, prefixGroups: [{ name: 'a', prefixes: ['44'] }, { name: 'b', prefixes: ['44', '+1'] }, { name: 'a', prefixes: ['2'] }] }));
    const r = await svc.reload();
    assert.ok(!r.ok);
    assert.ok(r.problems.some((p) => /duplicate prefix group name/.test(p)));
    assert.ok(r.problems.some((p) => /already in prefix group a/.test(p)));
    assert.ok(r.problems.some((p) => /prefixes\[1\] = "\+1"/.test(p)));
    assert.deepEqual(groupsOf('primary'), ['uk-mobile']);
  });

  test('a reload without the group ends its ejection; its numbers are in no group and dial the primary again', async () => {
    writeFileSync(file, JSON.stringify({ ...base, prefixGroups: [{ name: 'us', prefixes: ['1'] }] }));
    const r = await svc.reload();
    assert.ok(r.ok);
    assert.ok(r.plan.applied.includes('prefixGroups'));
    assert.deepEqual(groupsOf('primary'), []);
    const c = await call(UK_MOBILE);
    assert.ok(c.dials[0]?.includes('carrier-primary'));
  });
});
