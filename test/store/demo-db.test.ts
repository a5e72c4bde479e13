import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runDemo } from '../sim/demo-run.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

describe('a demo run against a real MariaDB', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
  });
  after(async () => t.drop());

  test('leaves one carrier_attempt row per attempt and one carrier_event row per transition, field for field', async () => {
    const out = await runDemo({ db: t.db, print: () => undefined });
    assert.ok(out.attempts.length >= 8 && out.events.length >= 4, 'the demo made attempts and state changes');
    const rows = await t.query<Record<string, unknown>>('SELECT uniqueid, attempt, carrier, verdict, dialstatus, cause, sip_code, ring_ms, started_at FROM carrier_attempt ORDER BY id');
    assert.deepEqual(
      rows.map((r) => [r['uniqueid'], r['attempt'], r['carrier'], r['verdict'], r['dialstatus'], r['cause'], r['sip_code'], r['ring_ms'], (r['started_at'] as Date).getTime()]),
      out.attempts.map((a) => [a.uniqueid, a.attempt, a.carrier, a.verdict, a.dialStatus, a.cause, a.sipCode, a.ringMs, a.startedAt]),
    );
    const events = await t.query<Record<string, unknown>>('SELECT carrier, from_state, to_state, source, reason, at FROM carrier_event ORDER BY at, id');
    assert.deepEqual(
      events.map((e) => [e['carrier'], e['from_state'], e['to_state'], e['source'], e['reason'], (e['at'] as Date).getTime()]),
      out.events.map((e) => [e.carrier, e.from, e.to, e.source, e.reason, e.at]),
    );
  });
});
