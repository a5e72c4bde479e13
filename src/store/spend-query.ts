import mysql from 'mysql2/promise';
import type { CarrierConfig } from '../config/types.js';
import type { BudgetWindow } from '../routing/cost.js';
import { windowStart } from '../routing/cost.js';
import { poolOptions, type DbSettings } from './db-config.js';

/** What one dialer spent on one carrier in one window before it started, as the attempt log holds it. */
export interface LoggedSpend {
  readonly carrier: string;
  readonly window: BudgetWindow;
  readonly answered: number;
  /** Talk time billed per call in the carrier's billingIncrement, in minutes. */
  readonly minutes: number;
}

/**
 * The spend of the current clock hour and day that this dialer (server_id) logged before `until` (its start), per
 * carrier with a budget: a restart must not hand a carrier a fresh budget. One short connection, once, off the
 * call path; rows ending after `until` are this run's own and counted in memory already.
 */
export async function loggedSpend(db: DbSettings, serverId: string, carriers: Iterable<CarrierConfig>, until: number): Promise<LoggedSpend[]> {
  const conn = await mysql.createConnection(poolOptions(db));
  const out: LoggedSpend[] = [];
  try {
    for (const c of carriers) {
      if (!c.budget) continue;
      const inc = c.billingIncrement > 0 ? c.billingIncrement : 1;
      for (const window of ['hour', 'day'] as const) {
        const [rows] = await conn.query(
          `SELECT COUNT(*) AS answered, COALESCE(SUM(CEIL(talk_ms / 1000 / ?) * ?), 0) AS billed_s
           FROM carrier_attempt
           WHERE server_id = ? AND carrier = ? AND verdict = 'answered' AND ended_at >= ? AND ended_at < ?`,
          [inc, inc, serverId, c.name, new Date(windowStart(until, window)), new Date(until)],
        );
        const r = (rows as { answered: number | string; billed_s: number | string }[])[0];
        const answered = Number(r?.answered ?? 0);
        if (answered > 0) out.push({ carrier: c.name, window, answered, minutes: Number(r?.billed_s ?? 0) / 60 });
      }
    }
    return out;
  } finally {
    await conn.end();
  }
}
