import mysql from 'mysql2/promise';
import { systemClock, type Clock } from '../clock.js';
import type { DaemonSettings } from '../config/schema.js';
import type { PeerFact, SharedFact, SharedState } from '../health/peer-facts.js';
import type { Logger } from '../log.js';
import { poolOptions, type DbSettings } from './db-config.js';
import { endWithin, writeThenRead } from './poll-round.js';

export interface SharedHealthOptions {
  readonly db: DbSettings;
  readonly cluster: DaemonSettings['cluster'];
  readonly serverId: string;
  readonly log: Logger;
  readonly clock?: Clock;
  /** A peer's fact, each version of a (carrier, prefix group) row once; the health map applies it. */
  readonly onFact: (f: PeerFact) => void;
}

export interface ClusterStats {
  /** The shared table answered a read within cluster.staleAfter. */
  readonly up: boolean;
  /** The last good read (or the start, before the first): what the view is stale since; null while up. */
  readonly lostSince: number | null;
  readonly lastReadAt: number | null;
  readonly lastError: string;
  /** Dialers seen publishing, with when their newest fact arrived here and what it said. */
  readonly peers: readonly { readonly server: string; readonly seenAt: number; readonly carrier: string; readonly state: SharedState; readonly group?: string }[];
  readonly published: Readonly<Record<SharedState, number>>;
  /** Peer facts read (each new version of a row written by another dialer). */
  readonly received: number;
  readonly readErrors: number;
  readonly writeErrors: number;
  /** Own facts waiting to be written (the latest per carrier and prefix group only). */
  readonly pending: number;
}

interface Row {
  carrier: string;
  prefix_group: string;
  server_id: string;
  state: SharedState;
  reason: string;
  version: number | string;
  stamp: string;
  remaining_us: number | string | null;
  age_us: number | string | null;
}

/** Facts waiting: the latest per (carrier, group), so it is bounded by the config; the cap guards a pathological reload loop. */
const MAX_PENDING = 1000;
const COLUMNS =
  "carrier, prefix_group, server_id, state, reason, version, DATE_FORMAT(updated_at, '%Y%m%d%H%i%s%f') AS stamp, TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(3), until_at) AS remaining_us, TIMESTAMPDIFF(MICROSECOND, learned_at, UTC_TIMESTAMP(3)) AS age_us";
// an older fact (a write delayed by an outage) never overwrites a newer one; learned_at is assigned last because
// MySQL and MariaDB evaluate the assignments left to right, each seeing the ones before it
const UPSERT = `INSERT INTO carrier_shared_health (carrier, prefix_group, server_id, state, until_at, learned_at, reason, version, updated_at)
  VALUES (?, ?, ?, ?, UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND, UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND, ?, 1, UTC_TIMESTAMP(3))
  ON DUPLICATE KEY UPDATE
    version = IF(VALUES(learned_at) >= learned_at, version + 1, version),
    updated_at = IF(VALUES(learned_at) >= learned_at, VALUES(updated_at), updated_at),
    server_id = IF(VALUES(learned_at) >= learned_at, VALUES(server_id), server_id),
    state = IF(VALUES(learned_at) >= learned_at, VALUES(state), state),
    until_at = IF(VALUES(learned_at) >= learned_at, VALUES(until_at), until_at),
    reason = IF(VALUES(learned_at) >= learned_at, VALUES(reason), reason),
    learned_at = GREATEST(learned_at, VALUES(learned_at))`;

class Timeout extends Error {
  override name = 'Timeout';
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timer = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Timeout(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timer]).finally(() => clearTimeout(t));
}

/** One row per (carrier, prefix group); '' is the carrier as a whole. NUL cannot be in either name. */
function keyOf(carrier: string, group: string | undefined): string {
  return `${carrier}\u0000${group ?? ''}`;
}

/**
 * Shared health through the cluster's database: this dialer's breaker facts go to carrier_shared_health, the
 * other dialers' come back every cluster.pollMs. Nothing here is on a call's path: publish() only puts the fact in
 * a map (the latest per carrier), writes and reads run on a timer, each bounded by a timeout, and while the
 * database is slow or away the dialer simply decides alone and says so (stats().up).
 */
export class SharedHealth {
  private pool: mysql.Pool | null = null;
  private readonly pending = new Map<string, SharedFact>();
  /** The version of each (carrier, group) row last seen (own rows included), so each version is applied once; with its
   * write time, so a row deleted and written anew (its version back at 1) still counts as new. */
  private readonly seen = new Map<string, string>();
  private readonly peers = new Map<string, { seenAt: number; carrier: string; state: SharedState; group?: string }>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  /** A full read (no updated_at window) on the first read and after every failed one: nothing missed in between. */
  private needFull = true;
  private lastReadAt: number | null = null;
  private readonly startedAt: number;
  private lastError = '';
  private lostLogged = false;
  private readonly counts = { published: { open: 0, trial: 0, closed: 0 } as Record<SharedState, number>, received: 0, readErrors: 0, writeErrors: 0 };

  constructor(private readonly o: SharedHealthOptions) {
    this.startedAt = this.clock.now();
  }

  private get clock(): Clock {
    return this.o.clock ?? systemClock;
  }

  private get timeoutMs(): number {
    return Math.max(250, this.o.cluster.pollMs);
  }

  start(): void {
    const opts = poolOptions(this.o.db);
    this.pool = mysql.createPool({ ...opts, connectionLimit: 2, queueLimit: 8, connectTimeout: Math.min(3000, this.o.cluster.staleAfter) });
    this.schedule(0);
  }

  /** The call path's side: O(1), never waits. A newer fact for the carrier (and group) replaces a waiting one. */
  publish(f: SharedFact): void {
    if (this.closed) return;
    const key = keyOf(f.carrier, f.group);
    if (!this.pending.has(key) && this.pending.size >= MAX_PENDING) return;
    this.pending.set(key, f);
    // peers learn within one of their polls: write now rather than at our next tick
    if (!this.running) this.schedule(0);
  }

  stats(): ClusterStats {
    const now = this.clock.now();
    const up = this.isUp(now);
    return {
      up,
      lostSince: up ? null : (this.lastReadAt ?? this.startedAt),
      lastReadAt: this.lastReadAt,
      lastError: this.lastError,
      peers: [...this.peers].map(([server, p]) => ({ server, ...p })).sort((a, b) => a.server.localeCompare(b.server)),
      published: { ...this.counts.published },
      received: this.counts.received,
      readErrors: this.counts.readErrors,
      writeErrors: this.counts.writeErrors,
      pending: this.pending.size,
    };
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.tick().finally(() => {
        this.running = null;
        this.schedule(this.pending.size > 0 && this.lastError === '' ? 0 : this.o.cluster.pollMs);
      });
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const pool = this.pool;
    if (!pool) return;
    try {
      await writeThenRead(() => this.write(pool), () => this.read(pool));
      if (this.lastError !== '' || this.lostLogged) {
        this.o.log.info({ peers: this.peers.size }, 'cluster view back: sharing carrier health with the other dialers again');
      }
      this.lastError = '';
      this.lostLogged = false;
    } catch (err) {
      this.lastError = (err as Error).message;
      this.needFull = true;
    }
    const now = this.clock.now();
    if (!this.isUp(now) && !this.lostLogged && now - (this.lastReadAt ?? this.startedAt) >= this.o.cluster.staleAfter) {
      this.lostLogged = true;
      this.o.log.warn({ error: this.lastError, staleAfterMs: this.o.cluster.staleAfter }, 'cluster view lost: deciding carrier health alone until the shared table answers');
    }
  }

  private async write(pool: mysql.Pool): Promise<void> {
    for (const [key, f] of [...this.pending]) {
      const now = this.clock.now();
      // durations at the moment of sending, so time spent waiting here neither extends nor cuts the window
      const remainingMs = f.until - now;
      if (f.state !== 'closed' && remainingMs <= 0) {
        this.pending.delete(key);
        continue;
      }
      const ageMs = Math.max(0, now - f.at);
      const params = [f.carrier.slice(0, 64), (f.group ?? '').slice(0, 64), this.o.serverId.slice(0, 64), f.state, Math.round(remainingMs * 1000), Math.round(ageMs * 1000), f.reason.slice(0, 255)];
      try {
        await withTimeout(pool.query(UPSERT, params), this.timeoutMs, 'shared health write');
      } catch (err) {
        this.counts.writeErrors++;
        throw err;
      }
      // a newer fact that arrived while this one was written stays for the next round
      if (this.pending.get(key) === f) this.pending.delete(key);
      this.counts.published[f.state]++;
    }
  }

  private async read(pool: mysql.Pool): Promise<void> {
    const full = this.needFull;
    // a window over the index, wide enough that a row committed late (or a missed tick) is read once more; versions dedupe
    const lookbackUs = (3 * this.o.cluster.pollMs + 2000) * 1000;
    const sql = full ? `SELECT ${COLUMNS} FROM carrier_shared_health` : `SELECT ${COLUMNS} FROM carrier_shared_health WHERE updated_at >= UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND`;
    const sent = this.clock.now();
    let rows: Row[];
    try {
      const [r] = await withTimeout(pool.query(sql, full ? [] : [lookbackUs]), this.timeoutMs, 'shared health read');
      rows = r as Row[];
    } catch (err) {
      this.counts.readErrors++;
      throw err;
    }
    const received = this.clock.now();
    // the database took its time somewhere in the round trip: count half of it as already gone
    const halfTrip = (received - sent) / 2;
    this.needFull = false;
    this.lastReadAt = received;
    for (const row of rows) {
      const version = `${String(row.version)}@${row.stamp}`;
      const key = keyOf(row.carrier, row.prefix_group);
      if (this.seen.get(key) === version) continue;
      this.seen.set(key, version);
      if (row.server_id === this.o.serverId) continue;
      this.counts.received++;
      const group = row.prefix_group === '' ? {} : { group: row.prefix_group };
      this.peers.set(row.server_id, { seenAt: received, carrier: row.carrier, state: row.state, ...group });
      const fact: PeerFact = {
        ...group,
        carrier: row.carrier,
        server: row.server_id,
        state: row.state,
        remainingMs: Number(row.remaining_us ?? 0) / 1000 - halfTrip,
        ageMs: Number(row.age_us ?? 0) / 1000 + halfTrip,
        reason: row.reason,
      };
      try {
        this.o.onFact(fact);
      } catch (err) {
        this.o.log.error({ err, carrier: fact.carrier }, 'peer fact listener threw (ignored)');
      }
    }
  }
}
