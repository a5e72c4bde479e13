import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRecordStore } from '../../src/store/record-store.js';
import { loadMigrations, migrate, SchemaError } from '../../src/store/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { memoryLog } from '../support/daemon.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
    assert.deepEqual(first, { from: 0, to: loadMigrations().length });
    const tables = (await t.query<{ t: string }>('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY 1', [t.name])).map((r) => r.t);
    assert.deepEqual(tables, ['carrier_attempt', 'carrier_dial', 'carrier_event', 'schema_version']);
    const engines = await t.query<{ e: string }>("SELECT DISTINCT engine AS e FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'", [t.name]);
    assert.deepEqual(engines.map((r) => r.e), ['InnoDB']);
    const again = await migrate(t.db, log);
    assert.equal(again.from, again.to);
    assert.equal((await t.query('SELECT * FROM schema_version')).length, loadMigrations().length);
  });

  test('a newer schema is refused by migrate and by the writer at start', async () => {
    await t.query("INSERT INTO schema_version (version, name, applied_at) VALUES (999, '999_future.sql', UTC_TIMESTAMP(3))");
    await assert.rejects(migrate(t.db, memoryLog().log), /schema version 999, newer than this failover-agi knows/);
    const s = createRecordStore({ db: t.db, store: { ...STORE, spoolDir: mkdtempSync(join(tmpdir(), 'fa-sp-')) }, serverId: 'd1', log: memoryLog().log });
    await assert.rejects(s.start(), /newer than this failover-agi knows/);
    await t.query('DELETE FROM schema_version WHERE version = 999');
  });
});
