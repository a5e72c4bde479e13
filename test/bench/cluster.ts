import { migrate } from '../../src/store/migrate.js';
import { simulateCall, type SimCallResult } from '../sim/agi-sim.js';
import { startCliDaemon, type CliDaemon } from '../support/cli-process.js';
import { memoryLog } from '../support/daemon.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { prng } from '../support/prng.js';

/**
 * `npm run bench:cluster`: what shared health saves. N = 3 real daemons (`failover-agi run`) on one MariaDB, a
 * cluster-wide Poisson call rate spread at random over them, and a primary carrier that swallows every INVITE from
 * the start (Dial's progress timer ends each such attempt: the call pays progressTimeout before the secondary
 * answers). Counted: calls that paid the progress timeout, cluster-wide, with cluster.enabled false and true, over
 * the same arrivals (same seed). The run is long enough for several ejections to end, so trial calls count too.
 * BENCH_QUICK=1: a few seconds, for CI. Prints figures; asserts nothing about time.
 */
const quick = process.env['BENCH_QUICK'] === '1';
const N = 3;
const RATE = quick ? 6 : Number(process.env['BENCH_CLUSTER_RATE'] ?? 15);
const SECONDS = quick ? 6 : Number(process.env['BENCH_CLUSTER_SECONDS'] ?? 60);
const PROGRESS_S = 2;
const HEALTH = { consecutiveFailures: 3, baseEjection: 5000, maxEjection: 20_000, recoverySuccesses: 2 };
const CLUSTER = { pollMs: 1000, staleAfter: 5000, trialWait: 5000 };
/** Share of the calls each dialer takes: even, or (BENCH_CLUSTER_SPLIT=6,2,2) one dialer carrying most of the route. */
const SPLIT = (process.env['BENCH_CLUSTER_SPLIT'] ?? '1,1,1').split(',').map(Number);
const CARRIERS = [
  { name: 'primary', dial: 'SIP/${number}@carrier-primary', ringTimeout: 30, progressTimeout: PROGRESS_S },
  { name: 'secondary', dial: 'PJSIP/${number}@carrier-b', ringTimeout: 30, progressTimeout: PROGRESS_S },
];
const ROUTES = [{ name: 'outbound-failover', strategy: 'failover', carriers: ['primary', 'secondary'], stripDigits: 0 }];
const FLOW = { 'carrier-primary': { kind: 'blackhole', afterMs: PROGRESS_S * 1000 }, 'carrier-b': { kind: 'answer', talkMs: 50 } } as const;

interface Call {
  readonly dialer: number;
  readonly start: number;
  end: number;
  paid: boolean;
  /** The Dial of primary (ms from the start): placed, and answered by the progress timer. */
  primary: { start: number; end: number } | null;
}

interface RunResult {
  readonly calls: readonly Call[];
  /** Per dialer: when it first took primary out of service (its own breaker, or a peer's fact), ms from the start. */
  readonly firstDown: readonly (number | null)[];
  readonly sources: readonly string[];
}

function pickDialer(x: number): number {
  const total = SPLIT.reduce((a, b) => a + b, 0);
  let acc = 0;
  for (let i = 0; i < N; i++) {
    acc += (SPLIT[i] ?? 0) / total;
    if (x < acc) return i;
  }
  return N - 1;
}

/** The same arrivals for both runs: (offset ms, dialer) drawn from one seed. */
function arrivals(): { at: number; dialer: number }[] {
  const r = prng(15);
  const out: { at: number; dialer: number }[] = [];
  let t = 0;
  for (;;) {
    t += (-Math.log(1 - r()) / RATE) * 1000;
    if (t >= SECONDS * 1000) return out;
    out.push({ at: t, dialer: pickDialer(r()) });
  }
}

async function run(db: TestDatabase, shared: boolean): Promise<RunResult> {
  await db.query('DELETE FROM carrier_shared_health');
  const daemons: CliDaemon[] = [];
  try {
    for (let i = 0; i < N; i++) {
      daemons.push(
        await startCliDaemon({
          serverId: `bench-dialer-${i + 1}`,
          db: db.db,
          log: { level: 'info' },
          health: HEALTH,
          cluster: { enabled: shared, ...CLUSTER },
          carriers: CARRIERS,
          routes: ROUTES,
        }),
      );
    }
    // the shared table answered on every daemon before the first call
    if (shared) await Promise.all(daemons.map((d) => d.waitFor((l) => l['msg'] === 'shared health on: carrier breaker facts are shared through the database')));
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = Date.now();
    const calls: Call[] = [];
    const pending: Promise<SimCallResult | null>[] = [];
    let n = 0;
    for (const a of arrivals()) {
      const wait = t0 + a.at - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const d = daemons[a.dialer] as CliDaemon;
      const c: Call = { dialer: a.dialer, start: Date.now() - t0, end: 0, paid: false, primary: null };
      calls.push(c);
      pending.push(
        simulateCall({ port: d.port, args: ['15552345678'], uniqueid: `${t0}.${n++}`, carriers: FLOW }).then(
          (r) => {
            c.end = Date.now() - t0;
            c.paid = r.dials.some((x) => x.includes('carrier-primary'));
            const span = r.dialSpans.find((x) => x.data.includes('carrier-primary'));
            if (span) c.primary = { start: span.startedAt - t0, end: span.endedAt - t0 };
            return r;
          },
          () => null,
        ),
      );
    }
    await Promise.all(pending);
    const firstDown = daemons.map((d) => {
      const l = d.lines.find((x) => x['carrier'] === 'primary' && x['to'] === 'down' && typeof x['time'] === 'string');
      return l ? Date.parse(String(l['time'])) - t0 : null;
    });
    const sources = daemons.map((d) => String(d.lines.find((x) => x['carrier'] === 'primary' && x['to'] === 'down')?.['source'] ?? '-'));
    return { calls, firstDown, sources };
  } finally {
    for (const d of daemons) d.kill('SIGTERM');
    await Promise.all(daemons.map((d) => d.exited));
  }
}

interface Figures {
  readonly paid: number;
  /** Paid calls started before any failure could be seen anywhere: no sharing can save them. */
  readonly unavoidable: number;
  /** The first learner's Dials of primary in flight when its breaker opened. */
  readonly inflightFirst: number;
  /** Of those, the ones not already counted in unavoidable. */
  readonly inflightAvoidable: number;
}

function report(label: string, r: RunResult): Figures {
  const paid = r.calls.filter((c) => c.paid).length;
  const perDialer = Array.from({ length: N }, (_, i) => r.calls.filter((c) => c.dialer === i && c.paid).length);
  const known = r.firstDown.filter((x): x is number => x !== null);
  const first = known.length > 0 ? Math.min(...known) : null;
  const firstDialer = first === null ? -1 : r.firstDown.indexOf(first);
  // the first learner's Dials of primary under way when its breaker opened (placed before, answered after): no
  // design can save those; the Dial whose failure opened it has ended by then and is not one of them
  const inflight = first === null ? [] : r.calls.filter((c) => c.dialer === firstDialer && c.primary !== null && c.primary.start < first && c.primary.end > first);
  const beforeFirst = first === null ? paid : r.calls.filter((c) => c.paid && c.start < first).length;
  // no design can save a call that started before the first swallowed INVITE's progress timer ran out anywhere
  const firstFailure = Math.min(...r.calls.map((c) => c.start)) + PROGRESS_S * 1000;
  const floor = r.calls.filter((c) => c.paid && c.start < firstFailure).length;
  const inflightAvoidable = inflight.filter((c) => c.start >= firstFailure).length;
  console.log(`  ${label}: ${paid} of ${r.calls.length} calls paid the ${PROGRESS_S} s progress timeout (per dialer ${perDialer.join(' / ')})`);
  console.log(`    started before the first ejection anywhere (${first === null ? 'none' : `${first} ms, dialer ${firstDialer + 1}`}): ${beforeFirst}; after: ${paid - beforeFirst}`);
  console.log(`    started before any failure could be seen (the first Dial + ${PROGRESS_S} s): ${floor}`);
  console.log(`    each dialer took primary out at ${r.firstDown.map((x, i) => `${x ?? '-'} ms (${r.sources[i]})`).join(', ')}`);
  // what sharing could still change, split: learning (calls a dialer took before it first took primary out), then
  // what each dialer pays once it knows (trial calls, calls after an ejection ended)
  const learning = r.calls.filter((c) => c.paid && c.start >= firstFailure && c.start < (r.firstDown[c.dialer] ?? Number.POSITIVE_INFINITY)).length;
  console.log(`    of the others, started before their own dialer first took primary out: ${learning}; after (trial calls, calls after an ejection ended): ${paid - floor - learning}`);
  console.log(`    Dials of primary in flight on the first to learn when its breaker opened: ${inflight.length} (${inflight.length - inflightAvoidable} of them started before any failure could be seen)`);
  return { paid, unavoidable: floor, inflightFirst: inflight.length, inflightAvoidable };
}

const t = await createTestDatabase();
try {
  await migrate(t.db, memoryLog().log);
  console.log(`cluster benchmark: N = ${N} daemons, ${RATE} calls/s cluster-wide (Poisson, split ${SPLIT.join(':')} over the dialers) for ${SECONDS} s, primary swallows every INVITE`);
  console.log(`  breaker: consecutiveFailures ${HEALTH.consecutiveFailures}, ejection ${HEALTH.baseEjection / 1000} s growing to ${HEALTH.maxEjection / 1000} s, recoverySuccesses ${HEALTH.recoverySuccesses}; cluster.pollMs ${CLUSTER.pollMs}, trialWait ${CLUSTER.trialWait}`);
  const alone = report('not shared (cluster.enabled false)', await run(t, false));
  const shared = report('shared (cluster.enabled true)', await run(t, true));
  const goal = alone.paid / N + shared.inflightFirst;
  console.log(`  shared / not shared = ${(shared.paid / Math.max(1, alone.paid)).toFixed(2)}; goal shared <= not shared / N + in-flight of the first to learn = ${alone.paid}/${N} + ${shared.inflightFirst} = ${goal.toFixed(1)}: ${shared.paid <= goal ? 'met' : 'NOT met'}`);
  // the same goal on the calls sharing can affect: each run's unavoidable calls taken out of both sides, and of the
  // first learner's in-flight Dials only those not already among them (counting them twice would loosen the goal)
  const affected = shared.paid - shared.unavoidable;
  const affectedGoal = (alone.paid - alone.unavoidable) / N + shared.inflightAvoidable;
  console.log(
    `  goal on what sharing can affect: shared - unavoidable <= (not shared - unavoidable) / N + in-flight of the first to learn (not unavoidable) = ${shared.paid} - ${shared.unavoidable} = ${affected} <= (${alone.paid} - ${alone.unavoidable})/${N} + ${shared.inflightAvoidable} = ${affectedGoal.toFixed(1)}: ${affected <= affectedGoal ? 'met' : 'NOT met'}`,
  );
} finally {
  await t.drop();
}
