import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { startService } from '../../src/service.js';
import { until } from '../support/until.js';
import { CostLedger } from '../../src/calls/cost-ledger.js';
import type { CarrierConfig } from '../../src/config/types.js';
import { migrate } from '../../src/store/migrate.js';
import { loggedSpend } from '../../src/store/spend-query.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { memoryLog } from '../support/daemon.js';

/** Local clock times, as the budget windows are: the daemon starts at 10:30. */
const at = (h: number, m = 0, day = 2): number => new Date(2026, 11, day, h, m).getTime();
const START = at(10, 30);
const carrier = (name: string, p: Partial<CarrierConfig> = {}): CarrierConfig => ({
  name, dial: `SIP/\${number}@${name}`, peer: name, ringTimeout: 60, progressTimeout: 5, adaptiveProgress: null, dialOptions: 'T', weight: 1, enabled: true, retrySipCodes: [], finalSipCodes: [], retryAfterRinging: false, maxChannels: 0, maxCps: 0, clusterShare: 1, pricePerMinute: 0, pricePerCall: 0, billingIncrement: 1, budget: null, ...p,
});
const BUDGET = { perHour: { minutes: 10, money: null }, perDay: { minutes: 100, money: null }, action: 'skip' as const, alertShare: 0.8 };
const CARRIERS = [carrier('a', { billingIncrement: 60, pricePerMinute: 0.5, budget: BUDGET }), carrier('b')];

let t: TestDatabase;
before(async () => {
  t = await createTestDatabase();
  await migrate(t.db, memoryLog().log);
  const rows: [server: string, carrier: string, verdict: string, endedAt: number, talkMs: number][] = [
    ['dialer1', 'a', 'answered', at(10, 10), 61_000], // this hour: 2 billed minutes
    ['dialer1', 'a', 'answered', at(8, 0), 30_000], // today: 1 billed minute
    ['dialer1', 'a', 'answered', at(23, 0, 1), 600_000], // yesterday: neither window
    ['dialer1', 'a', 'answered', at(10, 31), 600_000], // after the start: this run counted it in memory
    ['dialer1', 'a', 'next', at(10, 12), 0], // not answered
    ['dialer2', 'a', 'answered', at(10, 15), 600_000], // another dialer: its own budget
    ['dialer1', 'b', 'answered', at(10, 15), 600_000], // no budget: not read
  ];
  let n = 0;
  for (const [server, c, verdict, endedAt, talkMs] of rows) {
    n++;
    await t.query(
      `INSERT INTO carrier_attempt (server_id, uniqueid, attempt, route, strategy, carrier, dial_string, number_dialed, caller_code, started_at, ended_at, ring_ms, talk_ms, dialstatus, verdict, reason)
       VALUES (?, ?, 1, 'main', 'failover', ?, '', '15552345678', '', ?, ?, 0, ?, '', ?, '')`,
      [server, `17950000${n}.1`, c, new Date(endedAt - talkMs), new Date(endedAt), talkMs, verdict],
    );
  }
});
after(async () => t.drop());

test('a restart reads back this dialer\'s spend of the current hour and day, billed in the carrier\'s increment', async () => {
  const rows = await loggedSpend(t.db, 'dialer1', CARRIERS, START);
  assert.deepEqual(rows, [
    { carrier: 'a', window: 'hour', answered: 1, minutes: 2 },
    { carrier: 'a', window: 'day', answered: 2, minutes: 3 },
  ]);
  const l = new CostLedger(CARRIERS, START);
  for (const r of rows) l.seed(r.carrier, r.window, r.minutes, r.answered, START);
  const a = l.snapshot(START).get('a');
  assert.deepEqual([a?.hour.minutes, a?.hour.money, a?.day.minutes, a?.day.money], [2, 1, 3, 1.5]);
});

test('an unreachable database is an error for the caller to log, never a hang', async () => {
  await assert.rejects(loggedSpend({ ...t.db, port: 1 }, 'dialer1', CARRIERS, START));
});

test('the service reads it back at start: status shows the spend and the used-up budget skips at once', async () => {
  const now = Date.now();
  await t.query(
    `INSERT INTO carrier_attempt (server_id, uniqueid, attempt, route, strategy, carrier, dial_string, number_dialed, caller_code, started_at, ended_at, ring_ms, talk_ms, dialstatus, verdict, reason)
     VALUES ('dialer-seed', '1795009999.1', 1, 'main', 'failover', 'a', '', '15552345678', '', ?, ?, 0, 30000, 'ANSWER', 'answered', '')`,
    [new Date(now - 31_000), new Date(now - 1_000)],
  );
  const dir = mkdtempSync(join(tmpdir(), 'fa-seed-'));
  const file = join(dir, 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      serverId: 'dialer-seed',
      agi: { port: 0 },
      http: { port: 0 },
      ami: { enabled: false },
      db: { ...t.db },
      store: { spoolDir: join(dir, 'spool') },
      control: { socket: join(dir, 'c.sock'), stateFile: join(dir, 's.json') },
      carriers: [{ name: 'a', dial: 'SIP/${number}@a', budget: { perHour: { minutes: 0.5 } } }],
      routes: [{ name: 'main', script: 'outbound-failover', carriers: ['a'] }],
    }),
  );
  const svc = await startService({ config: loadConfig({ file, env: {} }), configFile: file, log: memoryLog('info').log });
  try {
    // 30 s of talk in this clock hour, unless the hour turned in the last second (then the hour has 0 and that is right too)
    await until(() => (svc.status().carriers[0]?.cost?.day.minutes ?? 0) > 0, 5000);
    assert.equal(svc.status().carriers[0]?.cost?.day.minutes, 0.5);
    if (new Date(now - 1_000).getHours() === new Date().getHours()) assert.equal(svc.daemon.cost.over('a', Date.now())?.reason, 'hourly budget of 0.5 min used');
  } finally {
    await svc.stop();
  }
});
