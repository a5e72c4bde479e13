import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { migrate } from '../../src/store/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { memoryLog } from '../support/daemon.js';

const QUERIES = join(fileURLToPath(new URL('.', import.meta.url)), '../../../sql/queries');
const UNTIL = '2026-11-25 14:30:00';

interface Dial {
  uid: string;
  at: string;
  carrier: string;
  verdict: 'answered' | 'stop' | 'next' | 'skipped' | 'exhausted' | 'invalid';
  lead?: number | null;
  ring?: number;
  talk?: number;
  /** post-dial delay (ms); absent: nothing rang */
  pdd?: number;
  status?: string;
  cause?: number | null;
  sip?: number | null;
  sipReason?: string;
  reason?: string;
}

const REASON: Record<number, string> = { 180: 'Ringing', 200: 'OK', 486: 'Busy Here', 503: 'Service Unavailable' };

// One dialer's recent past: what each query is checked against (UNTIL is "now").
const CALLS: Dial[][] = [
  [
    { uid: '1795000001.1', at: '14:20:00', carrier: 'primary', verdict: 'next', lead: 101, ring: 120, status: 'CONGESTION', cause: 34, sip: 503 },
    { uid: '1795000001.1', at: '14:20:01', carrier: 'secondary', verdict: 'answered', lead: 101, ring: 3000, talk: 60000, pdd: 800, status: 'ANSWER', cause: 16, sip: 200 },
  ],
  [{ uid: '1795000002.1', at: '14:21:00', carrier: 'primary', verdict: 'answered', lead: 102, ring: 4000, talk: 30000, pdd: 1200, status: 'ANSWER', cause: 16, sip: 200 }],
  [{ uid: '1795000003.1', at: '14:22:00', carrier: 'primary', verdict: 'stop', lead: 103, ring: 900, status: 'BUSY', cause: 17, sip: 486 }],
  // a 503, then a ring-out: that leg's last response is the 180 (no final response), a stop
  [
    { uid: '1795000010.1', at: '14:22:29', carrier: 'tertiary', verdict: 'next', lead: 108, ring: 100, status: 'CONGESTION', cause: 34, sip: 503 },
    { uid: '1795000010.1', at: '14:22:30', carrier: 'secondary', verdict: 'stop', lead: 108, ring: 30000, pdd: 1500, status: 'NOANSWER', cause: null, sip: 180 },
  ],
  [
    { uid: '1795000004.1', at: '14:23:00', carrier: 'primary', verdict: 'next', lead: 101, ring: 32000, status: 'CHANUNAVAIL', cause: 18, sip: null },
    { uid: '1795000004.1', at: '14:23:32', carrier: 'secondary', verdict: 'next', lead: 101, ring: 200, status: 'CONGESTION', cause: 34, sip: 503 },
    { uid: '1795000004.1', at: '14:23:33', carrier: 'tertiary', verdict: 'exhausted', lead: 101, ring: 0, status: 'CHANUNAVAIL', cause: 20, sip: null },
  ],
  [
    { uid: '1795000005.1', at: '14:24:00', carrier: 'primary', verdict: 'skipped', lead: 104, reason: 'down: AMI PeerStatus Unreachable' },
    { uid: '1795000005.1', at: '14:24:00', carrier: 'secondary', verdict: 'skipped', lead: 104, reason: 'disabled' },
    { uid: '1795000005.1', at: '14:24:00', carrier: 'tertiary', verdict: 'skipped', lead: 104, reason: 'disabled' },
    { uid: '1795000005.1', at: '14:24:00', carrier: '', verdict: 'exhausted', lead: 104, reason: 'no carrier could be tried: every carrier was skipped' },
  ],
  [{ uid: '1795000006.1', at: '13:10:00', carrier: 'primary', verdict: 'answered', lead: 105, ring: 5000, talk: 1000, pdd: 5000, status: 'ANSWER', cause: 16, sip: 200 }],
  [{ uid: '1795000007.1', at: '14:25:00', carrier: '', verdict: 'invalid', lead: null, reason: 'number has characters other than digits' }],
  [
    { uid: '1795000008.1', at: '14:26:00', carrier: 'primary', verdict: 'skipped', lead: 106, reason: 'probing: another call holds the trial' },
    { uid: '1795000008.1', at: '14:26:00', carrier: 'secondary', verdict: 'answered', lead: 106, ring: 2500, talk: 10000, pdd: 600, status: 'ANSWER', cause: 16, sip: 200 },
  ],
  [{ uid: '1795000009.1', at: '14:28:00', carrier: 'primary', verdict: 'answered', lead: 107, ring: 2000, talk: 5000, pdd: 2000, status: 'ANSWER', cause: 16, sip: 200 }],
];

const EVENTS = [
  { at: '13:00:00', carrier: 'secondary', from: 'unknown', to: 'up', source: 'ami', reason: 'resync: PJSIPShowEndpoint Reachable' },
  { at: '14:19:00', carrier: 'primary', from: 'up', to: 'down', source: 'ami', reason: 'PeerStatus Unreachable' },
  { at: '14:25:00', carrier: 'primary', from: 'down', to: 'probing', source: 'ami', reason: 'PeerStatus Reachable' },
  { at: '14:27:00', carrier: 'primary', from: 'probing', to: 'up', source: 'breaker', reason: '2 good signals' },
];

const day = (hms: string): string => `2026-11-25 ${hms}`;

/** mysql2 hands DECIMAL sums back as strings and DATETIMEs as Dates: compare plain values. */
function plain(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [
        k,
        v instanceof Date ? v.toISOString().slice(0, 19).replace('T', ' ') : typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) && k !== 'uniqueid' && k !== 'number_dialed' ? Number(v) : v,
      ]),
    ),
  );
}

const EXPECTED: Record<string, { vars?: Record<string, unknown>; rows: Record<string, unknown>[] }> = {
  'asr-15min.sql': {
    rows: [
      { carrier: 'primary', dials: 5, answered: 2, asr_pct: 40, callee_stop: 1, carrier_failed: 2, avg_ring_ms_answered: 3000 },
      { carrier: 'secondary', dials: 4, answered: 2, asr_pct: 50, callee_stop: 1, carrier_failed: 1, avg_ring_ms_answered: 2750 },
      { carrier: 'tertiary', dials: 2, answered: 0, asr_pct: 0, callee_stop: 0, carrier_failed: 2, avg_ring_ms_answered: null },
    ],
  },
  'asr-hourly.sql': {
    rows: [
      { hour_utc: '2026-11-25 13:00', carrier: 'primary', dials: 1, answered: 1, asr_pct: 100, carrier_failed: 0 },
      { hour_utc: '2026-11-25 14:00', carrier: 'primary', dials: 5, answered: 2, asr_pct: 40, carrier_failed: 2 },
      { hour_utc: '2026-11-25 14:00', carrier: 'secondary', dials: 4, answered: 2, asr_pct: 50, carrier_failed: 1 },
      { hour_utc: '2026-11-25 14:00', carrier: 'tertiary', dials: 2, answered: 0, asr_pct: 0, carrier_failed: 2 },
    ],
  },
  'sip-code-mix.sql': {
    rows: [
      { carrier: 'primary', final_sip: 200, sip_reason: 'OK', last_provisional: null, dialstatus: 'ANSWER', n: 2, pct_of_carrier: 40 },
      { carrier: 'primary', final_sip: null, sip_reason: '', last_provisional: null, dialstatus: 'CHANUNAVAIL', n: 1, pct_of_carrier: 20 },
      { carrier: 'primary', final_sip: 486, sip_reason: 'Busy Here', last_provisional: null, dialstatus: 'BUSY', n: 1, pct_of_carrier: 20 },
      { carrier: 'primary', final_sip: 503, sip_reason: 'Service Unavailable', last_provisional: null, dialstatus: 'CONGESTION', n: 1, pct_of_carrier: 20 },
      { carrier: 'secondary', final_sip: 200, sip_reason: 'OK', last_provisional: null, dialstatus: 'ANSWER', n: 2, pct_of_carrier: 50 },
      // the ring-out: no final response, its last provisional the 180; not counted as a "180 response"
      { carrier: 'secondary', final_sip: null, sip_reason: '', last_provisional: 180, dialstatus: 'NOANSWER', n: 1, pct_of_carrier: 25 },
      { carrier: 'secondary', final_sip: 503, sip_reason: 'Service Unavailable', last_provisional: null, dialstatus: 'CONGESTION', n: 1, pct_of_carrier: 25 },
      { carrier: 'tertiary', final_sip: null, sip_reason: '', last_provisional: null, dialstatus: 'CHANUNAVAIL', n: 1, pct_of_carrier: 50 },
      { carrier: 'tertiary', final_sip: 503, sip_reason: 'Service Unavailable', last_provisional: null, dialstatus: 'CONGESTION', n: 1, pct_of_carrier: 50 },
    ],
  },
  'post-dial-delay.sql': {
    rows: [
      { carrier: 'primary', dials: 5, alerted: 2, not_alerted: 3, p50_pdd_ms: 1200, p95_pdd_ms: 2000, max_pdd_ms: 2000 },
      { carrier: 'secondary', dials: 4, alerted: 3, not_alerted: 1, p50_pdd_ms: 800, p95_pdd_ms: 1500, max_pdd_ms: 1500 },
      { carrier: 'tertiary', dials: 2, alerted: 0, not_alerted: 2, p50_pdd_ms: null, p95_pdd_ms: null, max_pdd_ms: null },
    ],
  },
  'failovers.sql': {
    rows: [
      { uniqueid: '1795000001.1', started_at: day('14:20:00'), number_dialed: '15552345678', lead_id: 101, dials: 2, path: 'primary:503 > secondary:200', answered_by: 'secondary', final_verdict: 'answered' },
      // the ring-out is NOANSWER in the path, not the 180 it ended on
      { uniqueid: '1795000010.1', started_at: day('14:22:29'), number_dialed: '15552345678', lead_id: 108, dials: 2, path: 'tertiary:503 > secondary:NOANSWER', answered_by: null, final_verdict: 'stop' },
      { uniqueid: '1795000004.1', started_at: day('14:23:00'), number_dialed: '15552345678', lead_id: 101, dials: 3, path: 'primary:CHANUNAVAIL > secondary:503 > tertiary:CHANUNAVAIL', answered_by: null, final_verdict: 'exhausted' },
    ],
  },
  'exhausted-calls.sql': {
    rows: [
      { uniqueid: '1795000004.1', started_at: day('14:23:00'), number_dialed: '15552345678', lead_id: 101, dials: 3, tried: 'primary:CHANUNAVAIL > secondary:503 > tertiary:CHANUNAVAIL' },
      { uniqueid: '1795000005.1', started_at: day('14:24:00'), number_dialed: '15552345678', lead_id: 104, dials: 0, tried: 'primary:skipped > secondary:skipped > tertiary:skipped' },
    ],
  },
  'time-wasted.sql': {
    rows: [
      { carrier: 'primary', failed_dials: 2, seconds_wasted: 32.1, avg_ms: 16060, max_ms: 32000 },
      { carrier: 'secondary', failed_dials: 1, seconds_wasted: 0.2, avg_ms: 200, max_ms: 200 },
      { carrier: 'tertiary', failed_dials: 2, seconds_wasted: 0.1, avg_ms: 50, max_ms: 100 },
    ],
  },
  'spend.sql': {
    // every carrier priced alike here; per started minute: 1 s, 30 s and 5 s bill a minute each
    vars: { fa_increment: 60, fa_price_per_minute: 0.02 },
    rows: [
      { carrier: 'primary', period: 'day', starts: '2026-11-25', answered: 3, talk_min: 0.6, billed_min: 3, money: 0.06 },
      { carrier: 'primary', period: 'hour', starts: '2026-11-25 13:00', answered: 1, talk_min: 0.02, billed_min: 1, money: 0.02 },
      { carrier: 'primary', period: 'hour', starts: '2026-11-25 14:00', answered: 2, talk_min: 0.58, billed_min: 2, money: 0.04 },
      { carrier: 'secondary', period: 'day', starts: '2026-11-25', answered: 2, talk_min: 1.17, billed_min: 2, money: 0.04 },
      { carrier: 'secondary', period: 'hour', starts: '2026-11-25 14:00', answered: 2, talk_min: 1.17, billed_min: 2, money: 0.04 },
    ],
  },
  'carrier-timeline.sql': {
    rows: [
      { at: day('13:00:00'), server_id: 'dialer1', carrier: 'secondary', from_state: 'unknown', to_state: 'up', source: 'ami', reason: 'resync: PJSIPShowEndpoint Reachable', seconds_in_state: 5400 },
      { at: day('14:19:00'), server_id: 'dialer1', carrier: 'primary', from_state: 'up', to_state: 'down', source: 'ami', reason: 'PeerStatus Unreachable', seconds_in_state: 360 },
      { at: day('14:25:00'), server_id: 'dialer1', carrier: 'primary', from_state: 'down', to_state: 'probing', source: 'ami', reason: 'PeerStatus Reachable', seconds_in_state: 120 },
      { at: day('14:27:00'), server_id: 'dialer1', carrier: 'primary', from_state: 'probing', to_state: 'up', source: 'breaker', reason: '2 good signals', seconds_in_state: 180 },
    ],
  },
  'lead-history.sql': {
    vars: { fa_lead_id: 101 },
    rows: [
      { started_at: day('14:20:00'), uniqueid: '1795000001.1', attempt: 1, carrier: 'primary', verdict: 'next', dialstatus: 'CONGESTION', sip_code: 503, sip_reason: 'Service Unavailable', pdd_ms: null, ring_ms: 120, talk_ms: 0, reason: '' },
      { started_at: day('14:20:01'), uniqueid: '1795000001.1', attempt: 2, carrier: 'secondary', verdict: 'answered', dialstatus: 'ANSWER', sip_code: 200, sip_reason: 'OK', pdd_ms: 800, ring_ms: 3000, talk_ms: 60000, reason: '' },
      { started_at: day('14:23:00'), uniqueid: '1795000004.1', attempt: 1, carrier: 'primary', verdict: 'next', dialstatus: 'CHANUNAVAIL', sip_code: null, sip_reason: '', pdd_ms: null, ring_ms: 32000, talk_ms: 0, reason: '' },
      { started_at: day('14:23:32'), uniqueid: '1795000004.1', attempt: 2, carrier: 'secondary', verdict: 'next', dialstatus: 'CONGESTION', sip_code: 503, sip_reason: 'Service Unavailable', pdd_ms: null, ring_ms: 200, talk_ms: 0, reason: '' },
      { started_at: day('14:23:33'), uniqueid: '1795000004.1', attempt: 3, carrier: 'tertiary', verdict: 'exhausted', dialstatus: 'CHANUNAVAIL', sip_code: null, sip_reason: '', pdd_ms: null, ring_ms: 0, talk_ms: 0, reason: '' },
    ],
  },
  'back-on-primary.sql': {
    vars: { fa_carrier: 'primary' },
    rows: [
      { back_up_at: day('14:27:00'), server_id: 'dialer1', carrier: 'primary', from_state: 'probing', source: 'breaker', reason: '2 good signals', seconds_out: 480, first_answer_after: day('14:28:00') },
    ],
  },
};

/**
 * Client sessions the queries must work from. A user variable takes the session's collation, and a column
 * compared with it must not clash: MySQL 8's client default is utf8mb4 (utf8mb4_0900_ai_ci, which MariaDB 10.11
 * lacks, so its stand-ins here are the other utf8mb4 collations), MariaDB's utf8mb4_general_ci, older setups utf8
 * (utf8mb3) or latin1. sql_mode is MySQL 8's default, ONLY_FULL_GROUP_BY included.
 */
const SESSIONS = ['utf8mb4', 'utf8mb4 COLLATE utf8mb4_general_ci', 'utf8mb4 COLLATE utf8mb4_unicode_ci', 'utf8mb4 COLLATE utf8mb4_bin', 'utf8mb3', 'utf8', 'latin1'];
const MYSQL8_SQL_MODE = 'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

describe('ops queries in sql/queries against seeded data', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
    await migrate(t.db, memoryLog().log);
    for (const call of CALLS) {
      let n = 0;
      for (const d of call) {
        n++;
        const dialed = d.verdict !== 'skipped' && d.verdict !== 'invalid' && d.carrier !== '';
        await t.query(
          `INSERT INTO carrier_attempt (server_id, uniqueid, attempt, route, strategy, carrier, dial_string, number_dialed, caller_code, lead_id,
             started_at, answered_at, ended_at, ring_ms, talk_ms, pdd_ms, dialstatus, cause, sip_code, sip_reason, verdict, reason)
           VALUES ('dialer1', ?, ?, 'outbound-failover', 'failover', ?, ?, '15552345678', '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            d.uid, n, d.carrier, dialed ? `SIP/15552345678@${d.carrier},60^5,tT` : '', d.lead ?? null,
            day(d.at), d.verdict === 'answered' ? day(d.at) : null, day(d.at), d.ring ?? 0, d.talk ?? 0, d.pdd ?? null,
            d.status ?? '', d.cause ?? null, d.sip ?? null, d.sip ? (REASON[d.sip] ?? '') : '', d.verdict, d.reason ?? '',
          ],
        );
      }
    }
    for (const e of EVENTS) {
      await t.query("INSERT INTO carrier_event (event_key, at, server_id, carrier, from_state, to_state, source, reason) VALUES (UUID(), ?, 'dialer1', ?, ?, ?, ?, ?)", [
        day(e.at), e.carrier, e.from, e.to, e.source, e.reason,
      ]);
    }
  });
  after(async () => t.drop());

  test('every file in sql/queries has expected results here, and each opens with the question it answers', () => {
    const files = readdirSync(QUERIES).filter((f) => f.endsWith('.sql')).sort();
    assert.deepEqual(files, Object.keys(EXPECTED).sort());
    for (const f of files) assert.match(readFileSync(join(QUERIES, f), 'utf8'), /^-- .+\?/, `${f} starts with a comment asking its question`);
  });

  for (const [file, want] of Object.entries(EXPECTED)) {
    test(`${file} returns what ops expect`, async () => {
      await t.query('SET @fa_until = CAST(? AS DATETIME(3)), @fa_carrier = NULL, @fa_lead_id = NULL', [UNTIL]);
      for (const [k, v] of Object.entries(want.vars ?? {})) await t.query(`SET @${k} = ?`, [v]);
      const rows = await t.query<Record<string, unknown>>(readFileSync(join(QUERIES, file), 'utf8'));
      assert.deepEqual(plain(rows), want.rows);
    });
  }

  for (const names of SESSIONS) {
    test(`every query gives the same rows from a SET NAMES ${names} session, @fa_carrier set too`, async () => {
      const c = await mysql.createConnection({ ...t.db, timezone: 'Z' });
      try {
        await c.query(`SET NAMES ${names}`);
        await c.query('SET SESSION sql_mode = ?', [MYSQL8_SQL_MODE]);
        for (const [file, want] of Object.entries(EXPECTED)) {
          await c.query('SET @fa_until = ?, @fa_carrier = NULL, @fa_lead_id = NULL', [UNTIL]);
          for (const [k, v] of Object.entries(want.vars ?? {})) await c.query(`SET @${k} = ?`, [v]);
          const [rows] = await c.query(readFileSync(join(QUERIES, file), 'utf8'));
          assert.deepEqual(plain(rows as Record<string, unknown>[]), want.rows, `${file} from ${names}`);
        }
        await c.query("SET @fa_carrier = 'primary'");
        const [timeline] = await c.query(readFileSync(join(QUERIES, 'carrier-timeline.sql'), 'utf8'));
        assert.deepEqual(plain(timeline as Record<string, unknown>[]), EXPECTED['carrier-timeline.sql']?.rows.filter((r) => r['carrier'] === 'primary'));
      } finally {
        await c.end();
      }
    });
  }

  test('without @fa_until the windows run back from now: today\'s seeded past is outside the last 15 minutes', async () => {
    await t.query('SET @fa_until = NULL');
    const rows = await t.query<Record<string, unknown>>(readFileSync(join(QUERIES, 'asr-15min.sql'), 'utf8'));
    assert.deepEqual(rows, []);
  });
});
