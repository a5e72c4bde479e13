import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { previewPlan } from '../../src/ops/plan-preview.js';
import { formatStatus } from '../../src/ops/cli-format.js';
import { clusterFixture, dialedPrimary, HEALTHY, NUM, SWALLOWING, type Dialer } from '../support/cluster.js';
import type { TestDatabase } from '../support/db.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { until } from '../support/until.js';

/**
 * Several dialers (the whole service each, in this process) on one real MariaDB database with cluster.enabled:
 * what one dialer's breaker learns reaches the others through carrier_shared_health.
 * Polls run every 200 ms here; "within a poll" is waited for with until() and a bound of a few polls, never timed.
 */
describe('shared health: dialers on one MariaDB', () => {
  const fx = clusterFixture(['carrier_shared_health']);
  let t: TestDatabase;
  before(() => {
    t = fx.db();
  });
  const { dialer, fresh, stopAll } = fx;

  /** Calls on `d` until its own breaker ejects the swallowing primary; returns how many Dials it spent on it. */
  const ejectOn = async (d: Dialer): Promise<number> => {
    let spent = 0;
    while (d.state() !== 'down') {
      if (dialedPrimary(await d.call(SWALLOWING))) spent++;
      assert.ok(spent <= 5, 'the breaker opens after consecutiveFailures');
    }
    return spent;
  };

  test('two dialers: a carrier ejected by one is skipped by the other\'s next call, the peer named in state, plan, skip row and event', async () => {
    await fresh();
    const [d1, d2] = [await dialer({ id: 'dialer-1', db: t.db }), await dialer({ id: 'dialer-2', db: t.db })];
    assert.equal(await ejectOn(d1), 2);
    const [row] = await t.query<{ server_id: string; state: string }>("SELECT server_id, state FROM carrier_shared_health WHERE carrier = 'primary'");
    assert.deepEqual({ ...row }, { server_id: 'dialer-1', state: 'open' });
    await until(() => d2.state() === 'down', 5 * 200);
    assert.match(d2.reason(), /^ejected by peer dialer-1 until \S+: 2 carrier failures in a row/);
    const call = await d2.call(SWALLOWING);
    assert.equal(dialedPrimary(call), false, 'dialer-2 spent no Dial on the carrier dialer-1 ejected');
    assert.equal(call.vars.get('FAILOVER_CARRIER'), 'secondary');
    const plan = previewPlan(d2.service.daemon.routing(), d2.service.health.snapshot(), { number: NUM }, () => 0);
    assert.match(plan.skipped.find((s) => s.carrier === 'primary')?.reason ?? '', /ejected by peer dialer-1/);
    await until(async () => (await t.query("SELECT 1 FROM carrier_attempt WHERE server_id = 'dialer-2' AND verdict = 'skipped' AND carrier = 'primary'")).length === 1);
    const [skip] = await t.query<{ reason: string; health_state: string }>("SELECT reason, health_state FROM carrier_attempt WHERE server_id = 'dialer-2' AND verdict = 'skipped'");
    assert.equal(skip?.health_state, 'down');
    assert.match(skip?.reason ?? '', /ejected by peer dialer-1/);
    await until(async () => (await t.query("SELECT 1 FROM carrier_event WHERE server_id = 'dialer-2' AND source = 'peer'")).length === 1);
    const st = d2.service.status();
    assert.equal(st.cluster.up, true);
    assert.deepEqual(st.cluster.peers.map((p) => [p.server, p.carrier, p.state]), [['dialer-1', 'primary', 'open']]);
    assert.match(formatStatus(st), /cluster: sharing health, peers dialer-1 \(last fact \d+s ago: primary open\)/);
    assert.match(await d2.metric('failover_agi_cluster_peer_facts_applied_total'), /carrier="primary",state="open"} 1/);
    assert.match(await d2.metric('failover_agi_cluster_up'), /failover_agi_cluster_up 1/);
    assert.match(await d1.metric('failover_agi_cluster_published_total'), /state="open"} 1/);
    // dialer-1 does not apply its own fact back to itself
    assert.match(d1.reason(), /^breaker open until/);
  });

  test('three dialers: one trial call for the cluster; its success brings the carrier back everywhere', async () => {
    await fresh();
    const over = { 'health.baseEjection': 1500 };
    const [d1, d2, d3] = [await dialer({ id: 'dialer-1', db: t.db, overrides: over }), await dialer({ id: 'dialer-2', db: t.db, overrides: over }), await dialer({ id: 'dialer-3', db: t.db, overrides: over })];
    await ejectOn(d1);
    await until(() => d2.state() === 'down' && d3.state() === 'down', 1000);
    // the ejection ends: dialer-1 (which ejected it) has the trial; the others keep off it for cluster.trialWait
    await until(() => d2.state() === 'probing' && d3.state() === 'probing', 3000);
    assert.match(d2.reason(), /ejection by peer dialer-1 over; dialer-1 places the first trial call/);
    for (const d of [d2, d3]) {
      const r = await d.call(HEALTHY);
      assert.equal(dialedPrimary(r), false, `${d.id} leaves the trial to dialer-1`);
    }
    await until(async () => (await t.query("SELECT 1 FROM carrier_attempt WHERE server_id IN ('dialer-2','dialer-3') AND verdict = 'skipped' AND reason LIKE 'half-open%'")).length === 2);
    const [skip] = await t.query<{ reason: string }>("SELECT reason FROM carrier_attempt WHERE server_id = 'dialer-2' AND verdict = 'skipped' AND reason LIKE 'half-open%'");
    assert.equal(skip?.reason, 'half-open: peer dialer-1 holds the trial');
    await until(() => d1.state() === 'probing', 2000);
    const trial = await d1.call(HEALTHY);
    assert.ok(dialedPrimary(trial), 'dialer-1 places the trial');
    assert.equal(trial.vars.get('FAILOVER_CARRIER'), 'primary');
    // back in service: with AMI off a closed breaker publishes Asterisk's view, unknown
    assert.equal(d1.state(), 'unknown');
    await until(() => d2.state() === 'unknown' && d3.state() === 'unknown', 1000);
    for (const d of [d2, d3]) assert.equal((await d.call(HEALTHY)).vars.get('FAILOVER_CARRIER'), 'primary');
    // one Dial of primary in the whole cluster between the ejection's end and its recovery
    const answered = async (): Promise<number> => Number((await t.query<{ n: number }>("SELECT COUNT(*) AS n FROM carrier_attempt WHERE carrier = 'primary' AND verdict = 'answered'"))[0]?.n);
    await until(async () => (await answered()) >= 3);
    assert.equal(await answered(), 3, 'the trial and the two calls after it');
  });

  test('the database cut: each dialer goes on alone and says so; calls are not held up; a fact learned meanwhile reaches the peers after', async () => {
    await fresh();
    const proxy = new TcpProxy(t.db.host, t.db.port);
    const port = await proxy.start();
    const db = { ...t.db, port };
    const over = { 'health.baseEjection': 20_000 };
    const [d1, d2] = [await dialer({ id: 'dialer-1', db, overrides: over }), await dialer({ id: 'dialer-2', db, overrides: over })];
    try {
      await until(() => d1.service.status().cluster.up && d2.service.status().cluster.up, 3000);
      await proxy.cut();
      const lost = (d: Dialer) => d.lines().some((l) => l['msg'] === 'cluster view lost: deciding carrier health alone until the shared table answers');
      await until(() => lost(d1) && lost(d2), 5000);
      for (const d of [d1, d2]) {
        assert.equal(d.service.status().cluster.up, false);
        assert.match(await d.metric('failover_agi_cluster_up'), /failover_agi_cluster_up 0/);
        assert.match(formatStatus(d.service.status()), /cluster: VIEW LOST \d+s ago, deciding alone/);
        const hz = (await (await fetch(`http://127.0.0.1:${d.service.httpPort}/healthz`)).json()) as Record<string, unknown>;
        assert.equal(hz['cluster'], 'alone');
      }
      // dialer-1 learns alone; dialer-2 cannot hear it and keeps dialing primary, every call answered
      await ejectOn(d1);
      await new Promise((r) => setTimeout(r, 600));
      const r = await d2.call(SWALLOWING);
      assert.ok(dialedPrimary(r), 'dialer-2 decides alone');
      assert.equal(r.vars.get('FAILOVER_STATUS'), 'ANSWER');
      assert.notEqual(d2.state(), 'down');
      await proxy.restore();
      // the ejection dialer-1 learned during the cut (its window still runs) is written once the table answers
      await until(() => d2.state() === 'down' && /peer dialer-1/.test(d2.reason()), 8000);
      await until(() => d2.service.status().cluster.up, 3000);
      const hz = (await (await fetch(`http://127.0.0.1:${d2.service.httpPort}/healthz`)).json()) as Record<string, unknown>;
      assert.equal(hz['cluster'], 'sharing');
      assert.ok(d2.lines().some((l) => l['msg'] === 'cluster view back: sharing carrier health with the other dialers again'));
    } finally {
      await stopAll();
      await proxy.stop();
    }
  });

  test('the database hangs: reads and writes give up at their timeout, the dialers say so, and calls finish while it hangs', async () => {
    await fresh();
    const proxy = new TcpProxy(t.db.host, t.db.port);
    const port = await proxy.start();
    const db = { ...t.db, port };
    const [d1, d2] = [await dialer({ id: 'dialer-1', db }), await dialer({ id: 'dialer-2', db })];
    try {
      await until(() => d1.service.status().cluster.up && d2.service.status().cluster.up, 3000);
      proxy.stall();
      // the database answers nothing until unstall(), which comes after: a call that waited on it would never end
      const calls = await Promise.all(Array.from({ length: 6 }, (_, i) => ((i % 2 === 0 ? d1 : d2) as Dialer).call(HEALTHY)));
      assert.ok(calls.every((c) => c.vars.get('FAILOVER_STATUS') === 'ANSWER'));
      const lost = (d: Dialer) => d.lines().some((l) => l['msg'] === 'cluster view lost: deciding carrier health alone until the shared table answers');
      await until(() => lost(d1) && lost(d2), 5000);
      assert.match(d1.service.status().cluster.lastError, /shared health (read|write): no answer within 250 ms|Queue limit reached/);
      assert.match(await d1.metric('failover_agi_cluster_errors_total'), /op="read"} [1-9]/);
      proxy.unstall();
      await until(() => d1.service.status().cluster.up && d2.service.status().cluster.up, 5000);
    } finally {
      await stopAll();
      await proxy.stop();
    }
  });

  test('clocks ±5 s apart: the peers\' ejection ends when the ejecting dialer\'s does, by the real clock', async () => {
    await fresh();
    const over = { 'health.baseEjection': 3000 };
    const d1 = await dialer({ id: 'dialer-ahead', db: t.db, skewMs: 5000, overrides: over });
    const d2 = await dialer({ id: 'dialer-behind', db: t.db, skewMs: -5000, overrides: over });
    const d3 = await dialer({ id: 'dialer-true', db: t.db, skewMs: 0, overrides: over });
    await ejectOn(d1);
    const origin = d1.ejectedUntilReal();
    assert.ok(origin !== null);
    await until(() => d2.state() === 'down' && d3.state() === 'down', 1000);
    for (const d of [d2, d3]) {
      const u = d.ejectedUntilReal();
      assert.ok(u !== null);
      // taking the peer's clock would put it 10 s (or 5 s) off; the database's durations leave only the read's trip
      assert.ok(Math.abs(u - origin) < 250, `${d.id}: ends ${u - origin} ms from dialer-ahead's ejection`);
    }
    // and it ends: with a peer's wall clock taken at face value dialer-behind would stay down for 13 s
    await until(() => d2.state() === 'probing' && d3.state() === 'probing', 3000 + 1000);
    // and dialer-ahead's own view is by its own clock: no jump either way
    assert.equal(d1.state(), 'probing');
    // the rows hold the database's time only: until_at - learned_at is the ejection, whoever's clock is off
    const [row] = await t.query<{ ms: number }>("SELECT TIMESTAMPDIFF(MICROSECOND, learned_at, until_at) / 1000 AS ms FROM carrier_shared_health WHERE carrier = 'primary'");
    assert.ok(Math.abs(Number(row?.ms) - 3000) < 100, `until_at - learned_at = ${row?.ms} ms`);
  });
});
