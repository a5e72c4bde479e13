import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { migrate } from '../../src/store/migrate.js';
import { simulateCall } from '../sim/agi-sim.js';
import { startCliDaemon, type CliDaemon } from '../support/cli-process.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { memoryLog } from '../support/daemon.js';
import { until } from '../support/until.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.js');

describe('failover-agi explain: why did this call go where it went', () => {
  let t: TestDatabase;
  let d: CliDaemon;
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env['PATH'] } });
  before(async () => {
    t = await createTestDatabase();
    await migrate(t.db, memoryLog().log);
    d = await startCliDaemon({ db: t.db, store: { flushMs: 20 } });
    // a 503 then a ring-out (a stop), and a second call of the same lead that is answered
    await simulateCall({ port: d.port, args: ['15552345678'], uniqueid: '1796152709.1', callerIdName: 'V1201184450000012345', carriers: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'ring-no-answer', afterMs: 5 } } });
    await simulateCall({ port: d.port, args: ['15552345678'], uniqueid: '1796152799.7', callerIdName: 'V1201184600000012345', carriers: { 'carrier-primary': { kind: 'answer', talkMs: 10 } } });
    await until(async () => Number((await t.query<{ n: number }>('SELECT COUNT(*) AS n FROM carrier_attempt'))[0]?.n) >= 3);
  });
  after(async () => {
    d.kill('SIGTERM');
    await d.exited;
    await t.drop();
  });

  test('by uniqueid: every attempt in order with health, Dial string, outcome, post-dial delay (none for a bare 503, RINGTIME_MS for a ring-out), verdict and why', () => {
    const r = cli('explain', '1796152709.1', '--config', d.configFile);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^call 1796152709\.1 on \S+: route outbound-failover \(failover\), number 15552345678, lead 12345, started /);
    assert.match(lines[1] ?? '', /#\s+CARRIER\s+HEALTH\s+DIAL\s+VERDICT\s+DIALSTATUS\s+CAUSE\s+SIP\s+PDD ms\s+RING ms\s+TALK ms\s+WHY/);
    assert.match(lines[2] ?? '', /1\s+primary\s+unknown\s+SIP\/15552345678@carrier-primary,30\^5,T\s+next\s+CONGESTION\s+34\s+503 Service Unavailable\s+-\s+\d+\s+0\s+SIP 503 Service Unavailable is a carrier failure/);
    assert.match(lines[3] ?? '', /2\s+secondary\s+unknown\s+PJSIP\/15552345678@carrier-b,60\^5,T\s+stop\s+NOANSWER\s+16\s+180 Ringing\s+2\s+\d+\s+0\s+no answer within the ring timeout/);
    assert.equal(lines.length, 4);
  });

  test('by lead: each of its calls, oldest first', () => {
    const r = cli('explain', '--lead', '12345', '--config', d.configFile);
    assert.equal(r.status, 0, r.stderr);
    const heads = r.stdout.split('\n').filter((l) => l.startsWith('call '));
    assert.deepEqual(heads.map((h) => h.split(' ')[1]), ['1796152709.1', '1796152799.7']);
    assert.match(r.stdout, /1\s+primary\s+unknown\s+\S+\s+answered\s+ANSWER\s+16\s+200 OK/);
  });

  test('an unknown call says so; a bad argument is a usage error', () => {
    const none = cli('explain', '1.2', '--config', d.configFile);
    assert.equal(none.status, 0);
    assert.match(none.stdout, /^no attempt rows for uniqueid 1\.2/);
    assert.equal(cli('explain', "1' OR 1=1").status, 2);
    assert.equal(cli('explain').status, 2);
  });
});
