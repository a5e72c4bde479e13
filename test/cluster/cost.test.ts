import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { formatStatus } from '../../src/ops/cli-format.js';
import { spendText } from '../../src/ops/status.js';
import { renderStatusPage } from '../../src/ops/status-page.js';
import type { Behaviour } from '../sim/agi-sim.js';
import { clusterFixture, dialedPrimary, type Dialer } from '../support/cluster.js';
import type { TestDatabase } from '../support/db.js';
import { CARRIERS } from '../support/daemon.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { until } from '../support/until.js';

/**
 * Cluster-wide budgets: two dialers (the whole service each, in this process) on one real MariaDB database with
 * cluster.enabled, Asterisk played by the simulator. 6-second billing makes a 5 ms answered call one increment,
 * 0.1 min, so a 0.2 min hourly budget is used up by two calls and nothing waits for real minutes.
 * Polls run every 200 ms; "within a poll or two" is waited for with until() and a bound of a few polls.
 */
const BUDGETED = CARRIERS.map((c) => (c.name === 'primary' ? { ...c, billingIncrement: 6, budget: { perHour: { minutes: 0.2 }, action: 'skip' } } : c));
/** carrier-primary and carrier-b answer (answer_callee_bye: Dial returns after talkMs, ANSWEREDTIME_MS set). */
const ANSWERING: Readonly<Record<string, Behaviour>> = { 'carrier-primary': { kind: 'answer', talkMs: 5 }, 'carrier-b': { kind: 'answer', talkMs: 5 } };

/** Both dialers' clocks read 20 minutes into the current local hour, so no run crosses an hour and resets the spend it checks. */
function midHourSkew(): number {
  const d = new Date();
  return 20 * 60_000 - (d.getMinutes() * 60_000 + d.getSeconds() * 1000 + d.getMilliseconds());
}

describe('cluster-wide budgets: dialers on one MariaDB', () => {
  const fx = clusterFixture(['carrier_spend', 'carrier_attempt']);
  let t: TestDatabase;
  before(() => {
    t = fx.db();
  });
  const dialer = (id: string, db: TestDatabase['db'], skewMs: number): Promise<Dialer> => fx.dialer({ id, db, skewMs, overrides: { carriers: BUDGETED } });
  const { fresh, stopAll } = fx;
  /** Two answered calls through dialer-1's primary: its hourly budget of 0.2 min, used up by its own calls. */
  const useUpOn = async (d: Dialer): Promise<void> => {
    for (let i = 0; i < 2; i++) {
      const r = await d.call(ANSWERING);
      assert.equal(r.vars.get('FAILOVER_CARRIER'), 'primary');
    }
    assert.equal(d.service.daemon.cost.over('primary', d.clock.now())?.reason, 'hourly budget of 0.2 min used', 'dialer-1: its own spend, the peers had none');
  };
  const overOn = (d: Dialer): string => d.service.daemon.cost.over('primary', d.clock.now())?.reason ?? '';

  test('dialer-1 uses up the hourly budget; dialer-2\'s next call skips the carrier ("used cluster-wide") and the next carrier takes it', async () => {
    await fresh();
    const skew = midHourSkew();
    const [d1, d2] = [await dialer('dialer-1', t.db, skew), await dialer('dialer-2', t.db, skew)];
    await useUpOn(d1);
    // dialer-1 publishes at its next poll, dialer-2 reads at its next: a poll or two, bounded at five
    await until(() => overOn(d2) !== '', 5 * 200);
    assert.equal(overOn(d2), 'hourly budget of 0.2 min used cluster-wide (0.2 min by peers)');
    assert.ok(d2.lines().some((l) => l['msg'] === 'carrier budget used up cluster-wide: it is skipped or demoted for the rest of the window' && l['carrier'] === 'primary' && l['byPeers'] === 0.2));
    const call = await d2.call(ANSWERING);
    assert.equal(dialedPrimary(call), false, 'dialer-2 spent no Dial on the carrier the cluster used up');
    assert.equal(call.vars.get('FAILOVER_CARRIER'), 'secondary');
    assert.equal(call.vars.get('FAILOVER_STATUS'), 'ANSWER');
    // the skip and the answer may reach the database in different batches: wait for both
    await until(async () => (await t.query("SELECT 1 FROM carrier_attempt WHERE server_id = 'dialer-2' AND verdict IN ('skipped', 'answered')")).length === 2);
    const rows = await t.query<{ carrier: string; verdict: string; reason: string }>("SELECT carrier, verdict, reason FROM carrier_attempt WHERE server_id = 'dialer-2' ORDER BY attempt");
    assert.deepEqual(
      rows.map((r) => [r.carrier, r.verdict, r.reason]),
      [
        ['primary', 'skipped', 'hourly budget of 0.2 min used cluster-wide (0.2 min by peers)'],
        ['secondary', 'answered', rows[1]?.reason],
      ],
    );
    // own spend from the ledger, the peers' from carrier_spend: dialer-1 never counts its own calls twice
    const own = d1.service.status().carriers.find((c) => c.name === 'primary');
    assert.deepEqual([own?.cost?.hour.minutes, own?.cost?.peers?.hour.minutes, own?.cost?.budget[0]?.spent], [0.2, 0, 0.2]);
    const st = d2.service.status();
    const p = st.carriers.find((c) => c.name === 'primary');
    assert.equal(spendText(p ?? { cost: undefined }), 'hour 0.2/0.2 min (own 0 + peers 0.2) · day 0.2 min (own 0 + peers 0.2)');
    assert.match(formatStatus(st), /cluster budgets: counting the cluster's spend \(read \d+s ago\), peers dialer-1/);
    assert.match(formatStatus(st), /primary .*hourly budget of 0\.2 min used cluster-wide \(0\.2 min by peers\): skipped/);
    assert.match(renderStatusPage(st), /hour 0\.2\/0\.2 min \(own 0 \+ peers 0\.2\)/);
    // the metrics: carrier_spend stays this dialer's own, carrier_budget_spend is what the budget counts
    assert.match(await d2.metric('failover_agi_carrier_spend'), /carrier="primary",window="hour",unit="minutes"} 0$/m);
    assert.match(await d2.metric('failover_agi_carrier_budget_spend'), /carrier="primary",window="hour",unit="minutes"} 0\.2$/m);
    assert.match(await d2.metric('failover_agi_skips_total'), /carrier="primary",reason="budget"} 1/);
    assert.match(await d2.metric('failover_agi_cluster_spend_up'), /failover_agi_cluster_spend_up 1/);
    // the table: each dialer's own counters for the hour and the day (dialer-2's at 0: it dialed no primary)
    const spend = await t.query<{ server_id: string; period: string; minutes: number }>("SELECT server_id, period, minutes FROM carrier_spend WHERE carrier = 'primary' ORDER BY server_id, period");
    assert.deepEqual(spend.map((r) => [r.server_id, r.period, Math.round(r.minutes * 1000) / 1000]), [['dialer-1', 'hour', 0.2], ['dialer-1', 'day', 0.2], ['dialer-2', 'hour', 0], ['dialer-2', 'day', 0]]);
    // the poll's read is two primary-key ranges, not a scan
    const [plan] = await t.query<{ key: string | null; type: string }>(
      "EXPLAIN SELECT period, starts, carrier, server_id, minutes, money FROM carrier_spend WHERE ((period = 'hour' AND slot = ? AND starts = ?) OR (period = 'day' AND slot = 0 AND starts = ?)) AND server_id <> ?",
      [10, new Date(), new Date(), 'dialer-2'],
    );
    assert.equal(plan?.key, 'PRIMARY');
    assert.equal(plan?.type, 'range');
  });

  test('the database cut: dialer-2 decides on the peers\' spend it last read, says the view is stale, and calls are not held up', async () => {
    await fresh();
    const proxy = new TcpProxy(t.db.host, t.db.port);
    const port = await proxy.start();
    const db = { ...t.db, port };
    const skew = midHourSkew();
    const [d1, d2] = [await dialer('dialer-1', db, skew), await dialer('dialer-2', db, skew)];
    try {
      await useUpOn(d1);
      await until(() => overOn(d2) !== '', 5 * 200);
      await proxy.cut();
      const lost = (d: Dialer) => d.lines().some((l) => l['msg'] === 'cluster spend view lost: budgets count own spend plus the peers\' as last read until carrier_spend answers');
      await until(() => lost(d2), 5000);
      const st = d2.service.status();
      assert.equal(st.cluster.spend?.up, false);
      assert.match(formatStatus(st), /cluster budgets: SPEND VIEW STALE \d+s, counting own spend \+ the peers' as last read \d+s ago/);
      assert.match(renderStatusPage(st), /cluster spend view stale: budgets count this dialer's spend \+ the peers' as last read \d+ s ago/);
      assert.match(await d2.metric('failover_agi_cluster_spend_up'), /failover_agi_cluster_spend_up 0/);
      assert.match(await d2.metric('failover_agi_cluster_up'), /failover_agi_cluster_up 0/);
      const started = Date.now();
      const call = await d2.call(ANSWERING);
      const tookMs = Date.now() - started;
      assert.equal(dialedPrimary(call), false, 'the last known cluster spend still holds the carrier back');
      assert.equal(call.vars.get('FAILOVER_CARRIER'), 'secondary');
      assert.ok(tookMs < 1000, `the call waited for no database: ${tookMs} ms`);
      assert.equal(overOn(d2), 'hourly budget of 0.2 min used cluster-wide (0.2 min by peers)');
      await proxy.restore();
      await until(() => d2.service.status().cluster.spend?.up === true, 5000);
      assert.ok(d2.lines().some((l) => l['msg'] === 'cluster spend view back: budgets count the other dialers\' spend again'));
      // the skipped row, spooled while the database was away, reaches it with its reason
      await until(async () => (await t.query("SELECT 1 FROM carrier_attempt WHERE server_id = 'dialer-2' AND verdict = 'skipped'")).length === 1, 10_000);
    } finally {
      await stopAll();
      await proxy.stop();
    }
  });
});
