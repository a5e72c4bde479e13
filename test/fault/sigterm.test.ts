import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { migrate } from '../../src/store/migrate.js';
import { simulateCall } from '../sim/agi-sim.js';
import { startCliDaemon } from '../support/cli-process.js';
import { memoryLog } from '../support/daemon.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const NUM = '15552345678';

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });
}

describe('SIGTERM under load', () => {
  test('stops accepting at once, lets every call in progress finish, exits 0', async () => {
    const d = await startCliDaemon({ shutdown: { grace: 10000 } });
    const calls = Array.from({ length: 20 }, (_, i) =>
      simulateCall({ port: d.port, args: [NUM], uniqueid: `1795.${i}`, carriers: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer', talkMs: 1200 } } }),
    );
    await new Promise((r) => setTimeout(r, 300));
    d.kill('SIGTERM');
    await d.waitFor((l) => String(l['msg']).startsWith('stopping'));
    assert.equal(await refused(d.port), true, 'a new AGI connection must be refused once stopping (Asterisk then falls back)');
    const results = await Promise.all(calls);
    for (const r of results) {
      assert.equal(r.vars.get('FAILOVER_STATUS'), 'ANSWER', 'no call is cut before it ends');
      assert.equal(r.vars.get('FAILOVER_CARRIER'), 'secondary');
    }
    assert.equal(await d.exited, 0);
    const done = d.lines.filter((l) => l['msg'] === 'call done').length;
    assert.equal(done, 20);
  });

  test('a call bridged past the grace period: its AGI socket is closed (the call itself is Asterisk\'s), exit 0', async () => {
    const d = await startCliDaemon({ shutdown: { grace: 300 } });
    const call = simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'answer', talkMs: 5000 } } });
    await new Promise((r) => setTimeout(r, 200));
    d.kill('SIGTERM');
    const r = await call;
    assert.equal(await d.exited, 0);
    assert.ok(r.closedAfterMs < 3000, `the daemon closed its socket after the grace period (${r.closedAfterMs} ms)`);
    assert.ok(d.lines.some((l) => String(l['msg']).includes('grace period over')));
  });
});

describe('SIGTERM with calls held in Dial past the grace (real MariaDB)', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
    await migrate(t.db, memoryLog().log);
  });
  after(async () => {
    await t.drop();
  });

  test('every attempt still in its Dial gets its row (verdict interrupted) before exit; the channels keep FAILOVER_STATUS=DIALING', async () => {
    // a flush interval longer than the test: only the shutdown flush can have written the rows
    const d = await startCliDaemon({ db: t.db, store: { flushMs: 60000, flushRows: 100000 }, shutdown: { grace: 300 }, log: { level: 'debug' } });
    await d.waitFor((l) => l['msg'] === 'attempt log: database connected');
    const calls = Array.from({ length: 5 }, (_, i) =>
      simulateCall({ port: d.port, args: [NUM], uniqueid: `1798.${i}`, carriers: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer', talkMs: 2500 } } }),
    );
    await d.waitFor((l) => l['msg'] === 'attempt' && l['verdict'] === 'next' && l['uniqueid'] === '1798.4');
    await new Promise((r) => setTimeout(r, 100));
    d.kill('SIGTERM');
    assert.equal(await d.exited, 0);
    const results = await Promise.all(calls);
    for (const r of results) {
      assert.equal(r.vars.get('FAILOVER_STATUS'), 'DIALING', 'nothing after DIALING: the dialplan never dials again');
      assert.ok(r.closedAfterMs < 5000, `the daemon closed the socket at the grace's end (${r.closedAfterMs} ms)`);
    }
    const rows = await t.query<{ uniqueid: string; attempt: number; carrier: string; verdict: string; reason: string }>(
      'SELECT uniqueid, attempt, carrier, verdict, reason FROM carrier_attempt ORDER BY uniqueid, attempt',
    );
    assert.equal(rows.length, 10, 'two rows per call: the 503 and the Dial cut by the shutdown');
    for (let i = 0; i < 5; i++) {
      const mine = rows.filter((r) => r.uniqueid === `1798.${i}`);
      assert.deepEqual(mine.map((r) => [r.attempt, r.carrier, r.verdict]), [[1, 'primary', 'next'], [2, 'secondary', 'interrupted']]);
      assert.match(mine[1]?.reason ?? '', /daemon stopped during the Dial: shutdown\.grace of 300 ms ran out/);
    }
  });
});

describe('bad configuration', () => {
  test('an invalid config at start: a clear message and a non-zero exit', async () => {
    await assert.rejects(startCliDaemon({ routes: [{ name: 'x', carriers: ['nope'] }] }), /exited with 2: .*routes\[0\]\.carriers\[0\] = "nope": unknown carrier/s);
  });
});
