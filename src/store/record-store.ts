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
import { ATTEMPT_COLUMNS, attemptRow, EVENT_COLUMNS, eventRow, type StoreItem, type Truncation } from './rows.js';
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
}

type State = 'none' | 'up' | 'down' | 'replaying';

/**
 * The attempt log writer. The call path only enqueues (never awaits); batches go to MySQL as multi-row
 * INSERT IGNOREs, or to the spool while the database is away, and the spool is replayed in order when it is back.
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
  private probeTimer: NodeJS.Timeout | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;
  private spoolWarned = false;
  private lastSpoolError = 0;
  private readonly s: RecordStoreStats = { queued: 0, spoolBytes: 0, spooledRecords: 0, written: 0, replayed: 0, writeErrors: 0, truncated: 0, dbConnected: false };

  constructor(private readonly o: RecordStoreOptions) {
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
    return { ...this.s, queued: this.queue.length, spoolBytes: this.spool.size, dbConnected: this.state === 'up' };
  }

  async start(): Promise<void> {
    this.syncTimer = setInterval(() => this.syncSpools(), Math.max(10, this.o.store.fsyncMs));
    this.syncTimer.unref();
    // a journal left behind means the last run was killed: its records join the spool (replay skips rows already in)
    const recovered = this.spool.absorb(this.journal);
    if (recovered > 0) this.o.log.warn({ records: recovered }, 'attempt log: journal of a killed run recovered into the spool');
    if (this.o.db.host === '') {
      this.state = 'none';
      this.noDatabase = true;
      this.o.log.warn({ file: this.jsonl.path }, 'no database configured (db.host empty): attempt records go to a JSONL file');
      if (this.spool.hasPending()) this.o.log.warn({ spoolBytes: this.spool.size, file: this.spool.path }, 'attempt log: the spool holds records waiting for a database');
      return;
    }
    this.pool = mysql.createPool(poolOptions(this.o.db));
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
    if (this.spool.hasPending()) await this.replay();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of [this.flushTimer, this.probeTimer, this.syncTimer]) if (t) clearTimeout(t);
    await this.flushing;
    await this.flushAll();
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
      await this.flush();
    }
  }

  private enqueue(item: StoreItem): void {
    if (this.noDatabase && this.queue.length === 0 && this.toFile(this.jsonl, [item], false)) return;
    if (!this.noDatabase) this.toJournal(item);
    this.queue.push(item);
    if (this.queue.length >= this.o.store.queueLimit) {
      // memory is bounded: past the limit records go straight to disk
      this.toSpool(this.queue.splice(0), 'queue limit reached');
      return;
    }
    if (this.closed) return;
    if (this.queue.length >= this.o.store.flushRows) this.schedule(0);
    else if (!this.flushTimer) this.schedule(this.o.store.flushMs);
  }

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

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.o.store.flushRows);
      let kept = true;
      if (this.state === 'none') kept = this.toFile(this.jsonl, batch);
      else if (this.state !== 'up') kept = this.toSpool(batch, 'database down');
      else {
        try {
          await this.insert(batch);
          this.s.written += batch.length;
        } catch (err) {
          this.s.writeErrors++;
          kept = this.toSpool(batch, 'write failed');
          this.goDown(err);
        }
      }
      if (!kept) {
        // the disk refused: the batch is back in the queue; try again in a second rather than spin
        if (!this.closed) this.schedule(1000);
        return;
      }
    }
    // nothing queued, nothing in flight: every journaled record is in the database or the spool
    this.truncateJournal();
  }

  private toJournal(item: StoreItem): void {
    try {
      this.journal.append([item]);
    } catch (err) {
      const now = this.clock.now();
      if (now - this.lastJournalError > 60_000) {
        this.lastJournalError = now;
        this.o.log.error({ err: (err as Error).message, file: this.journal.path }, 'attempt log: journal write failed; a SIGKILL now would lose queued records');
      }
    }
  }

  private truncateJournal(): void {
    try {
      this.journal.truncate();
    } catch (err) {
      this.o.log.error({ err: (err as Error).message, file: this.journal.path }, 'attempt log: journal truncate failed');
    }
  }

  private async insert(batch: readonly StoreItem[]): Promise<void> {
    const pool = this.pool;
    if (!pool) throw new Error('no pool');
    const truncated: { item: StoreItem; cuts: Truncation[] }[] = [];
    const attempts: unknown[][] = [];
    const events: unknown[][] = [];
    for (const item of batch) {
      const cuts: Truncation[] = [];
      if (item.t === 'a') attempts.push(attemptRow(item.r, cuts));
      else events.push(eventRow(item.r, cuts));
      if (cuts.length) truncated.push({ item, cuts });
    }
    // INSERT IGNORE: a replayed row whose key exists is skipped, so nothing is ever doubled
    if (attempts.length) await pool.query({ sql: `INSERT IGNORE INTO carrier_attempt (${ATTEMPT_COLUMNS.join(',')}) VALUES ?`, timeout: 10000 }, [attempts]);
    if (events.length) await pool.query({ sql: `INSERT IGNORE INTO carrier_event (${EVENT_COLUMNS.join(',')}) VALUES ?`, timeout: 10000 }, [events]);
    for (const t of truncated) {
      this.s.truncated++;
      const id = t.item.t === 'a' ? { uniqueid: t.item.r.uniqueid, attempt: t.item.r.attempt } : { carrier: t.item.r.carrier };
      this.o.log.warn({ ...id, fields: t.cuts }, 'attempt log: over-long field stored truncated');
    }
  }

  /** Appends to a file; on a disk error the records go back to the front of the queue. */
  private toFile(file: Spool, items: StoreItem[], requeue = true): boolean {
    try {
      file.append(items);
      return true;
    } catch (err) {
      this.o.log.error({ err: (err as Error).message, file: file.path, records: items.length }, 'attempt log: file write failed, records kept in memory');
      if (requeue) this.queue.unshift(...items);
      return false;
    }
  }

  private toSpool(items: StoreItem[], why: string): boolean {
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
      await this.replay();
    }, this.o.probeMs ?? 1000);
    this.probeTimer.unref();
  }

  /** Replays the spool in order until it is empty; new records keep going to the spool meanwhile, then writes go direct. */
  private async replay(): Promise<void> {
    this.state = 'replaying';
    let total = 0;
    for (;;) {
      await this.flushing;
      const { items, bad } = this.spool.takeForReplay();
      if (bad) this.o.log.warn({ lines: bad }, 'attempt log: unreadable spool lines skipped (cut short by a crash)');
      try {
        for (let i = 0; i < items.length; i += this.o.store.flushRows) {
          await this.insert(items.slice(i, i + this.o.store.flushRows));
        }
      } catch (err) {
        this.s.writeErrors++;
        this.state = 'up';
        this.goDown(err);
        return;
      }
      total += items.length;
      this.s.replayed += items.length;
      this.spool.doneReplay();
      if (!this.spool.hasPending()) break;
    }
    this.state = 'up';
    this.o.log.info({ replayed: total }, 'attempt log: database back, spool replayed');
    if (this.queue.length > 0) this.schedule(0);
  }

  private syncSpools(): void {
    try {
      this.spool.sync();
      this.jsonl.sync();
      this.journal.sync();
    } catch (err) {
      this.o.log.error({ err: (err as Error).message }, 'attempt log: fsync failed');
    }
  }
}

export function createRecordStore(o: RecordStoreOptions): RecordStore {
  return new RecordStore(o);
}
