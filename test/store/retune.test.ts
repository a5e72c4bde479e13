import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { migrate } from '../../src/store/migrate.js';
import { createRecordStore } from '../../src/store/record-store.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { memoryLog } from '../support/daemon.js';
import { attemptRecord } from '../support/records.js';
import { until } from '../support/until.js';

describe('attempt log retune on reload', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
    await migrate(t.db, memoryLog().log);
  });
  after(async () => t.drop());

  test('store.flushRows lowered: the next record is written at once instead of after the old flushMs', async () => {
    const store = { spoolDir: mkdtempSync(join(tmpdir(), 'fa-retune-')), flushRows: 500, flushMs: 3_600_000, queueLimit: 100000, spoolMaxBytes: 1 << 30, fsyncMs: 1000 };
    const s = createRecordStore({ db: t.db, store, serverId: 'd1', log: memoryLog().log });
    await s.start();
    try {
      for (let i = 0; i < 3; i++) s.attempt(attemptRecord({ uniqueid: `1797.${i}`, attempt: 1 }));
      assert.equal(s.stats().queued, 3, 'an hour\'s flushMs and 500 rows per batch: they wait');
      s.retune({ ...store, flushRows: 2, spoolDir: '/elsewhere' });
      s.attempt(attemptRecord({ uniqueid: '1797.3', attempt: 1 }));
      await until(async () => Number((await t.query<{ n: number }>('SELECT COUNT(*) AS n FROM carrier_attempt'))[0]?.n) === 4);
    } finally {
      await s.close();
    }
  });
});
