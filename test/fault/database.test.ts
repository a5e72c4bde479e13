import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { migrate } from '../../src/store/migrate.js';
import { simulateCall, type SimCallResult } from '../sim/agi-sim.js';
import { startCliDaemon } from '../support/cli-process.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { memoryLog } from '../support/daemon.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { until } from '../support/until.js';

const NUM = '15552345678';
// primary 503 then secondary answers: two attempt rows per call
const FLOW = { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer', talkMs: 20 } } as const;

describe('the real daemon and a real MariaDB under faults', () => {
  let t: TestDatabase;
  const rows = async (): Promise<{ n: number; distinct: number }> => {
    const [r] = await t.query<{ n: number; d: number }>("SELECT COUNT(*) AS n, COUNT(DISTINCT CONCAT(uniqueid, '/', attempt)) AS d FROM carrier_attempt");
    return { n: Number(r?.n), distinct: Number(r?.d) };
  };
  before(async () => {
    t = await createTestDatabase();
    await migrate(t.db, memoryLog().log);
  });
  after(async () => t.drop());

  test('a database without our schema: the daemon refuses to start with a clear error, exit 1', async () => {
    await t.query('CREATE DATABASE IF NOT EXISTS `' + t.name + '_empty`');
    try {
      await assert.rejects(startCliDaemon({ db: { ...t.db, database: `${t.name}_empty` } }), /exited with 1: failover-agi: cannot start: database \S+_empty has no failover-agi schema: run "failover-agi migrate"/);
    } finally {
      await t.query('DROP DATABASE IF EXISTS `' + t.name + '_empty`');
    }
  });

  test('the database down at start: the daemon starts anyway, spools, and writes everything once it answers', async () => {
    await t.query('DELETE FROM carrier_attempt');
    const proxy = new TcpProxy(t.db.host, t.db.port);
    const port = await proxy.start();
    await proxy.cut();
    const d = await startCliDaemon({ db: { ...t.db, port } });
    try {
      await d.waitFor((l) => l['msg'] === 'attempt log: database unavailable, spooling to disk');
      const r = await simulateCall({ port: d.port, args: [NUM], uniqueid: '17960.5', carriers: FLOW });
      assert.equal(r.vars.get('FAILOVER_STATUS'), 'ANSWER');
      await proxy.restore();
      await until(async () => (await rows()).n === 2);
    } finally {
      d.kill('SIGTERM');
      await d.exited;
      await proxy.stop();
    }
  });

  test('SIGTERM under load: every call finishes and every attempt row is in the database before exit', async () => {
    await t.query('DELETE FROM carrier_attempt');
    // a flush interval longer than the test: only the shutdown flush can have written the rows
    const d = await startCliDaemon({ db: t.db, store: { flushMs: 60000, flushRows: 100000 }, shutdown: { grace: 10000 } });
    await d.waitFor((l) => l['msg'] === 'attempt log: database connected');
    const calls = Array.from({ length: 20 }, (_, i) =>
      simulateCall({ port: d.port, args: [NUM], uniqueid: `1797${i}.1`, carriers: { ...FLOW, 'carrier-b': { kind: 'answer', talkMs: 800 } } }),
    );
    await new Promise((r) => setTimeout(r, 300));
    d.kill('SIGTERM');
    const results = await Promise.all(calls);
    assert.ok(results.every((r) => r.vars.get('FAILOVER_STATUS') === 'ANSWER'));
    assert.equal(await d.exited, 0);
    assert.deepEqual(await rows(), { n: 40, distinct: 40 });
  });

  test('database cut and restored during traffic: rows equal attempts made, no duplicates, calls unaffected', async () => {
    await t.query('DELETE FROM carrier_attempt');
    const proxy = new TcpProxy(t.db.host, t.db.port);
    const port = await proxy.start();
    const d = await startCliDaemon({ db: { ...t.db, port }, store: { flushMs: 20 } });
    try {
      await d.waitFor((l) => l['msg'] === 'attempt log: database connected');
      const results: SimCallResult[] = [];
      let seq = 0;
      let stop = false;
      const worker = async (): Promise<void> => {
        while (!stop) results.push(await simulateCall({ port: d.port, args: [NUM], uniqueid: `1798${seq++}.2`, carriers: FLOW }));
      };
      const workers = Array.from({ length: 8 }, () => worker());
      await new Promise((r) => setTimeout(r, 700));
      await proxy.cut();
      await d.waitFor((l) => l['msg'] === 'attempt log: database unavailable, spooling to disk');
      await new Promise((r) => setTimeout(r, 1000));
      await proxy.restore();
      await d.waitFor((l) => l['msg'] === 'attempt log: database back, spool replayed');
      await new Promise((r) => setTimeout(r, 500));
      stop = true;
      await Promise.all(workers);
      assert.ok(results.length > 40, `enough traffic (${results.length} calls)`);
      assert.ok(results.every((r) => r.vars.get('FAILOVER_STATUS') === 'ANSWER'), 'every call was answered through the outage');
      const made = results.length * 2;
      await until(async () => (await rows()).n >= made);
      assert.deepEqual(await rows(), { n: made, distinct: made });
    } finally {
      d.kill('SIGTERM');
      await d.exited;
      await proxy.stop();
    }
  });

  test('SIGKILL during traffic, then a restart: every attempt of every finished call is in the database, none doubled', async () => {
    await t.query('DELETE FROM carrier_attempt');
    const spoolDir = join(mkdtempSync(join(tmpdir(), 'fa-kill-')), 'spool');
    // records sit in memory and in the journal only: the write-ahead journal is all that can save them
    const config = { db: t.db, store: { spoolDir, flushMs: 60000, flushRows: 100000 } };
    const d = await startCliDaemon(config);
    await d.waitFor((l) => l['msg'] === 'attempt log: database connected');
    const finished: SimCallResult[] = [];
    const inFlight = Array.from({ length: 30 }, (_, i) =>
      simulateCall({ port: d.port, args: [NUM], uniqueid: `1799${i}.3`, carriers: { ...FLOW, 'carrier-b': { kind: 'answer', talkMs: i < 20 ? 10 : 5000 } } }).then(
        (r) => (finished.push(r), r),
        () => null,
      ),
    );
    await until(async () => finished.length >= 20);
    d.kill('SIGKILL');
    await d.exited;
    await Promise.all(inFlight);
    assert.equal((await rows()).n, 0, 'nothing had been flushed before the kill');
    const again = await startCliDaemon(config);
    try {
      // the replay runs after start (the AGI port never waits for it): its end line says the rows are in
      await again.waitFor((l) => l['msg'] === 'attempt log: database back, spool replayed');
      const have = await t.query<{ uniqueid: string; attempt: number }>('SELECT uniqueid, attempt FROM carrier_attempt');
      const keys = new Set(have.map((r) => `${r.uniqueid}/${r.attempt}`));
      const done = finished.filter((r) => r.vars.get('FAILOVER_STATUS') === 'ANSWER');
      assert.ok(done.length >= 20);
      for (let i = 0; i < 20; i++) for (const a of [1, 2]) assert.ok(keys.has(`1799${i}.3/${a}`), `attempt ${a} of finished call ${i} recovered`);
      const r = await rows();
      assert.equal(r.n, r.distinct, 'no row doubled');
      // the ten calls still talking when the kill came had their 503 attempt recorded; their answered attempt never ended
      assert.equal(r.n, 20 * 2 + 10);
      assert.ok(again.lines.some((l) => l['msg'] === 'attempt log: journal of a killed run recovered into the spool' && Number(l['records']) >= 50));
    } finally {
      again.kill('SIGTERM');
      await again.exited;
    }
  });

  test('two AGI runs on one channel (same agi_uniqueid): both runs keep their rows', async () => {
    await t.query('DELETE FROM carrier_attempt');
    const d = await startCliDaemon({ db: t.db, store: { flushMs: 20 } });
    try {
      await d.waitFor((l) => l['msg'] === 'attempt log: database connected');
      // ../shared/asterisk/captures/multi/two_agi_runs_same_channel.txt: the second AGI() on the channel sends the
      // same agi_uniqueid and inherits the first run's channel variables
      const one = await simulateCall({ port: d.port, args: [NUM], uniqueid: '1805.7', carriers: FLOW });
      const two = await simulateCall({ port: d.port, args: [NUM], uniqueid: '1805.7', carriers: FLOW, initialVars: Object.fromEntries(one.vars) });
      assert.equal(two.vars.get('FAILOVER_STATUS'), 'ANSWER');
      await until(async () => (await rows()).n === 4);
      const have = await t.query<{ run_id: string; attempt: number; carrier: string }>("SELECT run_id, attempt, carrier FROM carrier_attempt WHERE uniqueid = '1805.7' ORDER BY id");
      assert.equal(new Set(have.map((r) => r.run_id)).size, 2, 'two runs, two run ids');
      assert.deepEqual(have.map((r) => r.attempt), [1, 2, 1, 2]);
      assert.ok(have.every((r) => /^[0-9a-f-]{36}$/.test(r.run_id)));
    } finally {
      d.kill('SIGTERM');
      await d.exited;
    }
  });

  test('a lead id above INT UNSIGNED is stored as NULL with a log line, never clamped', async () => {
    await t.query('DELETE FROM carrier_attempt');
    const d = await startCliDaemon({ db: t.db, store: { flushMs: 20 } });
    try {
      await d.waitFor((l) => l['msg'] === 'attempt log: database connected');
      // a VICIdial caller code whose last ten digits (the lead id) exceed 4294967295
      const r = await simulateCall({ port: d.port, args: [NUM], uniqueid: '1806.1', callerIdName: 'V1124183009999999999', carriers: FLOW });
      assert.equal(r.vars.get('FAILOVER_STATUS'), 'ANSWER');
      await until(async () => (await rows()).n === 2);
      const have = await t.query<{ lead_id: number | null; caller_code: string }>("SELECT lead_id, caller_code FROM carrier_attempt WHERE uniqueid = '1806.1'");
      assert.deepEqual(have.map((h) => h.lead_id), [null, null]);
      assert.equal(have[0]?.caller_code, 'V1124183009999999999', 'the caller code keeps the real value');
      const warn = await d.waitFor((l) => l['msg'] === 'attempt log: value out of its column range stored as NULL');
      assert.deepEqual(warn['fields'], [{ field: 'leadId', value: 9999999999 }]);
    } finally {
      d.kill('SIGTERM');
      await d.exited;
    }
  });
});
