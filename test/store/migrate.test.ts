import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRecordStore } from '../../src/store/record-store.js';
import { loadMigrations, migrate, SchemaError } from '../../src/store/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { memoryLog } from '../support/daemon.js';
import { attemptRecord } from '../support/records.js';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The newest version this program knows: versions can have gaps (branches merge their migrations out of order). */
const latest = (): number => Math.max(...loadMigrations().map((m) => m.version));

const STORE = { spoolDir: '', flushRows: 100, flushMs: 20, queueLimit: 10000, spoolMaxBytes: 1 << 30, fsyncMs: 50 };

describe('migrations', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => t.drop());

  test('a database without the schema is refused at start with a clear error', async () => {
    const s = createRecordStore({ db: t.db, store: { ...STORE, spoolDir: mkdtempSync(join(tmpdir(), 'fa-sp-')) }, serverId: 'd1', log: memoryLog().log });
    await assert.rejects(s.start(), (e: unknown) => e instanceof SchemaError && /run "failover-agi migrate"/.test(e.message));
  });

  test('apply to an empty database, then again as a no-op', async () => {
    const { log } = memoryLog();
    const first = await migrate(t.db, log);
    assert.deepEqual(first, { from: 0, to: latest() });
    const tables = (await t.query<{ t: string }>('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY 1', [t.name])).map((r) => r.t);
    assert.deepEqual(tables, ['carrier_attempt', 'carrier_dial', 'carrier_event', 'carrier_shared_health', 'carrier_spend', 'schema_version']);
    const engines = await t.query<{ e: string }>("SELECT DISTINCT engine AS e FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'", [t.name]);
    assert.deepEqual(engines.map((r) => r.e), ['InnoDB']);
    const again = await migrate(t.db, log);
    assert.equal(again.from, again.to);
    assert.equal((await t.query('SELECT * FROM schema_version')).length, loadMigrations().length);
  });

  test('a migration missing below the newest one (merged out of order) is refused at start and applied by migrate', async () => {
    // 002 only changes an ENUM and recreates a view: applying it again is harmless, so it can play the late one
    await t.query('DELETE FROM schema_version WHERE version = 2');
    const store = () => createRecordStore({ db: t.db, store: { ...STORE, spoolDir: mkdtempSync(join(tmpdir(), 'fa-sp-')) }, serverId: 'd1', log: memoryLog().log });
    await assert.rejects(store().start(), /without 002_interrupted_verdict\.sql.*run "failover-agi migrate"/);
    const { log, lines } = memoryLog();
    await migrate(t.db, log);
    assert.deepEqual(lines().filter((l) => l['msg'] === 'applying migration').map((l) => l['version']), [2]);
    const s = store();
    await s.start();
    await s.close();
  });

  test('a newer schema is refused by migrate and by the writer at start', async () => {
    await t.query("INSERT INTO schema_version (version, name, applied_at) VALUES (999, '999_future.sql', UTC_TIMESTAMP(3))");
    await assert.rejects(migrate(t.db, memoryLog().log), /schema version 999, newer than this failover-agi knows/);
    const s = createRecordStore({ db: t.db, store: { ...STORE, spoolDir: mkdtempSync(join(tmpdir(), 'fa-sp-')) }, serverId: 'd1', log: memoryLog().log });
    await assert.rejects(s.start(), /newer than this failover-agi knows/);
    await t.query('DELETE FROM schema_version WHERE version = 999');
  });
});

describe('migration 003 (run_id) on a database that already holds rows', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => t.drop());

  test('rows of schema 1 are kept (run_id empty), replays of them stay deduplicated, and two runs of one channel both fit', async () => {
    const [m1] = loadMigrations();
    assert.ok(m1 && m1.version === 1);
    await t.query('CREATE TABLE schema_version (version INT UNSIGNED NOT NULL PRIMARY KEY, name VARCHAR(128) NOT NULL, applied_at DATETIME(3) NOT NULL)');
    for (const st of m1.statements) await t.query(st);
    await t.query("INSERT INTO schema_version VALUES (1, ?, UTC_TIMESTAMP(3))", [m1.name]);
    const row = "('dialer1', ?, ?, 'r', 'failover', 'primary', 'x', '1', NOW(3), NOW(3), 'next', '')";
    const cols = '(server_id, uniqueid, attempt, route, strategy, carrier, dial_string, number_dialed, started_at, ended_at, verdict, reason)';
    for (let i = 0; i < 50; i++) await t.query(`INSERT INTO carrier_attempt ${cols} VALUES ${row}`, [`1808.${i}`, 1]);
    const r = await migrate(t.db, memoryLog().log);
    assert.deepEqual(r, { from: 1, to: latest() });
    const kept = await t.query<{ n: number; runs: string }>("SELECT COUNT(*) AS n, GROUP_CONCAT(DISTINCT run_id) AS runs FROM carrier_attempt");
    assert.equal(Number(kept[0]?.n), 50);
    assert.equal(kept[0]?.runs, '');
    // the writer after the upgrade: an old spool's record (no runId) is a duplicate; a new run of the same channel is not
    const s = createRecordStore({ db: t.db, store: { ...STORE, spoolDir: mkdtempSync(join(tmpdir(), 'fa-sp-')) }, serverId: 'd1', log: memoryLog().log });
    await s.start();
    s.attempt(attemptRecord({ serverId: 'dialer1', uniqueid: '1808.0', attempt: 1 }));
    s.attempt(attemptRecord({ serverId: 'dialer1', uniqueid: '1808.0', runId: 'second-run', attempt: 1 }));
    await s.close();
    const runs = await t.query<{ run_id: string }>("SELECT run_id FROM carrier_attempt WHERE uniqueid = '1808.0' ORDER BY id");
    assert.deepEqual(runs.map((x) => x.run_id), ['', 'second-run']);
    const view = await t.query<{ c: string }>("SELECT column_name AS c FROM information_schema.columns WHERE table_schema = ? AND table_name = 'carrier_dial' AND column_name = 'run_id'", [t.name]);
    assert.equal(view.length, 1, 'the view shows run_id');
  });
});

describe('migration 004 (post-dial delay, Asterisk timers) on a database of schema 3 with rows, and an old spool', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => t.drop());

  test('schema-3 rows keep their values with the new columns NULL; a spool of schema-3 records and of new ones replays', async () => {
    await t.query('CREATE TABLE schema_version (version INT UNSIGNED NOT NULL PRIMARY KEY, name VARCHAR(128) NOT NULL, applied_at DATETIME(3) NOT NULL)');
    for (const m of loadMigrations().filter((x) => x.version <= 3)) {
      for (const st of m.statements) await t.query(st);
      await t.query('INSERT INTO schema_version VALUES (?, ?, UTC_TIMESTAMP(3))', [m.version, m.name]);
    }
    const cols = '(server_id, uniqueid, run_id, attempt, route, strategy, carrier, dial_string, number_dialed, started_at, ended_at, ring_ms, talk_ms, verdict, reason)';
    for (let i = 0; i < 20; i++) {
      await t.query(`INSERT INTO carrier_attempt ${cols} VALUES ('dialer1', ?, 'run-3', 1, 'r', 'failover', 'primary', 'x', '1', NOW(3), NOW(3), ?, ?, 'answered', '')`, [`1809.${i}`, 1000 + i, 3000 + i]);
    }
    assert.deepEqual(await migrate(t.db, memoryLog().log), { from: 3, to: loadMigrations().at(-1)?.version });
    const kept = await t.query<Record<string, unknown>>('SELECT ring_ms, talk_ms, pdd_ms, ringtime_ms, progresstime_ms FROM carrier_attempt ORDER BY id');
    assert.equal(kept.length, 20);
    assert.deepEqual(kept[7], { ring_ms: 1007, talk_ms: 3007, pdd_ms: null, ringtime_ms: null, progresstime_ms: null });
    const view = await t.query<{ c: string }>("SELECT column_name AS c FROM information_schema.columns WHERE table_schema = ? AND table_name = 'carrier_dial' AND column_name IN ('pdd_ms', 'ringtime_ms', 'progresstime_ms') ORDER BY 1", [t.name]);
    assert.deepEqual(view.map((v) => v.c), ['pdd_ms', 'progresstime_ms', 'ringtime_ms'], 'the view shows the new columns');

    // the spool of an outage: a record of this version, spooled by the writer itself while the database was away...
    const dir = mkdtempSync(join(tmpdir(), 'fa-sp-'));
    const down = createRecordStore({ db: { ...t.db, port: 1 }, store: { ...STORE, spoolDir: dir }, serverId: 'd1', log: memoryLog().log, probeMs: 60000 });
    await down.start();
    down.attempt(attemptRecord({ serverId: 'dialer1', uniqueid: '1809.101', runId: 'new-run', verdict: 'stop', dialStatus: 'NOANSWER', sipCode: 180, pddMs: 1840, ringtimeMs: 1840, progresstimeMs: null }));
    await down.close();
    const spooled = JSON.parse(readFileSync(join(dir, 'spool.jsonl'), 'utf8').trim()) as { r: Record<string, unknown> };
    assert.deepEqual([spooled.r['pddMs'], spooled.r['ringtimeMs'], spooled.r['progresstimeMs']], [1840, 1840, null], 'the spool line carries the timers');
    // ...and one left by the previous version, whose records have no pddMs/ringtimeMs/progresstimeMs members at all
    const old = attemptRecord({ serverId: 'dialer1', uniqueid: '1809.100', runId: 'old-run' }) as unknown as Record<string, unknown>;
    for (const k of ['pddMs', 'ringtimeMs', 'progresstimeMs']) assert.equal(k in old, false, `the fixture record has no ${k}`);
    appendFileSync(join(dir, 'spool.jsonl'), JSON.stringify({ t: 'a', r: old }) + '\n');
    const s = createRecordStore({ db: t.db, store: { ...STORE, spoolDir: dir }, serverId: 'd1', log: memoryLog().log });
    await s.start();
    await s.replayed();
    await s.close();
    const replayed = await t.query<Record<string, unknown>>("SELECT uniqueid, pdd_ms, ringtime_ms, progresstime_ms FROM carrier_attempt WHERE uniqueid LIKE '1809.10_' ORDER BY uniqueid");
    assert.deepEqual(replayed, [
      { uniqueid: '1809.100', pdd_ms: null, ringtime_ms: null, progresstime_ms: null },
      { uniqueid: '1809.101', pdd_ms: 1840, ringtime_ms: 1840, progresstime_ms: null },
    ]);
  });
});

describe('migration 006 (prefix_group) on a database of schema 5 with rows, and an old spool', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => t.drop());

  test('schema-5 rows get prefix_group NULL; spooled records with and without prefixGroup replay', async () => {
    await t.query('CREATE TABLE schema_version (version INT UNSIGNED NOT NULL PRIMARY KEY, name VARCHAR(128) NOT NULL, applied_at DATETIME(3) NOT NULL)');
    for (const m of loadMigrations().filter((x) => x.version <= 5)) {
      for (const st of m.statements) await t.query(st);
      await t.query('INSERT INTO schema_version VALUES (?, ?, UTC_TIMESTAMP(3))', [m.version, m.name]);
    }
    await t.query("INSERT INTO carrier_attempt (server_id, uniqueid, run_id, attempt, route, strategy, carrier, dial_string, number_dialed, started_at, ended_at, ring_ms, talk_ms, verdict, reason) VALUES ('dialer1', '1810.0', 'run-5', 1, 'r', 'failover', 'primary', 'x', '1', NOW(3), NOW(3), 1, 2, 'answered', '')");
    assert.deepEqual(await migrate(t.db, memoryLog().log), { from: 5, to: latest() });
    assert.deepEqual(await t.query('SELECT prefix_group FROM carrier_attempt'), [{ prefix_group: null }]);
    const view = await t.query("SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = 'carrier_dial' AND column_name = 'prefix_group'", [t.name]);
    assert.equal(view.length, 1, 'the view shows prefix_group');

    const dir = mkdtempSync(join(tmpdir(), 'fa-sp-'));
    const down = createRecordStore({ db: { ...t.db, port: 1 }, store: { ...STORE, spoolDir: dir }, serverId: 'd1', log: memoryLog().log, probeMs: 60000 });
    await down.start();
    down.attempt(attemptRecord({ serverId: 'dialer1', uniqueid: '1810.101', runId: 'new-run', verdict: 'skipped', reason: 'ejected for prefix group uk-mobile until …', prefixGroup: 'uk-mobile' }));
    await down.close();
    const old = attemptRecord({ serverId: 'dialer1', uniqueid: '1810.100', runId: 'old-run' }) as unknown as Record<string, unknown>;
    assert.equal('prefixGroup' in old, false, 'the fixture record has no prefixGroup');
    appendFileSync(join(dir, 'spool.jsonl'), JSON.stringify({ t: 'a', r: old }) + '\n');
    const s = createRecordStore({ db: t.db, store: { ...STORE, spoolDir: dir }, serverId: 'd1', log: memoryLog().log });
    await s.start();
    await s.replayed();
    await s.close();
    const replayed = await t.query("SELECT uniqueid, prefix_group FROM carrier_attempt WHERE uniqueid LIKE '1810.10_' ORDER BY uniqueid");
    assert.deepEqual(replayed, [
      { uniqueid: '1810.100', prefix_group: null },
      { uniqueid: '1810.101', prefix_group: 'uk-mobile' },
    ]);
  });
});

describe('migration 007 (shared health per prefix group) on a database of schema 6 holding shared-health rows', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => t.drop());

  test('schema-6 rows become carrier-wide facts (prefix_group empty); a carrier then holds one row per group beside it', async () => {
    await t.query('CREATE TABLE schema_version (version INT UNSIGNED NOT NULL PRIMARY KEY, name VARCHAR(128) NOT NULL, applied_at DATETIME(3) NOT NULL)');
    for (const m of loadMigrations().filter((x) => x.version <= 6)) {
      for (const st of m.statements) await t.query(st);
      await t.query('INSERT INTO schema_version VALUES (?, ?, UTC_TIMESTAMP(3))', [m.version, m.name]);
    }
    await t.query(
      "INSERT INTO carrier_shared_health (carrier, server_id, state, until_at, learned_at, reason, version, updated_at) VALUES ('primary', 'dialer-1', 'open', UTC_TIMESTAMP(3) + INTERVAL 30 SECOND, UTC_TIMESTAMP(3), '3 carrier failures in a row', 4, UTC_TIMESTAMP(3))",
    );
    assert.deepEqual(await migrate(t.db, memoryLog().log), { from: 6, to: latest() });
    assert.deepEqual(await t.query('SELECT carrier, prefix_group, server_id, state, version FROM carrier_shared_health'), [{ carrier: 'primary', prefix_group: '', server_id: 'dialer-1', state: 'open', version: 4 }]);
    // the old row is still the carrier-wide one: a newer carrier-wide write updates it, a group write sits beside it
    await t.query("INSERT INTO carrier_shared_health (carrier, prefix_group, server_id, state, until_at, learned_at, reason, updated_at) VALUES ('primary', 'uk-mobile', 'dialer-2', 'open', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), '', UTC_TIMESTAMP(3))");
    await assert.rejects(
      t.query("INSERT INTO carrier_shared_health (carrier, server_id, state, until_at, learned_at, reason, updated_at) VALUES ('primary', 'dialer-3', 'closed', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), '', UTC_TIMESTAMP(3))"),
      /Duplicate entry/,
      'a write without prefix_group is the carrier-wide row',
    );
    const keys = await t.query("SELECT column_name FROM information_schema.key_column_usage WHERE table_schema = ? AND table_name = 'carrier_shared_health' AND constraint_name = 'PRIMARY' ORDER BY ordinal_position", [t.name]);
    assert.deepEqual(keys.map((k) => Object.values(k)[0]), ['carrier', 'prefix_group']);
  });
});

describe('migration 009 (order_reason, quality events) on a database of schema 6 with rows, and an old spool', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => t.drop());

  test('schema-6 rows get order_reason NULL; a quality event is stored; spooled records with and without orderReason replay', async () => {
    await t.query('CREATE TABLE schema_version (version INT UNSIGNED NOT NULL PRIMARY KEY, name VARCHAR(128) NOT NULL, applied_at DATETIME(3) NOT NULL)');
    for (const m of loadMigrations().filter((x) => x.version <= 6)) {
      for (const st of m.statements) await t.query(st);
      await t.query('INSERT INTO schema_version VALUES (?, ?, UTC_TIMESTAMP(3))', [m.version, m.name]);
    }
    await t.query("INSERT INTO carrier_attempt (server_id, uniqueid, run_id, attempt, route, strategy, carrier, dial_string, number_dialed, started_at, ended_at, ring_ms, talk_ms, verdict, reason) VALUES ('dialer1', '1811.0', 'run-6', 1, 'r', 'failover', 'primary', 'x', '1', NOW(3), NOW(3), 1, 2, 'answered', '')");
    await assert.rejects(t.query("INSERT INTO carrier_event (event_key, at, server_id, carrier, from_state, to_state, source, reason) VALUES ('k0', NOW(3), 'd1', 'primary', 'ok', 'demoted', 'quality', '')"), /source/, 'schema 6 has no quality source');
    assert.deepEqual(await migrate(t.db, memoryLog().log), { from: 6, to: latest() });
    assert.deepEqual(await t.query('SELECT order_reason FROM carrier_attempt'), [{ order_reason: null }]);
    const view = await t.query("SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = 'carrier_dial' AND column_name = 'order_reason'", [t.name]);
    assert.equal(view.length, 1, 'the view shows order_reason');

    const dir = mkdtempSync(join(tmpdir(), 'fa-sp-'));
    const down = createRecordStore({ db: { ...t.db, port: 1 }, store: { ...STORE, spoolDir: dir }, serverId: 'd1', log: memoryLog().log, probeMs: 60000 });
    await down.start();
    down.attempt(attemptRecord({ serverId: 'dialer1', uniqueid: '1811.101', runId: 'new-run', orderReason: 'demoted: ASR 20% of 60 vs baseline 45% of 400 (limit 23%)' }));
    down.carrierEvent({ at: Date.now(), carrier: 'primary', from: 'ok', to: 'demoted', source: 'quality', reason: 'demoted: ASR 20% of 60 vs baseline 45% of 400 (limit 23%)' });
    await down.close();
    const old = attemptRecord({ serverId: 'dialer1', uniqueid: '1811.100', runId: 'old-run' }) as unknown as Record<string, unknown>;
    assert.equal('orderReason' in old, false, 'the fixture record has no orderReason');
    appendFileSync(join(dir, 'spool.jsonl'), JSON.stringify({ t: 'a', r: old }) + '\n');
    const s = createRecordStore({ db: t.db, store: { ...STORE, spoolDir: dir }, serverId: 'd1', log: memoryLog().log });
    await s.start();
    await s.replayed();
    await s.close();
    const replayed = await t.query("SELECT uniqueid, order_reason FROM carrier_attempt WHERE uniqueid LIKE '1811.10_' ORDER BY uniqueid");
    assert.deepEqual(replayed, [
      { uniqueid: '1811.100', order_reason: null },
      { uniqueid: '1811.101', order_reason: 'demoted: ASR 20% of 60 vs baseline 45% of 400 (limit 23%)' },
    ]);
    const events = await t.query("SELECT from_state, to_state, source FROM carrier_event WHERE source = 'quality'");
    assert.deepEqual(events, [{ from_state: 'ok', to_state: 'demoted', source: 'quality' }]);
  });
});
