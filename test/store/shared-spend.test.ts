import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CostLedger } from '../../src/calls/cost-ledger.js';
import type { Clock } from '../../src/clock.js';
import type { CarrierConfig } from '../../src/config/types.js';
import type { CarrierSpend } from '../../src/routing/cost.js';
import { migrate } from '../../src/store/migrate.js';
import { SharedSpend } from '../../src/store/shared-spend.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { memoryLog } from '../support/daemon.js';
import { until } from '../support/until.js';

/**
 * carrier_spend on a real MariaDB: what a dialer publishes (its own spend, per window) and what it reads (the
 * others'), under clocks the test sets. 10:30 local on a day with no DST change; billing per minute, so a 5 ms
 * answer is 1 min.
 */
const T0 = new Date(2026, 11, 2, 10, 30).getTime();
const DAY = 24 * 3600_000;
const CARRIER: CarrierConfig = {
  name: 'a', dial: 'SIP/${number}@a', peer: 'a', ringTimeout: 60, progressTimeout: 5, adaptiveProgress: null, dialOptions: 'T', weight: 1, enabled: true, retrySipCodes: [], finalSipCodes: [], retryAfterRinging: false, maxChannels: 0, maxCps: 0, clusterShare: 1,
  pricePerMinute: 0.5, pricePerCall: 0, billingIncrement: 60, budget: { perHour: { minutes: 10, money: null }, perDay: null, action: 'skip', alertShare: 0.8 },
};

describe('carrier_spend: each dialer\'s counters, read by the others', () => {
  let t: TestDatabase;
  const running: SharedSpend[] = [];
  before(async () => {
    t = await createTestDatabase();
    await migrate(t.db, memoryLog().log);
  });
  after(async () => {
    for (const s of running) await s.close();
    await t.drop();
  });
  /** One dialer's side: its ledger charged with `calls` answered minutes at `at`, and what it last read of its peers. */
  const dialer = (server: string, at: number, calls: number): { ledger: CostLedger; peers: () => CarrierSpend | undefined; spend: SharedSpend } => {
    const clock: Clock = { now: () => at };
    const ledger = new CostLedger([CARRIER], at);
    for (let i = 0; i < calls; i++) ledger.charge('a', 5, at);
    let last: ReadonlyMap<string, CarrierSpend> = new Map();
    const spend = new SharedSpend({
      db: t.db, cluster: { enabled: true, pollMs: 50, staleAfter: 1000, trialWait: 1000 }, serverId: server, log: memoryLog().log, clock,
      own: (now) => ledger.own(now), carriers: () => ledger.budgeted(), onPeers: (p) => { last = p; ledger.setPeers(p, at); },
    });
    spend.start();
    running.push(spend);
    return { ledger, peers: () => last.get('a'), spend };
  };
  const row = async (server: string, period: string): Promise<{ minutes: number; money: number; starts: Date; slot: number } | undefined> =>
    (await t.query<{ minutes: number; money: number; starts: Date; slot: number }>('SELECT minutes, money, starts, slot FROM carrier_spend WHERE server_id = ? AND period = ? AND carrier = ?', [server, period, 'a']))[0];
  const stop = async (s: SharedSpend): Promise<void> => {
    await s.close();
    running.splice(running.indexOf(s), 1);
  };

  test('published per window and slot; read by the peer, never by itself', async () => {
    const a = dialer('d-a', T0, 3);
    await until(async () => (await row('d-a', 'hour'))?.minutes === 3, 2000);
    const hour = await row('d-a', 'hour');
    assert.deepEqual([hour?.slot, hour?.starts.getTime(), hour?.money], [10, new Date(2026, 11, 2, 10).getTime(), 1.5]);
    assert.equal((await row('d-a', 'day'))?.slot, 0);
    const b = dialer('d-b', T0, 1);
    await until(() => b.peers()?.hour.minutes === 3, 2000);
    await until(() => a.peers()?.hour.minutes === 1, 2000);
    assert.deepEqual([a.peers()?.hour.minutes, a.peers()?.day.minutes], [1, 1], 'd-a reads d-b only: its own 3 stay its ledger\'s');
    assert.equal(b.spend.stats().up, true);
    assert.deepEqual(b.spend.stats().peers, ['d-a']);
    await stop(a.spend);
    await stop(b.spend);
  });

  test('a restart that has not read its spend back yet never lowers its published figure', async () => {
    const again = dialer('d-a', T0, 1);
    await until(() => again.spend.stats().lastReadAt !== null, 2000);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await row('d-a', 'hour'))?.minutes, 3);
    await stop(again.spend);
  });

  test('the next day\'s 10:00 hour replaces the slot\'s row; a late write of an older window never does', async () => {
    const next = dialer('d-a', T0 + DAY, 2);
    await until(async () => (await row('d-a', 'hour'))?.starts.getTime() === new Date(2026, 11, 3, 10).getTime(), 2000);
    assert.equal((await row('d-a', 'hour'))?.minutes, 2, 'a fresh window: not the GREATEST of two days');
    await stop(next.spend);
    const late = dialer('d-a', T0, 9);
    await until(() => late.spend.stats().lastReadAt !== null, 2000);
    await new Promise((r) => setTimeout(r, 150));
    const kept = await row('d-a', 'hour');
    assert.deepEqual([kept?.starts.getTime(), kept?.minutes], [new Date(2026, 11, 3, 10).getTime(), 2]);
    // and a reader of the older window does not take the newer row for its own
    const reader = dialer('d-c', T0, 0);
    await until(() => reader.spend.stats().lastReadAt !== null, 2000);
    assert.equal(reader.peers()?.hour.minutes, 1, 'd-b\'s 1 min of that hour; d-a\'s row is the next day\'s now');
    await stop(late.spend);
    await stop(reader.spend);
  });

  test('a dialer that cannot publish (a read-only node, a grant without INSERT) still reads the peers\' spend', async () => {
    const w = dialer('d-w', T0, 4);
    await until(async () => (await row('d-w', 'hour'))?.minutes === 4, 2000);
    await stop(w.spend);
    const user = `fa_ro_${process.pid}_${Math.random().toString(36).slice(2, 6)}`;
    for (const host of ['%', 'localhost']) {
      await t.query(`CREATE USER '${user}'@'${host}' IDENTIFIED BY 'ro-test'`);
      await t.query(`GRANT SELECT ON \`${t.name}\`.* TO '${user}'@'${host}'`);
    }
    try {
      const ledger = new CostLedger([CARRIER], T0);
      ledger.charge('a', 5, T0);
      let peers: CarrierSpend | undefined;
      const ro = new SharedSpend({
        db: { ...t.db, user, password: 'ro-test' }, cluster: { enabled: true, pollMs: 50, staleAfter: 1000, trialWait: 1000 }, serverId: 'd-ro', log: memoryLog().log, clock: { now: () => T0 },
        own: (now) => ledger.own(now), carriers: () => ledger.budgeted(), onPeers: (p) => { peers = p.get('a'); ledger.setPeers(p, T0); },
      });
      ro.start();
      running.push(ro);
      await until(() => ro.stats().writeErrors > 0 && peers !== undefined, 3000);
      assert.ok((peers?.hour.minutes ?? 0) >= 4, 'the peers\' spend was read although every write failed');
      assert.equal(ro.stats().up, true, 'reads answer: the view is up');
      assert.equal(await row('d-ro', 'hour'), undefined);
      await stop(ro);
    } finally {
      for (const host of ['%', 'localhost']) await t.query(`DROP USER IF EXISTS '${user}'@'${host}'`);
    }
  });

  test('the database away: stats say since when, the last peers\' figures stay in the ledger', async () => {
    const b = dialer('d-b', T0, 0);
    await until(() => b.peers() !== undefined && b.spend.stats().up, 2000);
    const known = b.ledger.snapshot(T0).get('a')?.peers?.hour.minutes;
    await stop(b.spend);
    // a dialer that cannot reach the database at all
    const dead = new SharedSpend({
      db: { ...t.db, port: 1 }, cluster: { enabled: true, pollMs: 50, staleAfter: 200, trialWait: 1000 }, serverId: 'd-x', log: memoryLog().log,
      own: () => [], carriers: () => ['a'], onPeers: () => assert.fail('no read succeeds'),
    });
    dead.start();
    running.push(dead);
    await until(() => dead.stats().lastError !== '' && !dead.stats().up && dead.stats().readErrors > 0, 3000);
    assert.equal(dead.stats().lastReadAt, null);
    assert.notEqual(dead.stats().lostSince, null);
    assert.equal(b.ledger.snapshot(T0).get('a')?.peers?.hour.minutes, known, 'nothing cleared what was known');
    await stop(dead);
  });
});
