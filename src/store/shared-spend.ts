import mysql from 'mysql2/promise';
import type { OwnSpend } from '../calls/cost-ledger.js';
import { systemClock, type Clock } from '../clock.js';
import type { DaemonSettings } from '../config/schema.js';
import type { Logger } from '../log.js';
import { BUDGET_WINDOWS, peerTotals, windowStart, type BudgetWindow, type CarrierSpend, type PeerWindowSpend } from '../routing/cost.js';
import { poolOptions, type DbSettings } from './db-config.js';
import { endWithin, writeThenRead } from './poll-round.js';

export interface SharedSpendOptions {
  readonly db: DbSettings;
  readonly cluster: DaemonSettings['cluster'];
  readonly serverId: string;
  readonly log: Logger;
  readonly clock?: Clock;
  /** This dialer's spend now, per carrier with a budget (the cost ledger). */
  readonly own: (now: number) => readonly OwnSpend[];
  /** The carriers with a budget: a read covers each of them (0 where no peer spent). */
  readonly carriers: () => readonly string[];
  /** The peers' spend from a good read: the cost ledger takes it. */
  readonly onPeers: (peers: ReadonlyMap<string, CarrierSpend>) => void;
}

export interface SharedSpendStats {
  /** The peers' spend was read within cluster.staleAfter. */
  readonly up: boolean;
  /** Since when the budgets count the peers' spend as last read (null while up). */
  readonly lostSince: number | null;
  readonly lastReadAt: number | null;
  readonly lastError: string;
  /** Dialers whose rows the last read held for the current windows. */
  readonly peers: readonly string[];
  readonly readErrors: number;
  readonly writeErrors: number;
}

interface Row {
  period: BudgetWindow;
  starts: Date;
  carrier: string;
  server_id: string;
  minutes: number | string;
  money: number | string;
}

// A newer window replaces the slot's row of a day before; within a window a dialer's spend only grows, so GREATEST
// keeps a restart that has not read its spend back yet (or a write delayed by an outage) from lowering what the
// peers count; an older window never overwrites a newer one. starts is assigned last: MySQL and MariaDB evaluate
// the assignments left to right, each seeing the ones before it.
const UPSERT_HEAD = 'INSERT INTO carrier_spend (period, slot, carrier, server_id, starts, minutes, money, updated_at) VALUES ';
const UPSERT_TAIL = ` ON DUPLICATE KEY UPDATE
    minutes = IF(VALUES(starts) > starts, VALUES(minutes), IF(VALUES(starts) = starts, GREATEST(minutes, VALUES(minutes)), minutes)),
    money = IF(VALUES(starts) > starts, VALUES(money), IF(VALUES(starts) = starts, GREATEST(money, VALUES(money)), money)),
    updated_at = IF(VALUES(starts) >= starts, VALUES(updated_at), updated_at),
    starts = GREATEST(starts, VALUES(starts))`;
// two primary-key ranges (period, slot): dialers x carriers rows, whatever the attempt log holds
const READ = `SELECT period, starts, carrier, server_id, minutes, money FROM carrier_spend
  WHERE ((period = 'hour' AND slot = ? AND starts = ?) OR (period = 'day' AND slot = 0 AND starts = ?)) AND server_id <> ?`;

/** The row a window lives in: its local hour of the day, or 0 for a day. */
function slotOf(w: BudgetWindow, start: number): number {
  return w === 'hour' ? new Date(start).getHours() : 0;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timer = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timer]).finally(() => clearTimeout(t));
}

/**
 * Cluster-wide budgets through the cluster's database: every cluster.pollMs this dialer writes its own spend per
 * carrier and window to carrier_spend (only what changed) and reads the other dialers' rows of the same windows.
 * Nothing here is on a call's path: the ledger holds the last figures and calls read those. While the database is
 * slow or away each query gives up at its timeout and the budgets go on counting own spend (exact) plus the peers'
 * as last read, and stats() says since when.
 */
export class SharedSpend {
  private pool: mysql.Pool | null = null;
  /** What was last written per carrier, window and start: a publish sends only what changed. */
  private readonly written = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  private lastReadAt: number | null = null;
  private readonly startedAt: number;
  private lastError = '';
  private lostLogged = false;
  private peers: string[] = [];
  private readErrors = 0;
  private writeErrors = 0;

  constructor(private readonly o: SharedSpendOptions) {
    this.startedAt = this.clock.now();
  }

  private get clock(): Clock {
    return this.o.clock ?? systemClock;
  }

  private get timeoutMs(): number {
    return Math.max(250, this.o.cluster.pollMs);
  }

  start(): void {
    this.pool = mysql.createPool({ ...poolOptions(this.o.db), connectionLimit: 1, queueLimit: 4, connectTimeout: Math.min(3000, this.o.cluster.staleAfter) });
    this.schedule(0);
  }

  stats(): SharedSpendStats {
    const up = this.isUp(this.clock.now());
    return { up, lostSince: up ? null : (this.lastReadAt ?? this.startedAt), lastReadAt: this.lastReadAt, lastError: this.lastError, peers: [...this.peers], readErrors: this.readErrors, writeErrors: this.writeErrors };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
    if (this.pool) await endWithin(this.pool, 2000);
    this.pool = null;
  }

  private isUp(now: number): boolean {
    return this.lastReadAt !== null && now - this.lastReadAt <= this.o.cluster.staleAfter;
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.tick().finally(() => {
        this.running = null;
        this.schedule(this.o.cluster.pollMs);
      });
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const pool = this.pool;
    if (!pool) return;
    try {
      await writeThenRead(() => this.write(pool), () => this.read(pool));
      if (this.lostLogged) this.o.log.info({ peers: this.peers }, 'cluster spend view back: budgets count the other dialers\' spend again');
      this.lastError = '';
      this.lostLogged = false;
    } catch (err) {
      this.lastError = (err as Error).message;
    }
    const now = this.clock.now();
    if (!this.isUp(now) && !this.lostLogged && now - (this.lastReadAt ?? this.startedAt) >= this.o.cluster.staleAfter) {
      this.lostLogged = true;
      this.o.log.warn({ error: this.lastError, staleAfterMs: this.o.cluster.staleAfter }, 'cluster spend view lost: budgets count own spend plus the peers\' as last read until carrier_spend answers');
    }
  }

  private async write(pool: mysql.Pool): Promise<void> {
    const rows: { key: string; value: string; params: (string | number | Date)[] }[] = [];
    const live = new Set<string>();
    for (const { carrier, spend } of this.o.own(this.clock.now())) {
      for (const w of BUDGET_WINDOWS) {
        const ws = spend[w];
        live.add(`${w}|${ws.start}|`);
        const key = `${w}|${ws.start}|${carrier}`;
        const value = `${ws.minutes}|${ws.money}`;
        if (this.written.get(key) === value) continue;
        rows.push({ key, value, params: [w, slotOf(w, ws.start), carrier.slice(0, 255), this.o.serverId.slice(0, 64), new Date(ws.start), ws.minutes, ws.money] });
      }
    }
    // what was written for ended windows is forgotten: the map holds two windows per carrier at most
    for (const k of [...this.written.keys()]) if (![...live].some((l) => k.startsWith(l))) this.written.delete(k);
    if (rows.length === 0) return;
    const sql = UPSERT_HEAD + rows.map(() => '(?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))').join(', ') + UPSERT_TAIL;
    try {
      await withTimeout(pool.query(sql, rows.flatMap((r) => r.params)), this.timeoutMs, 'cluster spend write');
    } catch (err) {
      this.writeErrors++;
      throw err;
    }
    for (const r of rows) this.written.set(r.key, r.value);
  }

  private async read(pool: mysql.Pool): Promise<void> {
    // the windows of this dialer's clock when the query is sent: peerTotals drops a row of any other window
    const now = this.clock.now();
    let rows: Row[];
    try {
      const hour = windowStart(now, 'hour');
      const [r] = await withTimeout(pool.query(READ, [slotOf('hour', hour), new Date(hour), new Date(windowStart(now, 'day')), this.o.serverId.slice(0, 64)]), this.timeoutMs, 'cluster spend read');
      rows = r as Row[];
    } catch (err) {
      this.readErrors++;
      throw err;
    }
    const spends: PeerWindowSpend[] = rows.map((row) => ({ carrier: row.carrier, server: row.server_id, window: row.period, start: new Date(row.starts).getTime(), minutes: Number(row.minutes), money: Number(row.money) }));
    this.o.onPeers(peerTotals(spends, this.o.carriers(), this.o.serverId, now));
    this.peers = [...new Set(spends.map((s) => s.server))].sort();
    this.lastReadAt = this.clock.now();
  }
}
