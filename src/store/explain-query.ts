import mysql from 'mysql2/promise';
import { poolOptions, type DbSettings } from './db-config.js';

/** One attempt row as `explain` shows it. */
export interface ExplainRow {
  readonly serverId: string;
  readonly uniqueid: string;
  /** One AGI run of the call ('' for rows written before schema 3). */
  readonly runId: string;
  readonly attempt: number;
  readonly route: string;
  readonly strategy: string;
  readonly carrier: string;
  readonly dialString: string;
  readonly number: string;
  readonly leadId: number | null;
  readonly campaign: string;
  readonly startedAt: Date;
  readonly ringMs: number;
  readonly talkMs: number;
  /** Post-dial delay (ms); null when nothing rang, and for rows written before schema 4. */
  readonly pddMs: number | null;
  readonly dialStatus: string;
  readonly cause: number | null;
  readonly sipCode: number | null;
  readonly sipReason: string;
  readonly verdict: string;
  readonly reason: string;
  readonly healthState: string;
  /** The prefix group the number fell in; null when in none, and for rows written before schema 6. */
  readonly prefixGroup: string | null;
}

export type ExplainKey = { readonly uniqueid: string } | { readonly leadId: number };

const COLUMNS = `server_id AS serverId, uniqueid, run_id AS runId, attempt, route, strategy, carrier, dial_string AS dialString,
  number_dialed AS number, lead_id AS leadId, campaign, started_at AS startedAt, ring_ms AS ringMs, talk_ms AS talkMs, pdd_ms AS pddMs,
  dialstatus AS dialStatus, cause, sip_code AS sipCode, sip_reason AS sipReason, verdict, reason, health_state AS healthState, prefix_group AS prefixGroup`;

/** Every attempt row of one call (or of every call of one lead), in the order the daemon wrote them. */
export async function explainRows(db: DbSettings, key: ExplainKey, limit = 1000): Promise<ExplainRow[]> {
  const conn = await mysql.createConnection(poolOptions(db));
  try {
    const [rows] =
      'uniqueid' in key
        ? await conn.query(`SELECT ${COLUMNS} FROM carrier_attempt WHERE uniqueid = ? ORDER BY id LIMIT ?`, [key.uniqueid, limit])
        : await conn.query(`SELECT ${COLUMNS} FROM carrier_attempt WHERE lead_id = ? ORDER BY id LIMIT ?`, [key.leadId, limit]);
    return rows as ExplainRow[];
  } finally {
    await conn.end();
  }
}
