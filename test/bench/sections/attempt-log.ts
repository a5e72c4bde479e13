import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/log.js';
import { migrate } from '../../../src/store/migrate.js';
import { createRecordStore, type RecordStore } from '../../../src/store/record-store.js';
import { createTestDatabase } from '../../support/db.js';
import type { DbSettings } from '../../../src/store/db-config.js';
import { attemptRecord } from '../../support/records.js';
import type { BenchConfig } from '../bench-config.js';
import { summarize, type Summary } from '../report/percentiles.js';

export interface WriterThroughput {
  readonly rows: number;
  readonly rowsInDb: number;
  readonly seconds: number;
  readonly rowsPerSec: number;
  readonly spooled: number;
  readonly writeErrors: number;
}

export interface AttemptLogResult {
  readonly writer: WriterThroughput;
  readonly latencyUpUs: Summary;
  readonly latencyDownUs: Summary;
  readonly downSpooled: number;
}

export type AttemptLogOutcome = { readonly skipped: string } | AttemptLogResult;

/** Bounds the enqueue side: past this the store spools to disk by design, and the figure would be the spool's. */
const BACKLOG = 10_000;
/** Call-path pacing for the latency runs: 20 records per 10 ms tick, about 2,000 attempts/s. */
const PER_TICK = 20;

const silent = createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, cb) => cb() }));
const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let serial = 0;

function openStore(db: DbSettings, spoolDir: string): RecordStore {
  const { settings } = loadConfig({ file: null, env: {}, overrides: { 'store.spoolDir': spoolDir } });
  return createRecordStore({ db, store: settings.store, serverId: 'bench', log: silent, probeMs: 1000 });
}

async function writerThroughput(db: DbSettings, rows: number, count: () => Promise<number>): Promise<WriterThroughput> {
  const dir = mkdtempSync(join(tmpdir(), 'fa-bench-store-'));
  const store = openStore(db, dir);
  try {
    await store.start();
    const start = performance.now();
    for (let i = 0; i < rows; i++) {
      store.attempt(attemptRecord({ uniqueid: `bench.${++serial}`, attempt: 1 }));
      if (i % 1000 === 999) {
        await new Promise((r) => setImmediate(r));
        while (store.stats().queued > BACKLOG) await tick(1);
      }
    }
    await store.flushAll();
    const seconds = (performance.now() - start) / 1000;
    const s = store.stats();
    return { rows, rowsInDb: await count(), seconds, rowsPerSec: rows / seconds, spooled: s.spooledRecords, writeErrors: s.writeErrors };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** µs each store.attempt() takes on the call path, paced like live traffic. */
async function enqueueLatency(db: DbSettings, samples: number): Promise<{ us: Summary; spooled: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'fa-bench-store-'));
  const store = openStore(db, dir);
  try {
    await store.start();
    const us: number[] = [];
    while (us.length < samples) {
      for (let i = 0; i < PER_TICK && us.length < samples; i++) {
        const r = attemptRecord({ uniqueid: `lat.${++serial}`, attempt: 1 });
        const t0 = process.hrtime.bigint();
        store.attempt(r);
        us.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
      await tick(10);
    }
    await store.flushAll();
    return { us: summarize(us), spooled: store.stats().spooledRecords };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchAttemptLog(cfg: BenchConfig): Promise<AttemptLogOutcome> {
  let tdb;
  try {
    tdb = await createTestDatabase();
  } catch (err) {
    return { skipped: `MariaDB/MySQL not answering (${(err as Error).message}); start it, or set MYSQL_URL` };
  }
  try {
    await migrate(tdb.db, silent);
    const t = tdb;
    const count = async (): Promise<number> => Number((await t.query<{ n: number }>('SELECT COUNT(*) AS n FROM carrier_attempt'))[0]?.n ?? 0);
    const writer = await writerThroughput(tdb.db, cfg.attemptRows, count);
    const up = await enqueueLatency(tdb.db, cfg.latencySamples);
    // port 1 on loopback refuses at once: the store goes down and spools, as when MariaDB is stopped
    const down = await enqueueLatency({ ...tdb.db, port: 1 }, cfg.latencySamples);
    return { writer, latencyUpUs: up.us, latencyDownUs: down.us, downSpooled: down.spooled };
  } finally {
    await tdb.drop();
  }
}
