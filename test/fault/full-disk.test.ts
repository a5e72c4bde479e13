import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { migrate } from '../../src/store/migrate.js';
import { simulateCall } from '../sim/agi-sim.js';
import { startCliDaemon, type CliDaemon } from '../support/cli-process.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { memoryLog } from '../support/daemon.js';
import { freePort } from '../support/free-port.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const NUM = '15552345678';
// one attempt per call, and no breaker: every record is one call's
const FLOW = { 'carrier-primary': { kind: 'answer', talkMs: 0 } } as const;
const QUEUE_LIMIT = 3000;

const metric = (text: string, name: string): number =>
  text
    .split('\n')
    .filter((l) => l.startsWith(name) && !l.startsWith('#'))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

async function calls(port: number, n: number, from: number): Promise<number[]> {
  const ms: number[] = [];
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < from + n) {
      const id = next++;
      const t0 = performance.now();
      const r = await simulateCall({ port, args: [NUM], uniqueid: `1807${id}.1`, carriers: FLOW });
      ms.push(performance.now() - t0);
      assert.equal(r.vars.get('FAILOVER_STATUS'), 'ANSWER');
    }
  };
  await Promise.all(Array.from({ length: 16 }, () => worker()));
  return ms.sort((a, b) => a - b);
}
const p99 = (xs: number[]): number => xs[Math.floor(xs.length * 0.99)] ?? 0;

describe('the database down and the spool disk full, under traffic', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
    await migrate(t.db, memoryLog().log);
  });
  after(async () => t.drop());

  test('calls keep their latency, memory stays at store.queueLimit, and every record not kept is counted and alerted on', async (tc) => {
    const http = await freePort();
    const proxy = new TcpProxy(t.db.host, t.db.port);
    const dbPort = await proxy.start();
    // the spool on a device that answers every write with ENOSPC, as a full disk does; the journal unwritable too
    const first = await startCliDaemon({ db: t.db });
    first.kill('SIGTERM');
    await first.exited;
    const spoolDir = join(first.dir, 'full');
    mkdirSync(spoolDir);
    symlinkSync('/dev/full', join(spoolDir, 'spool.jsonl'));
    mkdirSync(join(spoolDir, 'journal.jsonl'));
    let d: CliDaemon | null = null;
    try {
      d = await startCliDaemon({ db: { ...t.db, port: dbPort }, http: { port: http }, ami: { enabled: false }, store: { spoolDir, queueLimit: QUEUE_LIMIT, flushMs: 20 } });
      await d.waitFor((l) => l['msg'] === 'attempt log: database connected');
      const baseline = await calls(d.port, 600, 0);
      // every baseline record in the database before the cut, so none is both written and queued (a batch whose
      // INSERT landed but whose answer the cut lost is retried: at least once, deduplicated on replay)
      await new Promise((r) => setTimeout(r, 300));
      await proxy.cut();
      const beforeText = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
      const madeBefore = metric(beforeText, 'failover_agi_attempts_total') + metric(beforeText, 'failover_agi_carrier_transitions_total');
      // past the queue limit: the old writer re-serialised the whole queue on every record here
      const outage = await calls(d.port, QUEUE_LIMIT + 2000, 600);
      const text = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
      const made = metric(text, 'failover_agi_attempts_total') + metric(text, 'failover_agi_carrier_transitions_total') - madeBefore;
      const queued = metric(text, 'failover_agi_attempt_log_queue_depth');
      const dropped = metric(text, 'failover_agi_records_dropped_total{reason="disk"}');
      tc.diagnostic(`call p99 ${p99(baseline).toFixed(2)} ms up vs ${p99(outage).toFixed(2)} ms down + disk full; queued ${queued}, dropped ${dropped} of ${made}`);
      assert.ok(queued <= QUEUE_LIMIT + 500, `memory bounded: ${queued} queued`);
      assert.ok(dropped > 0);
      // every record since the cut is either still in memory or counted as dropped (the ones before it are in the database)
      const written = Number((await t.query<{ n: number }>('SELECT COUNT(*) AS n FROM carrier_attempt'))[0]?.n);
      assert.equal(written + queued + dropped, madeBefore + made, 'each record is stored, queued, or counted dropped');
      assert.ok(p99(outage) < Math.max(3 * p99(baseline), p99(baseline) + 10), `call p99 ${p99(outage)} ms vs ${p99(baseline)} ms`);
      assert.ok(d.lines.some((l) => l['msg'] === 'attempt log: RECORDS DROPPED: memory is full and neither the database nor the spool takes records'));
    } finally {
      d?.kill('SIGTERM');
      await d?.exited;
      await proxy.stop();
    }
  });
});
