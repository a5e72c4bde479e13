import { simulateCall } from '../sim/agi-sim.js';
import { startCliDaemon } from '../support/cli-process.js';

/**
 * `npm run bench:suspect`: what the suspect rule (health.suspectAfterNoResponse) saves during an outage. One real
 * daemon (`failover-agi run`), a primary that swallows every INVITE from the start (Dial's progress timer ends each
 * such attempt: the call pays progressTimeout before the secondary answers), calls at a steady rate. Counted: calls
 * that paid the progress timeout, with the rule off and on, at each rate. Calls that started before the first
 * swallowed INVITE timed out could not know better under any rule: printed as the floor.
 * BENCH_QUICK=1: a few seconds per run. Prints figures; asserts nothing about time.
 */
const quick = process.env['BENCH_QUICK'] === '1';
const RATES = (process.env['BENCH_SUSPECT_RATES'] ?? '0.5,2,10').split(',').map(Number);
const SECONDS = quick ? 6 : Number(process.env['BENCH_SUSPECT_SECONDS'] ?? 20);
const PROGRESS_S = Number(process.env['BENCH_SUSPECT_PROGRESS'] ?? 2);
const HEALTH = { consecutiveFailures: 3, baseEjection: 5000, maxEjection: 20_000, recoverySuccesses: 2 };
const CARRIERS = [
  { name: 'primary', dial: 'SIP/${number}@carrier-primary', ringTimeout: 30, progressTimeout: PROGRESS_S },
  { name: 'secondary', dial: 'PJSIP/${number}@carrier-b', ringTimeout: 30, progressTimeout: PROGRESS_S },
];
const ROUTES = [{ name: 'outbound-failover', strategy: 'failover', carriers: ['primary', 'secondary'], stripDigits: 0 }];
// blackhole: CHANUNAVAIL with no key when Dial's progress timer fires (captures pjsip_blackhole)
const FLOW = { 'carrier-primary': { kind: 'blackhole', afterMs: PROGRESS_S * 1000 }, 'carrier-b': { kind: 'answer', talkMs: 50 } } as const;

interface Run {
  readonly calls: number;
  readonly paid: number;
  readonly floor: number;
  readonly failed: number;
}

async function run(rate: number, suspect: boolean): Promise<Run> {
  const d = await startCliDaemon({ log: { level: 'info' }, health: { ...HEALTH, suspectAfterNoResponse: suspect }, carriers: CARRIERS, routes: ROUTES });
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = Date.now();
    const total = Math.max(1, Math.floor(SECONDS * rate));
    const pending: Promise<{ start: number; paid: boolean } | null>[] = [];
    for (let i = 0; i < total; i++) {
      const wait = t0 + (i * 1000) / rate - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const start = Date.now() - t0;
      pending.push(
        simulateCall({ port: d.port, args: ['15552345678'], uniqueid: `${t0}.${i}`, carriers: FLOW }).then(
          (r) => ({ start, paid: r.dials.some((x) => x.includes('carrier-primary')) }),
          () => null,
        ),
      );
    }
    const done = await Promise.all(pending);
    const ok = done.filter((x): x is { start: number; paid: boolean } => x !== null);
    // no rule can save a call that started before the first Dial's progress timer ran out
    const floor = ok.filter((c) => c.paid && c.start < PROGRESS_S * 1000).length;
    return { calls: total, paid: ok.filter((c) => c.paid).length, floor, failed: total - ok.length };
  } finally {
    d.kill('SIGTERM');
    await d.exited;
  }
}

console.log(`suspect benchmark: one daemon, primary swallows every INVITE (progress timeout ${PROGRESS_S} s), ${SECONDS} s of calls per rate`);
console.log(`  breaker: consecutiveFailures ${HEALTH.consecutiveFailures}, ejection ${HEALTH.baseEjection / 1000} s growing to ${HEALTH.maxEjection / 1000} s, recoverySuccesses ${HEALTH.recoverySuccesses}`);
console.log('  calls/s | calls | paid the timeout, suspect off | paid, suspect on | floor (started before the first timeout)');
for (const rate of RATES) {
  const off = await run(rate, false);
  const on = await run(rate, true);
  const errs = off.failed + on.failed > 0 ? ` (call errors: ${off.failed} / ${on.failed})` : '';
  console.log(`  ${String(rate).padStart(7)} | ${String(off.calls).padStart(5)} | ${String(off.paid).padStart(29)} | ${String(on.paid).padStart(16)} | ${on.floor}${errs}`);
}
