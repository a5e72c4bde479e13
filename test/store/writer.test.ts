import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { migrate } from '../../src/store/migrate.js';
import { createRecordStore, type RecordStore } from '../../src/store/record-store.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { memoryLog } from '../support/daemon.js';
import { attemptRecord, carrierEvent } from '../support/records.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { until } from '../support/until.js';

const STORE = { flushRows: 200, flushMs: 20, queueLimit: 100000, spoolMaxBytes: 1 << 30, fsyncMs: 50 };
const spoolDir = (): string => mkdtempSync(join(tmpdir(), 'fa-spool-'));


describe('the attempt-log writer against a real MariaDB', () => {
  let t: TestDatabase;
  const count = async (table = 'carrier_attempt'): Promise<number> => Number((await t.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))[0]?.n);
  before(async () => {
    t = await createTestDatabase();
    await migrate(t.db, memoryLog().log);
  });
  after(async () => t.drop());

  test('records are written as multi-row batches; a replayed record is never doubled', async () => {
    await t.query('DELETE FROM carrier_attempt');
    const s = createRecordStore({ db: t.db, store: { ...STORE, spoolDir: spoolDir() }, serverId: 'd1', log: memoryLog().log });
    await s.start();
    for (let i = 0; i < 1234; i++) s.attempt(attemptRecord({ uniqueid: `1795.${i}`, attempt: 1 }));
    for (let i = 0; i < 1234; i += 2) s.attempt(attemptRecord({ uniqueid: `1795.${i}`, attempt: 1 }));
    s.carrierEvent(carrierEvent());
    await s.close();
    assert.equal(await count(), 1234);
    assert.equal(await count('carrier_event'), 1);
    const [row] = await t.query<Record<string, unknown>>("SELECT * FROM carrier_attempt WHERE uniqueid = '1795.7'");
    assert.equal(row?.['sip_code'], 503);
    assert.equal(row?.['verdict'], 'next');
    assert.equal(row?.['lead_id'], 12345);
    assert.ok(row?.['started_at'] instanceof Date);
  });

  test('outage: the database goes away under traffic and comes back; every record lands once; enqueueing never waits', async () => {
    await t.query('DELETE FROM carrier_attempt');
    await t.query('DELETE FROM carrier_event');
    const proxy = new TcpProxy(t.db.host, t.db.port);
    const port = await proxy.start();
    const { log, lines } = memoryLog();
    const s: RecordStore = createRecordStore({ db: { ...t.db, port }, store: { ...STORE, spoolDir: spoolDir() }, serverId: 'd1', log, probeMs: 100 });
    await s.start();
    let made = 0;
    const lat: number[] = [];
    const pump = async (ms: number): Promise<void> => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        for (let k = 0; k < 20; k++) {
          made++;
          const t0 = process.hrtime.bigint();
          const ret: unknown = s.attempt(attemptRecord({ uniqueid: `1796.${made}`, attempt: 1 }));
          lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
          assert.equal(ret, undefined, 'attempt() returns nothing to await');
        }
        if (made % 100 === 0) s.carrierEvent(carrierEvent({ reason: `e${made}` }));
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await pump(400);
    await proxy.cut();
    await pump(800);
    await until(() => s.stats().spoolBytes > 0);
    assert.equal(s.stats().dbConnected, false);
    await proxy.restore();
    await pump(400);
    await until(() => s.stats().dbConnected && s.stats().queued === 0 && s.stats().spoolBytes === 0);
    await s.close();
    await proxy.stop();
    assert.equal(await count(), made, 'rows equal attempts made');
    assert.equal(Number((await t.query<{ n: number }>('SELECT COUNT(DISTINCT uniqueid) AS n FROM carrier_attempt'))[0]?.n), made, 'no duplicates');
    assert.equal(await count('carrier_event'), Math.floor(made / 100));
    assert.ok(lines().some((l) => l['msg'] === 'attempt log: database unavailable, spooling to disk'));
    assert.ok(lines().some((l) => l['msg'] === 'attempt log: database back, spool replayed'));
    lat.sort((a, b) => a - b);
    // a loose sanity bound only (figures live in the benchmark): enqueueing is a push, never a database round trip
    assert.ok((lat[Math.floor(lat.length * 0.99)] ?? 0) < 5, `p99 enqueue ${lat[Math.floor(lat.length * 0.99)]} ms`);
  });

  test('a restart with a non-empty spool replays it at start', async () => {
    await t.query('DELETE FROM carrier_attempt');
    const dir = spoolDir();
    const down = createRecordStore({ db: { ...t.db, port: 1 }, store: { ...STORE, spoolDir: dir }, serverId: 'd1', log: memoryLog().log, probeMs: 60000 });
    await down.start();
    for (let i = 0; i < 100; i++) down.attempt(attemptRecord({ uniqueid: `1797.${i}` }));
    await down.close();
    assert.ok(existsSync(join(dir, 'spool.jsonl')));
    assert.equal(readFileSync(join(dir, 'spool.jsonl'), 'utf8').trim().split('\n').length, 100);
    const up = createRecordStore({ db: t.db, store: { ...STORE, spoolDir: dir }, serverId: 'd1', log: memoryLog().log });
    await up.start();
    // the replay runs beside the calls, never holding start() (and the AGI port) back
    await up.replayed();
    assert.equal(await count(), 100);
    assert.equal(up.stats().spoolBytes, 0);
    await up.close();
  });

  test('an over-long field is stored truncated with a log line, never dropped', async () => {
    await t.query('DELETE FROM carrier_attempt');
    const { log, lines } = memoryLog();
    const s = createRecordStore({ db: t.db, store: { ...STORE, spoolDir: spoolDir() }, serverId: 'd1', log });
    await s.start();
    s.attempt(attemptRecord({ uniqueid: '1798.1', sipReason: 'x'.repeat(300), reason: 'y'.repeat(1000) }));
    await s.close();
    const [row] = await t.query<{ sip_reason: string; reason: string }>("SELECT sip_reason, reason FROM carrier_attempt WHERE uniqueid = '1798.1'");
    assert.equal(row?.sip_reason.length, 64);
    assert.equal(row?.reason.length, 255);
    const warn = lines().find((l) => l['msg'] === 'attempt log: over-long field stored truncated');
    assert.deepEqual(warn?.['fields'], [{ field: 'sipReason', length: 300 }, { field: 'reason', length: 1000 }]);
  });

  test('a killed daemon loses nothing it enqueued: the journal is recovered at the next start, nothing doubled', async () => {
    await t.query('DELETE FROM carrier_attempt');
    await t.query('DELETE FROM carrier_event');
    const dir = spoolDir();
    // flushMs far away: the records sit in memory and in the journal only, as they would the instant before a SIGKILL
    const killed = createRecordStore({ db: t.db, store: { ...STORE, flushRows: 100000, flushMs: 600000, spoolDir: dir }, serverId: 'd1', log: memoryLog().log });
    await killed.start();
    for (let i = 0; i < 20; i++) killed.attempt(attemptRecord({ uniqueid: `1801.${i}` }));
    killed.carrierEvent(carrierEvent());
    assert.equal(killed.stats().queued, 21);
    // group commit: no write per record; the turn's 21 records go in together when the turn ends, before any reply
    // from Asterisk could be read (what a SIGKILL can lose: the records of the turn it cuts short)
    assert.equal(existsSync(join(dir, 'journal.jsonl')), false);
    await new Promise((r) => setImmediate(r));
    assert.equal(readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n').length, 21);
    assert.equal(await count(), 0);
    // never closed: its timers are abandoned like a killed process's; half of it was already written by an earlier flush
    await t.query("INSERT INTO carrier_attempt (uniqueid, attempt, server_id, route, strategy, carrier, dial_string, number_dialed, started_at, ended_at, verdict, reason) VALUES ('1801.0', 1, 'dialer1', 'r', 'failover', 'primary', 'x', '1', NOW(3), NOW(3), 'next', 'x')");
    const { log, lines } = memoryLog();
    const next = createRecordStore({ db: t.db, store: { ...STORE, spoolDir: dir }, serverId: 'd1', log });
    await next.start();
    await next.replayed();
    assert.equal(await count(), 20, 'every journaled attempt, the one already in the table not doubled');
    assert.equal(await count('carrier_event'), 1);
    assert.ok(lines().some((l) => l['msg'] === 'attempt log: journal of a killed run recovered into the spool' && l['records'] === 21));
    assert.equal(existsSync(join(dir, 'journal.jsonl')), false, 'the recovered journal is gone, so a second start cannot replay it again');
    await next.close();
    await (killed as unknown as { pool: { end(): Promise<void> } }).pool.end();
  });

  for (const exit of ['process.exit(3)', 'throw new Error("boom")']) {
    test(`an exit without close (${exit.split('(')[0]}) in the turn that made the records still journals them`, async () => {
      const dir = spoolDir();
      const store = new URL('../../src/store/record-store.js', import.meta.url).href;
      const records = new URL('../support/records.js', import.meta.url).href;
      // the database unreachable: the records wait in memory, the journal is all that holds them
      const script = `
        import { createRecordStore } from ${JSON.stringify(store)};
        import { attemptRecord } from ${JSON.stringify(records)};
        const s = createRecordStore({ db: ${JSON.stringify({ ...t.db, port: 1 })}, store: ${JSON.stringify({ ...STORE, flushMs: 600000, spoolDir: dir })}, serverId: 'd1', log: { info() {}, warn() {}, error() {} }, probeMs: 600000 });
        await s.start();
        for (let i = 0; i < 5; i++) s.attempt(attemptRecord({ uniqueid: '1805.' + i }));
        ${exit};
      `;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      assert.notEqual(r.status, 0, r.stderr);
      const journal = readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { r: { uniqueid: string } });
      assert.deepEqual(journal.map((l) => l.r.uniqueid), ['1805.0', '1805.1', '1805.2', '1805.3', '1805.4']);
    });
  }

  test('down at start, then back without our schema: an error, still spooling, nothing lost; after migrate it all lands', async () => {
    const other = `${t.name}_late`;
    await t.query(`CREATE DATABASE \`${other}\``);
    const proxy = new TcpProxy(t.db.host, t.db.port);
    const port = await proxy.start();
    await proxy.cut();
    const { log, lines } = memoryLog();
    const s = createRecordStore({ db: { ...t.db, port, database: other }, store: { ...STORE, spoolDir: spoolDir() }, serverId: 'd1', log, probeMs: 50 });
    try {
      await s.start();
      for (let i = 0; i < 10; i++) s.attempt(attemptRecord({ uniqueid: `1802.${i}` }));
      await proxy.restore();
      await until(() => lines().some((l) => l['msg'] === 'attempt log: the database answers but its schema is wrong; still spooling'));
      assert.equal(s.stats().dbConnected, false);
      await until(() => s.stats().queued === 0);
      assert.ok(s.stats().spoolBytes > 0, 'the records wait in the spool');
      await migrate({ ...t.db, database: other }, memoryLog().log);
      await until(() => s.stats().dbConnected && s.stats().spoolBytes === 0);
      const [r] = await t.query<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${other}\`.carrier_attempt`);
      assert.equal(Number(r?.n), 10);
    } finally {
      await s.close();
      await proxy.stop();
      await t.query(`DROP DATABASE IF EXISTS \`${other}\``);
    }
  });

  test('past queueLimit records go straight to the spool (bounded memory)', async () => {
    const dir = spoolDir();
    const s = createRecordStore({ db: { ...t.db, port: 1 }, store: { ...STORE, queueLimit: 50, flushMs: 60000, spoolDir: dir }, serverId: 'd1', log: memoryLog().log, probeMs: 60000 });
    await s.start();
    for (let i = 0; i < 120; i++) s.attempt(attemptRecord({ uniqueid: `1799.${i}` }));
    assert.ok(s.stats().queued < 50);
    await s.close();
    assert.equal(readFileSync(join(dir, 'spool.jsonl'), 'utf8').trim().split('\n').length, 120);
  });

  test('no database configured: records go to attempts.jsonl', async () => {
    const dir = spoolDir();
    const s = createRecordStore({ db: { ...t.db, host: '' }, store: { ...STORE, spoolDir: dir }, serverId: 'd1', log: memoryLog().log });
    await s.start();
    s.attempt(attemptRecord({ uniqueid: '1800.1' }));
    s.carrierEvent(carrierEvent());
    // one append for the turn's records, when it ends
    assert.equal(existsSync(join(dir, 'attempts.jsonl')), false);
    await new Promise((r) => setImmediate(r));
    assert.equal(readFileSync(join(dir, 'attempts.jsonl'), 'utf8').trim().split('\n').length, 2);
    s.attempt(attemptRecord({ uniqueid: '1800.2' }));
    await s.close();
    const lines = readFileSync(join(dir, 'attempts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string });
    assert.deepEqual(lines.map((l) => l.t), ['a', 'e', 'a']);
  });
});
