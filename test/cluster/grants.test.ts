import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { migrate } from '../../src/store/migrate.js';
import { dialedPrimary, startDialer, SWALLOWING, type Dialer } from '../support/cluster.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { memoryLog } from '../support/daemon.js';
import { until } from '../support/until.js';

/**
 * The grant docs/health.md gives a cluster's dialers is enough: a user of its own with SELECT, INSERT and UPDATE
 * on the database and nothing else (no DDL: `migrate` ran as another user). UPDATE is needed by both writers:
 * shared health replaces a carrier's row, and the attempt log skips a row already in with ON DUPLICATE KEY UPDATE.
 */
describe('shared health under the documented grants', () => {
  let t: TestDatabase;
  const user = `fa_cl_${process.pid}_${Math.random().toString(36).slice(2, 6)}`;
  const running: Dialer[] = [];
  before(async () => {
    t = await createTestDatabase();
    await migrate(t.db, memoryLog().log);
    await t.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'cluster-test'`);
    await t.query(`CREATE USER '${user}'@'localhost' IDENTIFIED BY 'cluster-test'`);
    for (const host of ['%', 'localhost']) {
      await t.query(`GRANT SELECT, INSERT, UPDATE ON \`${t.name}\`.* TO '${user}'@'${host}'`);
    }
  });
  after(async () => {
    for (const d of running.splice(0)) await d.stop();
    await t.query(`DROP USER IF EXISTS '${user}'@'%'`);
    await t.query(`DROP USER IF EXISTS '${user}'@'localhost'`);
    await t.drop();
  });

  test('a fact written twice (the row replaced) and read by the peer, with no other privilege', async () => {
    const db = { ...t.db, user, password: 'cluster-test' };
    const over = { 'health.baseEjection': 1500 };
    const d1 = await startDialer({ id: 'dialer-1', db, overrides: over });
    running.push(d1);
    const d2 = await startDialer({ id: 'dialer-2', db, overrides: over });
    running.push(d2);
    for (let i = 0; i < 2; i++) await d1.call(SWALLOWING);
    await until(() => d2.state() === 'down', 2000);
    // the ejection ends; dialer-1's trial fails: a second open replaces the row (ON DUPLICATE KEY UPDATE)
    await until(() => d1.state() === 'probing', 3000);
    assert.ok(dialedPrimary(await d1.call(SWALLOWING)));
    const [row] = await t.query<{ version: number; state: string }>("SELECT version, state FROM carrier_shared_health WHERE carrier = 'primary'");
    assert.ok(Number(row?.version) >= 2, `the row was updated (version ${row?.version})`);
    assert.equal(d1.service.status().cluster.lastError, '');
    assert.equal(d2.service.status().cluster.up, true);
    await until(() => /trial call failed/.test(d2.reason()), 2000);
    // the attempt log under the same user: its rows are in
    await until(async () => (await t.query("SELECT 1 FROM carrier_attempt WHERE server_id = 'dialer-1'")).length >= 3, 3000);
  });
});
