import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { migrate } from '../../src/store/migrate.js';
import { simulateCall } from '../sim/agi-sim.js';
import { startCliDaemon, type CliDaemon } from '../support/cli-process.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { memoryLog } from '../support/daemon.js';
import { writeSpoolFile } from '../support/spool-file.js';
import { until } from '../support/until.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const NUM = '15552345678';
const FLOW = { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer', talkMs: 20 } } as const;
/** Above V8's longest string (512 MiB): the size a whole-file read could never replay. */
const SPOOL_BYTES = 520 * 1024 * 1024;
/** The daemon's peak RSS while it replays: flat (about 140-190 MiB here, garbage included), nowhere near the spool's size. */
const RSS_LIMIT = 256 * 1024 * 1024;

function peakRss(d: CliDaemon, tc: TestContext): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${d.child.pid}/status`, 'utf8'));
  const rss = m ? Number(m[1]) * 1024 : 0;
  tc.diagnostic(`peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB replaying ${(SPOOL_BYTES / 2 ** 20).toFixed(0)} MiB`);
  return rss;
}

describe('a spool above 512 MiB, the real daemon and a real MariaDB', () => {
  let t: TestDatabase;
  const count = async (): Promise<number> => Number((await t.query<{ n: number }>('SELECT COUNT(*) AS n FROM carrier_attempt'))[0]?.n);
  before(async () => {
    t = await createTestDatabase();
    await migrate(t.db, memoryLog().log);
  });
  after(async () => t.drop());

  test('replayed after a restart: the AGI port opens at once, calls go on during the replay, every row lands, RSS stays flat', async (tc) => {
    await t.query('DELETE FROM carrier_attempt');
    // the daemon's own spool dir: start it once to get it, stop it, then leave a big spool there as a crash would
    const first = await startCliDaemon({ db: t.db });
    first.kill('SIGTERM');
    await first.exited;
    const spoolDir = join(first.dir, 'spool');
    const file = join(spoolDir, 'spool.jsonl');
    const records = writeSpoolFile(file, { bytes: SPOOL_BYTES, prefix: 'restart', lineBytes: 8192 });
    assert.ok(statSync(file).size > 512 * 1024 * 1024);
    let d: CliDaemon | null = null;
    try {
      d = await startCliDaemon({ db: t.db, store: { spoolDir } });
      const r = await simulateCall({ port: d.port, args: [NUM], uniqueid: '1803.1', carriers: FLOW });
      assert.equal(r.vars.get('FAILOVER_STATUS'), 'ANSWER', 'a call is served while the spool replays');
      const done = await d.waitFor((l) => l['msg'] === 'attempt log: database back, spool replayed', 50000);
      assert.ok(Number(done['replayed']) >= records, `replayed ${String(done['replayed'])} of ${records}`);
      // the call's own two records wait in the queue (or the spool) during the replay and land once it is done:
      // they may still be in flight when the replay's log line is written
      await until(async () => (await count()) === records + 2, 15000);
      assert.equal(await count(), records + 2);
      const rss = peakRss(d, tc);
      assert.ok(rss < RSS_LIMIT, `peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB replaying ${(SPOOL_BYTES / 2 ** 20).toFixed(0)} MiB`);
    } finally {
      d?.kill('SIGTERM');
      await d?.exited;
      rmSync(spoolDir, { recursive: true, force: true });
    }
  });

  test('replayed while running, after an outage: records spooled meanwhile land too, RSS stays flat', async (tc) => {
    await t.query('DELETE FROM carrier_attempt');
    const proxy = new TcpProxy(t.db.host, t.db.port);
    const port = await proxy.start();
    const d = await startCliDaemon({ db: { ...t.db, port } });
    const spoolDir = join(d.dir, 'spool');
    try {
      await d.waitFor((l) => l['msg'] === 'attempt log: database connected');
      await proxy.cut();
      const before = await simulateCall({ port: d.port, args: [NUM], uniqueid: '1804.1', carriers: FLOW });
      assert.equal(before.vars.get('FAILOVER_STATUS'), 'ANSWER');
      await d.waitFor((l) => l['msg'] === 'attempt log: database unavailable, spooling to disk');
      // the outage went on for long: half a gigabyte more in the spool, appended after the daemon's own lines
      const records = writeSpoolFile(join(spoolDir, 'spool.jsonl'), { bytes: SPOOL_BYTES, prefix: 'running', lineBytes: 8192 });
      await proxy.restore();
      const during = await simulateCall({ port: d.port, args: [NUM], uniqueid: '1804.2', carriers: FLOW });
      assert.equal(during.vars.get('FAILOVER_STATUS'), 'ANSWER');
      await d.waitFor((l) => l['msg'] === 'attempt log: database back, spool replayed', 50000);
      // the call during the replay may be in the spool's live file: wait until the writer has taken it too
      const want = records + 4;
      for (let i = 0; i < 100 && (await count()) < want; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await count(), want);
      const rss = peakRss(d, tc);
      assert.ok(rss < RSS_LIMIT, `peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB replaying ${(SPOOL_BYTES / 2 ** 20).toFixed(0)} MiB`);
    } finally {
      d.kill('SIGTERM');
      await d.exited;
      await proxy.stop();
      rmSync(spoolDir, { recursive: true, force: true });
    }
  });
});
