import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { formatStatus } from '../../src/ops/cli-format.js';
import { previewPlan } from '../../src/ops/plan-preview.js';
import { clusterFixture, dialedPrimary, HEALTHY, NUM, SWALLOWING, type Dialer } from '../support/cluster.js';
import type { TestDatabase } from '../support/db.js';
import { until } from '../support/until.js';

/** NUM (1555…) is in the group; OUTSIDE is a number in no group. */
const GROUP = 'us-555';
const PREFIX_GROUPS = [{ name: GROUP, prefixes: ['1555'] }];
const OUTSIDE = '14155550100';

/**
 * Shared health per prefix group: dialers (the whole service each, in this process) on one real MariaDB, the
 * simulator as Asterisk. A carrier that fails for one group on one dialer is skipped for that group's numbers on
 * the others, and still dialed for every other number. Polls run every 200 ms; waits are bounded by a few polls.
 */
describe('shared health per prefix group: dialers on one MariaDB', () => {
  // each test counts its own rows
  const fx = clusterFixture(['carrier_shared_health', 'carrier_attempt', 'carrier_event']);
  let t: TestDatabase;
  before(() => {
    t = fx.db();
  });
  const dialer = (id: string, overrides: Record<string, unknown> = {}): Promise<Dialer> => fx.dialer({ id, db: t.db, overrides: { prefixGroups: PREFIX_GROUPS, ...overrides } });
  const fresh = fx.fresh;
  const groupOf = (d: Dialer) => d.service.health.inspect().get('primary')?.groups.find((g) => g.group === GROUP);

  /** Calls to the group's number on `d` until its (primary, group) breaker opens; the carrier-wide one stays closed. */
  const ejectGroupOn = async (d: Dialer): Promise<number> => {
    let spent = 0;
    while (groupOf(d)?.breaker !== 'open') {
      if (dialedPrimary(await d.call(SWALLOWING, NUM))) spent++;
      assert.ok(spent <= 5, 'the group breaker opens after consecutiveFailures');
    }
    assert.notEqual(d.state(), 'down', 'failures to one group eject the carrier for that group only');
    return spent;
  };

  test('a carrier failing for one group on dialer-1: dialer-2 skips it for the group within a few polls, the peer and group named; other numbers still dial it', async () => {
    await fresh();
    const [d1, d2] = [await dialer('dialer-1'), await dialer('dialer-2')];
    assert.equal(await ejectGroupOn(d1), 2);
    const rows = await t.query<{ prefix_group: string; server_id: string; state: string }>("SELECT prefix_group, server_id, state FROM carrier_shared_health WHERE carrier = 'primary'");
    assert.deepEqual(rows.map((r) => ({ ...r })), [{ prefix_group: GROUP, server_id: 'dialer-1', state: 'open' }], 'a group fact only: no carrier-wide row');
    await until(() => groupOf(d2)?.breaker === 'open', 5 * 200);
    assert.equal(groupOf(d2)?.peer, 'dialer-1');
    assert.notEqual(d2.state(), 'down', 'dialer-2 keeps the carrier in service as a whole');

    const inGroup = await d2.call(SWALLOWING, NUM);
    assert.equal(dialedPrimary(inGroup), false, 'dialer-2 spent no Dial on the carrier dialer-1 ejected for the group');
    assert.equal(inGroup.vars.get('FAILOVER_CARRIER'), 'secondary');
    const outside = await d2.call(HEALTHY, OUTSIDE);
    assert.ok(dialedPrimary(outside), 'a number outside the group still dials it');
    assert.equal(outside.vars.get('FAILOVER_CARRIER'), 'primary');

    const skipped = async () => t.query<{ reason: string; health_state: string; prefix_group: string }>("SELECT reason, health_state, prefix_group FROM carrier_attempt WHERE server_id = 'dialer-2' AND verdict = 'skipped' AND carrier = 'primary'");
    await until(async () => (await skipped()).length === 1);
    const [skip] = await skipped();
    assert.equal(skip?.health_state, 'down');
    assert.equal(skip?.prefix_group, GROUP);
    assert.match(skip?.reason ?? '', new RegExp(`^ejected for prefix group ${GROUP} by peer dialer-1 until \\S+: 2 carrier failures in a row`));

    const plan = previewPlan(d2.service.daemon.routing(), (g) => d2.service.health.snapshotFor(g), { number: NUM }, () => 0);
    assert.equal(plan.prefixGroup, GROUP);
    assert.match(plan.skipped.find((s) => s.carrier === 'primary')?.reason ?? '', /by peer dialer-1/);
    const planOut = previewPlan(d2.service.daemon.routing(), (g) => d2.service.health.snapshotFor(g), { number: OUTSIDE }, () => 0);
    assert.equal(planOut.orders[0]?.dials[0]?.carriers[0]?.carrier, 'primary');
    assert.equal(planOut.skipped.length, 0);

    assert.match(formatStatus(d2.service.status()), new RegExp(`primary × ${GROUP}: EJECTED for \\d+ s more \\(ejected by peer dialer-1: 2 carrier failures`));
    assert.match(formatStatus(d2.service.status()), new RegExp(`peers dialer-1 \\(last fact \\d+s ago: primary × ${GROUP} open\\)`));
    const events = async () => t.query<{ from_state: string; to_state: string; reason: string }>("SELECT from_state, to_state, reason FROM carrier_event WHERE server_id = 'dialer-2' AND source = 'peer'");
    await until(async () => (await events()).length === 1);
    const [ev] = await events();
    assert.equal(ev?.from_state, ev?.to_state, 'the carrier\'s own state did not change');
    assert.match(ev?.reason ?? '', new RegExp(`^prefix group ${GROUP}: ejected by peer dialer-1 until \\S+: 2 carrier failures in a row`));
    assert.ok(d2.lines().some((l) => l['msg'] === 'peer dialer\'s breaker fact applied' && l['prefixGroup'] === GROUP && l['peer'] === 'dialer-1'));
    assert.match(await d2.metric('failover_agi_group_breaker'), new RegExp(`carrier="primary",prefix_group="${GROUP}",state="open"} 1`));
  });

  test('one trial call for the cluster per group ejection: the peer\'s group trial succeeds and closes the group on both', async () => {
    await fresh();
    const over = { 'health.baseEjection': 1500 };
    const [d1, d2] = [await dialer('dialer-1', over), await dialer('dialer-2', over)];
    await ejectGroupOn(d1);
    await until(() => groupOf(d2)?.breaker === 'open', 5 * 200);
    // the ejection ends: dialer-1 (which ejected it) has the group's trial; dialer-2 keeps off it for cluster.trialWait
    await until(() => groupOf(d2)?.breaker === 'half-open', 3000);
    const held = await d2.call(HEALTHY, NUM);
    assert.equal(dialedPrimary(held), false, 'dialer-2 leaves the group\'s trial to dialer-1');
    const trialSkip = async () => t.query<{ reason: string }>("SELECT reason FROM carrier_attempt WHERE server_id = 'dialer-2' AND verdict = 'skipped' AND carrier = 'primary'");
    await until(async () => (await trialSkip()).length === 1);
    assert.equal((await trialSkip())[0]?.reason, `half-open for prefix group ${GROUP}: peer dialer-1 holds the group's trial`);

    await until(() => groupOf(d1)?.breaker === 'half-open', 2000);
    const trial = await d1.call(HEALTHY, NUM);
    assert.ok(dialedPrimary(trial), 'dialer-1 places the group\'s trial');
    assert.equal(groupOf(d1), undefined, 'closed on dialer-1');
    await until(() => groupOf(d2) === undefined, 5 * 200);
    const back = await d2.call(HEALTHY, NUM);
    assert.equal(back.vars.get('FAILOVER_CARRIER'), 'primary', 'the group is back on dialer-2');
    const [row] = await t.query<{ state: string; server_id: string }>("SELECT state, server_id FROM carrier_shared_health WHERE carrier = 'primary' AND prefix_group = ?", [GROUP]);
    assert.deepEqual({ ...row }, { state: 'closed', server_id: 'dialer-1' });
    // one Dial of primary to the group in the whole cluster between the ejection's end and its recovery
    const answered = async (): Promise<number> => Number((await t.query<{ n: number }>("SELECT COUNT(*) AS n FROM carrier_attempt WHERE carrier = 'primary' AND verdict = 'answered'"))[0]?.n);
    await until(async () => (await answered()) >= 2);
    assert.equal(await answered(), 2, 'the trial and the call after it');
  });

  test('a peer\'s fact for a group this dialer does not have is ignored, said once at warn', async () => {
    await fresh();
    const over = { 'health.baseEjection': 1500 };
    const d1 = await dialer('dialer-1', over);
    const d2 = await dialer('dialer-2', { ...over, prefixGroups: [] });
    await ejectGroupOn(d1);
    const warned = () => d2.lines().filter((l) => l['msg'] === 'peer dialer shares facts for a prefix group this dialer does not have: ignored');
    await until(() => warned().length === 1, 5 * 200);
    assert.equal(warned()[0]?.['level'], 40);
    assert.equal(warned()[0]?.['prefixGroup'], GROUP);
    // the ejection ends and dialer-1's trial closes it: two more versions of the row, no second warning
    await until(() => groupOf(d1)?.breaker === 'half-open', 3000);
    assert.ok(dialedPrimary(await d1.call(HEALTHY, NUM)));
    await until(async () => (await t.query("SELECT 1 FROM carrier_shared_health WHERE state = 'closed'")).length === 1);
    await new Promise((r) => setTimeout(r, 3 * 200));
    assert.equal(warned().length, 1);
    assert.ok(dialedPrimary(await d2.call(HEALTHY, NUM)), 'dialer-2 dials it');
    assert.equal((await t.query("SELECT 1 FROM carrier_event WHERE server_id = 'dialer-2' AND source = 'peer'")).length, 0);
  });
});
