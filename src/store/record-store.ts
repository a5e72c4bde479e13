import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { AttemptRecord } from '../calls/records.js';
import { systemClock, type Clock } from '../clock.js';
import type { DaemonSettings } from '../config/schema.js';
import type { CarrierEvent } from '../health/types.js';
import type { Logger } from '../log.js';
import type { AttemptLog } from '../service.js';
import { poolOptions, type DbSettings } from './db-config.js';
import { checkSchema, SchemaError } from './migrate.js';
import { ATTEMPT_COLUMNS, attemptRow, EVENT_COLUMNS, eventRow, type OutOfRange, type StoreItem, type Truncation } from './rows.js';
import { Spool } from './spool.js';

export interface RecordStoreOptions {
  readonly db: DbSettings;
  readonly store: DaemonSettings['store'];
  readonly serverId: string;
  readonly log: Logger;
  readonly clock?: Clock;
  /** ms between "is the database back?" probes while it is down. */
  readonly probeMs?: number;
}

export interface RecordStoreStats {
  queued: number;
  spoolBytes: number;
  spooledRecords: number;
  written: number;
  replayed: number;
  writeErrors: number;
  truncated: number;
  dbConnected: boolean;
  /** Records that could not be kept, by why (see DropReason): what failover_agi_records_dropped_total counts. */
  dropped: Record<DropReason, number>;
}

/**
 * disk: memory full (store.queueLimit) while neither the database nor the spool takes records;
 * refused: the database refused the row itself (a value no column can hold), so retrying could never succeed;
 * unreadable: a spool line cut short by a crash mid-write.
 */
export type DropReason = 'disk' | 'refused' | 'unreadable';

interface CallbackConnection {
  query(sql: string, cb: (err: Error | null) => void): void;
}
const STRICT_SQL_MODE = "SET SESSION sql_mode = IF(@@SESSION.sql_mode = '', 'STRICT_ALL_TABLES', CONCAT(@@SESSION.sql_mode, ',STRICT_ALL_TABLES'))";

/** ms the store leaves the disk alone after it refused a write: a broken disk costs the call path nothing. */
const DISK_RETRY_MS = 1000;
/** MariaDB/MySQL errors about a row's data (SQLSTATE class 22, NOT NULL): the same row would fail every time. */
const isDataError = (err: unknown): boolean => {
  const e = err as { sqlState?: string; errno?: number };
  return typeof e.sqlState === 'string' && (e.sqlState.startsWith('22') || e.errno === 1048 || e.errno === 1265 || e.errno === 1366);
};

type State = 'none' | 'up' | 'down' | 'replaying';

/**
 * The attempt log writer. The call path only enqueues (never awaits); batches go to MySQL as multi-row
 * INSERTs (a row whose key is already in is skipped, ON DUPLICATE KEY, so nothing is doubled and no error is hidden),
 * or to the spool while the database is away; the spool is replayed in bounded batches when it is back. Memory
 * is bounded by store.queueLimit (+ one batch); what can be kept nowhere is dropped, counted and logged.
 */
export class RecordStore implements AttemptLog {
  private queue: StoreItem[] = [];
  private state: State = 'none';
  private pool: mysql.Pool | null = null;
  private readonly spool: Spool;
  private readonly jsonl: Spool;
  /** Every record as it is enqueued, emptied once the database or the spool holds them all: what a SIGKILL leaves. */
  private readonly journal: Spool;
  private noDatabase = false;
  private schemaChecked = false;
  private schemaErrorLogged = '';
  private lastJournalError = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  /** The end of this event-loop turn is booked: the journal's group commit, and the JSONL file's without a database. */
  private turnBooked = false;
  private probeTimer: NodeJS.Timeout | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;
  private spoolWarned = false;
  private lastSpoolError = 0;
  private replaying: Promise<void> | null = null;
  /** Until then the disk is not asked again (it refused a write). */
  private diskRetryAt = 0;
  private lastDropLog = 0;
  private droppedSinceLog = 0;
  private readonly s: RecordStoreStats = {
    queued: 0, spoolBytes: 0, spooledRecords: 0, written: 0, replayed: 0, writeErrors: 0, truncated: 0, dbConnected: false,
    dropped: { disk: 0, refused: 0, unreadable: 0 },
  };

  constructor(private o: RecordStoreOptions) {
    this.spool = new Spool(o.store.spoolDir, 'spool.jsonl');
    this.jsonl = new Spool(o.store.spoolDir, 'attempts.jsonl');
    this.journal = new Spool(o.store.spoolDir, 'journal.jsonl');
  }

  private get clock(): Clock {
    return this.o.clock ?? systemClock;
  }

  attempt(r: AttemptRecord): void {
    this.enqueue({ t: 'a', r });
  }

  carrierEvent(e: CarrierEvent): void {
    this.enqueue({ t: 'e', r: { ...e, key: randomUUID(), serverId: this.o.serverId } });
  }

  stats(): RecordStoreStats {
    return { ...this.s, dropped: { ...this.s.dropped }, queued: this.queue.length, spoolBytes: this.spool.size, dbConnected: this.state === 'up' };
  }

  /**
   * Config reload: batch size, flush delay, memory bound, spool limit and fsync period for what comes next.
   * The spool directory stays (its files are open); records already queued are written as they would have been.
   */
  retune(store: DaemonSettings['store']): void {
    const fsyncChanged = store.fsyncMs !== this.o.store.fsyncMs;
    this.o = { ...this.o, store: { ...store, spoolDir: this.o.store.spoolDir } };
    if (fsyncChanged && this.syncTimer && !this.closed) this.armSync();
  }

  private armSync(): void {
    if (this.syncTimer) clearInterval(this.syncTimer);
    this.syncTimer = setInterval(() => this.syncSpools(), Math.max(10, this.o.store.fsyncMs));
    this.syncTimer.unref();
  }

  async start(): Promise<void> {
    this.armSync();
    // an exit without close() (process.exit, an uncaught error) still writes what this turn deferred
    process.once('exit', this.onExit);
    // a journal left behind means the last run was killed: its records join the spool (replay skips rows already in)
    let recovered = 0;
    try {
      recovered = this.spool.absorb(this.journal);
    } catch (err) {
      // a full or broken disk must not keep the daemon (and its AGI port) down: the journal stays for the next start
      this.o.log.error({ err: (err as Error).message, file: this.journal.path }, 'attempt log: journal of a killed run could not be recovered now; it is kept for the next start');
    }
    if (recovered > 0) this.o.log.warn({ records: recovered }, 'attempt log: journal of a killed run recovered into the spool');
    if (this.o.db.host === '') {
      this.state = 'none';
      this.noDatabase = true;
      this.o.log.warn({ file: this.jsonl.path }, 'no database configured (db.host empty): attempt records go to a JSONL file');
      if (this.spool.hasPending()) this.o.log.warn({ spoolBytes: this.spool.size, file: this.spool.path }, 'attempt log: the spool holds records waiting for a database');
      return;
    }
    this.pool = mysql.createPool(poolOptions(this.o.db));
    // strict on every connection, whatever the server's default: a value that does not fit is an error, never clamped
    // (the event hands over the callback-style connection, whatever the typings say)
    this.pool.on('connection', (conn) => {
      (conn as unknown as CallbackConnection).query(STRICT_SQL_MODE, (err) => {
        if (err) this.o.log.warn({ err: err.message }, 'attempt log: could not set a strict sql_mode');
      });
    });
    try {
      await checkSchema(this.pool, this.o.db.database);
    } catch (err) {
      if (err instanceof SchemaError) {
        await this.pool.end().catch(() => undefined);
        this.pool = null;
        throw err;
      }
      this.goDown(err);
      return;
    }
    this.schemaChecked = true;
    this.state = 'up';
    this.o.log.info({ host: this.o.db.host, database: this.o.db.database }, 'attempt log: database connected');
    // the replay runs beside the calls: a big spool must never hold the AGI port shut
    if (this.spool.hasPending()) void this.startReplay();
  }

  /** Resolves when no spool replay is running (tests, benchmarks). */
  async replayed(): Promise<void> {
    while (this.replaying) await this.replaying;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of [this.flushTimer, this.probeTimer, this.syncTimer]) if (t) clearTimeout(t);
    await this.flushing;
    await this.replaying;
    await this.flushAll();
    if (this.queue.length > 0) {
      // neither the database nor the disk took them, and the process is going
      this.drop(this.queue.length, 'disk');
      this.queue = [];
      this.logDrops(true);
    }
    this.writeJournal();
    process.off('exit', this.onExit);
    this.spool.close();
    this.jsonl.close();
    this.journal.close();
    await this.pool?.end().catch(() => undefined);
    this.o.log.info({ ...this.stats() }, 'attempt log closed');
  }

  /** Writes everything queued now; the tests and close() use it. */
  async flushAll(): Promise<void> {
    while (this.queue.length > 0) {
      await this.flushing;
      const taken = this.s.written + this.s.spooledRecords + this.s.dropped.refused;
      await this.flush();
      // nothing taken (the disk refuses and the database is away): stop rather than spin
      if (this.s.written + this.s.spooledRecords + this.s.dropped.refused === taken) return;
    }
  }

  /**
   * The call path: O(1) whatever the database and the disk do, and no file write per record. The journal (and,
   * without a database, the JSONL file) is written once at the end of this event-loop turn for every record the
   * turn made (group commit): before the daemon reads another reply from Asterisk, so no call can be past its next
   * command with its record unwritten. At most one batch (store.flushRows) is written here, when memory is full,
   * and not at all for a second after the disk refused a write.
   */
  private enqueue(item: StoreItem): void {
    if (!this.noDatabase && this.diskReady()) {
      this.journal.defer(item);
      this.bookTurnEnd();
    }
    if (this.queue.length >= this.o.store.queueLimit && !this.spillOldest()) {
      this.drop(1, 'disk');
      return;
    }
    this.queue.push(item);
    if (this.noDatabase) this.bookTurnEnd();
    else if (this.closed) return;
    else if (this.queue.length >= this.o.store.flushRows) this.schedule(0);
    else if (!this.flushTimer) this.schedule(this.o.store.flushMs);
  }

  private bookTurnEnd(): void {
    if (this.turnBooked) return;
    this.turnBooked = true;
    // the check phase, right after this turn's I/O callbacks and before the next poll for replies
    setImmediate(() => {
      this.turnBooked = false;
      this.writeJournal();
      // without a database the JSONL file is the store: this turn's records in one append (a refusing disk has its retry timer)
      if (this.noDatabase && this.queue.length > 0 && this.diskReady()) void this.flush();
    });
  }

  private readonly onExit = (): void => {
    this.writeJournal();
    if (this.noDatabase && this.queue.length > 0 && this.diskReady() && this.toFile(this.jsonl, this.queue)) this.queue = [];
  };

  private schedule(ms: number): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flush();
    }, ms);
    // close() flushes what is queued, so a pending flush must not by itself keep a finished process alive
    this.flushTimer.unref();
  }

  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    // .finally runs as a microtask, after the assignment, even when drain() finishes without awaiting
    const p = this.drain().finally(() => {
      if (this.flushing === p) this.flushing = null;
    });
    this.flushing = p;
    return p;
  }

  /** Memory is full: the oldest batch goes to disk (the spool, or the JSONL file without a database). */
  private spillOldest(): boolean {
    if (!this.diskReady()) return false;
    const batch = this.queue.slice(0, this.o.store.flushRows);
    const kept = this.noDatabase ? this.toFile(this.jsonl, batch) : this.toSpool(batch, 'queue limit reached');
    if (kept) this.queue.splice(0, batch.length);
    return kept;
  }

  private diskReady(): boolean {
    return this.clock.now() >= this.diskRetryAt;
  }

  private drop(n: number, why: DropReason): void {
    this.s.dropped[why] += n;
    this.droppedSinceLog += n;
    this.logDrops(false);
  }

  private logDrops(now: boolean): void {
    const t = this.clock.now();
    if (this.droppedSinceLog === 0 || (!now && t - this.lastDropLog < 10_000)) return;
    this.lastDropLog = t;
    this.o.log.error(
      { records: this.droppedSinceLog, dropped: { ...this.s.dropped }, queued: this.queue.length, queueLimit: this.o.store.queueLimit, file: this.spool.path },
      'attempt log: RECORDS DROPPED: memory is full and neither the database nor the spool takes records',
    );
    this.droppedSinceLog = 0;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.o.store.flushRows);
      let kept = true;
      if (this.state === 'none') kept = this.diskReady() && this.toFile(this.jsonl, batch);
      else if (this.state !== 'up') kept = this.diskReady() && this.toSpool(batch, 'database down');
      else {
        try {
          await this.insert(batch);
          this.s.written += batch.length;
        } catch (err) {
          this.s.writeErrors++;
          kept = this.diskReady() && this.toSpool(batch, 'write failed');
          this.goDown(err);
        }
      }
      if (!kept) {
        // the disk refused: the batch goes back to the front (concat: no argument-count limit); retry in a second
        this.queue = batch.concat(this.queue);
        if (!this.closed) this.schedule(DISK_RETRY_MS);
        return;
      }
    }
    this.logDrops(true);
    // nothing queued, nothing in flight: every journaled record is in the database or the spool
    this.truncateJournal();
    // records spooled while the database was up (memory full under a slow database) go in once it keeps up
    if (this.state === 'up' && !this.closed && this.spool.hasPending()) setImmediate(() => void this.startReplay());
  }

  /** The journal's group commit: every record deferred this turn in one append. */
  private writeJournal(): void {
    try {
      this.journal.writeDeferred();
    } catch (err) {
      const now = this.clock.now();
      if (now - this.lastJournalError > 60_000) {
        this.lastJournalError = now;
        this.o.log.error({ err: (err as Error).message, file: this.journal.path }, 'attempt log: journal write failed; a SIGKILL now would lose queued records');
      }
    }
  }

  private truncateJournal(): void {
    // what the journal still defers is in the database or the spool already: no need to write it at all
    this.journal.dropDeferred();
    try {
      this.journal.truncate();
    } catch (err) {
      this.o.log.error({ err: (err as Error).message, file: this.journal.path }, 'attempt log: journal truncate failed');
    }
  }

  private async insert(batch: readonly StoreItem[]): Promise<void> {
    const truncated: { item: StoreItem; cuts: Truncation[] }[] = [];
    const unfit: { item: StoreItem; fields: OutOfRange[] }[] = [];
    const attempts: { item: StoreItem; row: unknown[] }[] = [];
    const events: { item: StoreItem; row: unknown[] }[] = [];
    for (const item of batch) {
      const cuts: Truncation[] = [];
      const out: OutOfRange[] = [];
      if (item.t === 'a') {
        const row = attemptRow(item.r, cuts, out);
        if (row) attempts.push({ item, row });
        else this.refuse(item, `attempt ${item.r.attempt} does not fit the attempt column`);
      } else events.push({ item, row: eventRow(item.r, cuts) });
      if (cuts.length) truncated.push({ item, cuts });
      if (out.length) unfit.push({ item, fields: out });
    }
    await this.insertRows('carrier_attempt', ATTEMPT_COLUMNS, attempts);
    await this.insertRows('carrier_event', EVENT_COLUMNS, events);
    for (const t of truncated) {
      this.s.truncated++;
      this.o.log.warn({ ...idOf(t.item), fields: t.cuts }, 'attempt log: over-long field stored truncated');
    }
    for (const u of unfit) this.o.log.warn({ ...idOf(u.item), fields: u.fields }, 'attempt log: value out of its column range stored as NULL');
  }

  /**
   * One multi-row INSERT; a row whose key is already in is skipped (ON DUPLICATE KEY UPDATE id = id), so replays
   * never double a row, and every other problem stays an error. A data error (a row no column can hold) would
   * fail the batch on every replay: the rows are then written one by one and the bad one is refused and logged.
   */
  private async insertRows(table: string, columns: readonly string[], rows: readonly { item: StoreItem; row: unknown[] }[]): Promise<void> {
    const pool = this.pool;
    if (!pool) throw new Error('no pool');
    if (rows.length === 0) return;
    const sql = `INSERT INTO ${table} (${columns.join(',')}) VALUES ? ON DUPLICATE KEY UPDATE id = id`;
    try {
      await this.checkedQuery(pool, sql, rows.map((r) => r.row), table);
      return;
    } catch (err) {
      if (!isDataError(err)) throw err;
    }
    for (const r of rows) {
      try {
        await this.checkedQuery(pool, sql, [r.row], table);
      } catch (err) {
        if (!isDataError(err)) throw err;
        this.refuse(r.item, (err as Error).message);
      }
    }
  }

  private async checkedQuery(pool: mysql.Pool, sql: string, rows: unknown[][], table: string): Promise<void> {
    const [res] = await pool.query({ sql, timeout: 10000 }, [rows]);
    const warnings = (res as { warningStatus?: number }).warningStatus ?? 0;
    if (warnings > 0) this.o.log.warn({ table, rows: rows.length, warnings }, 'attempt log: the database reported warnings on an insert (is sql_mode strict?)');
  }

  private refuse(item: StoreItem, why: string): void {
    this.s.dropped.refused++;
    this.o.log.error({ ...idOf(item), err: why, record: item.r }, 'attempt log: record refused by the database, not stored (its values are in this line)');
  }

  /** Appends to a file; on a disk error the caller keeps the records, and the disk is left alone for a second. */
  private toFile(file: Spool, items: readonly StoreItem[]): boolean {
    try {
      file.append(items);
      return true;
    } catch (err) {
      this.diskRetryAt = this.clock.now() + DISK_RETRY_MS;
      const now = this.clock.now();
      if (now - this.lastSpoolError > 10_000) {
        this.lastSpoolError = now;
        this.o.log.error(
          { err: (err as Error).message, file: file.path, records: items.length, queued: this.queue.length, queueLimit: this.o.store.queueLimit },
          'attempt log: file write failed, records kept in memory up to store.queueLimit',
        );
      }
      return false;
    }
  }

  private toSpool(items: readonly StoreItem[], why: string): boolean {
    if (items.length === 0) return true;
    if (!this.toFile(this.spool, items)) return false;
    this.s.spooledRecords += items.length;
    const size = this.spool.size;
    const max = this.o.store.spoolMaxBytes;
    if (size > max) {
      const now = this.clock.now();
      if (now - this.lastSpoolError > 60_000) {
        this.lastSpoolError = now;
        this.o.log.error({ spoolBytes: size, spoolMaxBytes: max, why }, 'attempt log: SPOOL OVER ITS LIMIT; still writing, nothing dropped: fix the database');
      }
    } else if (size > max * 0.8 && !this.spoolWarned) {
      this.spoolWarned = true;
      this.o.log.warn({ spoolBytes: size, spoolMaxBytes: max, why }, 'attempt log: spool above 80% of store.spoolMaxBytes');
    } else if (size < max * 0.5) this.spoolWarned = false;
    return true;
  }

  private goDown(err: unknown): void {
    if (this.state !== 'down') {
      this.o.log.error({ err: (err as Error).message, code: (err as { code?: string }).code }, 'attempt log: database unavailable, spooling to disk');
    }
    this.state = 'down';
    if (!this.probeTimer && !this.closed) this.probe();
  }

  private probe(): void {
    this.probeTimer = setTimeout(async () => {
      this.probeTimer = null;
      if (this.closed || !this.pool) return;
      try {
        await this.pool.query({ sql: 'SELECT 1', timeout: 2000 });
        // a database that was down at start has not had its schema checked: writing to a wrong one would lose rows
        if (!this.schemaChecked) await checkSchema(this.pool, this.o.db.database);
      } catch (err) {
        if (err instanceof SchemaError && this.schemaErrorLogged !== err.message) {
          this.schemaErrorLogged = err.message;
          this.o.log.error({ err: err.message }, 'attempt log: the database answers but its schema is wrong; still spooling');
        }
        this.probe();
        return;
      }
      this.schemaChecked = true;
      await this.startReplay();
    }, this.o.probeMs ?? 1000);
    this.probeTimer.unref();
  }

  private startReplay(): Promise<void> {
    if (!this.replaying) {
      const p = this.replay().finally(() => {
        if (this.replaying === p) this.replaying = null;
      });
      this.replaying = p;
    }
    return this.replaying;
  }

  /**
   * Replays the spool in batches of store.flushRows, read in bounded chunks (flat memory whatever its size), until it
   * is empty; new records keep going to the spool meanwhile, then writes go direct. A failure or a shutdown leaves
   * the rest for later, resumed from the last batch the database took.
   */
  private async replay(): Promise<void> {
    this.state = 'replaying';
    let total = 0;
    let bad = 0;
    try {
      for (;;) {
        await this.flushing;
        if (!this.spool.openReplay()) break;
        for (;;) {
          if (this.closed) {
            this.spool.pauseReplay();
            this.state = 'up';
            return;
          }
          const b = this.spool.readReplay(this.o.store.flushRows);
          bad += b.bad;
          if (b.items.length) await this.insert(b.items);
          total += b.items.length;
          this.s.replayed += b.items.length;
          if (b.last) break;
          this.spool.replayedTo(b.end);
        }
        this.spool.doneReplay();
      }
    } catch (err) {
      this.spool.pauseReplay();
      this.s.writeErrors++;
      this.state = 'up';
      this.goDown(err);
      return;
    } finally {
      if (bad) {
        this.s.dropped.unreadable += bad;
        this.o.log.warn({ lines: bad }, 'attempt log: unreadable spool lines skipped (cut short by a crash)');
      }
    }
    this.state = 'up';
    this.o.log.info({ replayed: total }, 'attempt log: database back, spool replayed');
    if (this.queue.length > 0) this.schedule(0);
  }

  private syncSpools(): void {
    const failed = (err: Error): void => this.o.log.error({ err: err.message }, 'attempt log: fsync failed');
    for (const f of [this.spool, this.jsonl, this.journal]) f.syncInBackground(failed);
  }
}

const idOf = (item: StoreItem): Record<string, unknown> =>
  item.t === 'a' ? { uniqueid: item.r.uniqueid, runId: item.r.runId, attempt: item.r.attempt } : { carrier: item.r.carrier };

export function createRecordStore(o: RecordStoreOptions): RecordStore {
  return new RecordStore(o);
}
