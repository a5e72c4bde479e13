import { simulateCall, type Behaviour } from '../sim/agi-sim.js';
import { startCliDaemon, type CliDaemon } from '../support/cli-process.js';
import { freePort } from '../support/free-port.js';
import { prng } from '../support/prng.js';

/**
 * `npm run bench:adaptive`: what the adaptive progress timeout (carrier key adaptiveProgress, issue 16 part 2) does,
 * against one real daemon (`failover-agi run`) and the simulator playing Dial's progress timer and each carrier's
 * post-dial delay in real time (SimCallOptions.playTimers 1: a timeout the daemon writes is the time the Dial takes).
 *
 * 1. Swallowing: a primary whose post-dial delays have a p99 of about 1 s answers a warm-up of calls, then swallows
 *    every INVITE; the secondary answers. Counted over the outage: the primary Dials that paid the progress timer,
 *    the time each lost, and the seconds lost in all; fixed 5 s against adaptive (defaults, progressTimeout 5).
 * 2. A carrier whose normal post-dial delay is about 6 s (median 5.5 s, p99 6.3 s): breaker openings and calls cut
 *    over a steady stream of calls, fixed 5 s against progressTimeout 8 with adaptive mode.
 * Breaker, suspect rule: the defaults (3 failures in a row, 30 s ejection, one call at a time to a suspect carrier).
 * BENCH_QUICK=1: shorter runs. Prints figures; asserts nothing about time.
 */
const quick = process.env['BENCH_QUICK'] === '1';
const RATE = Number(process.env['BENCH_ADAPTIVE_RATE'] ?? 1);
const OUTAGE_S = quick ? 8 : Number(process.env['BENCH_ADAPTIVE_SECONDS'] ?? 30);
const WARMUP = quick ? 60 : 200;
const SLOW_CALLS = quick ? 12 : 60;
const ROUTES = [{ name: 'outbound-failover', strategy: 'failover', carriers: ['primary', 'secondary'], stripDigits: 0 }];
const NUM = '15552345678';

/** Log-normal delays around a median, seeded: the same delays every run and for both modes. */
function lognormal(seed: number, medianMs: number, sigma: number): () => number {
  const r = prng(seed);
  return () => Math.round(medianMs * Math.exp(sigma * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())));
}

async function daemon(primary: Record<string, unknown>): Promise<{ d: CliDaemon; http: number }> {
  const http = await freePort();
  const carriers = [
    { name: 'primary', dial: 'SIP/${number}@carrier-primary', ringTimeout: 30, ...primary },
    { name: 'secondary', dial: 'PJSIP/${number}@carrier-b', ringTimeout: 30, progressTimeout: 5 },
  ];
  const d = await startCliDaemon({ log: { level: 'info' }, http: { port: http }, carriers, routes: ROUTES });
  return { d, http };
}

/** One series of the daemon's /metrics, by carrier. */
async function metric(http: number, name: string, carrier: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
  const m = new RegExp(`^${name}\\{carrier="${carrier}"\\} ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** Calls at a steady rate, each with its own behaviours; resolves with every call's result (null: a call error). */
async function stream(port: number, n: number, rate: number, tag: string, flow: (i: number) => Record<string, Behaviour>) {
  const t0 = Date.now();
  const pending = [];
  for (let i = 0; i < n; i++) {
    const wait = t0 + (i * 1000) / rate - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(simulateCall({ port, args: [NUM], uniqueid: `${tag}.${i}`, carriers: flow(i), playTimers: 1 }).catch(() => null));
  }
  return Promise.all(pending);
}

interface Swallow {
  readonly timeout: number;
  readonly paid: number;
  readonly lostPerPaid: number;
  readonly lostTotal: number;
  readonly calls: number;
  readonly failed: number;
}

async function swallowing(primary: Record<string, unknown>): Promise<Swallow> {
  const { d, http } = await daemon(primary);
  try {
    // the healthy period: p99 about 1 s (median 500 ms), ten calls at a time
    const pdd = lognormal(7, 500, 0.3);
    for (let i = 0; i < WARMUP; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, k) => simulateCall({ port: d.port, args: [NUM], uniqueid: `warm.${i + k}`, carriers: { 'carrier-primary': { kind: 'answer', alertMs: pdd(), talkMs: 20 } }, playTimers: 1 })));
    }
    const timeout = await metric(http, 'failover_agi_carrier_progress_timeout_seconds', 'primary');
    const n = Math.max(1, Math.round(OUTAGE_S * RATE));
    const done = await stream(d.port, n, RATE, 'out', () => ({ 'carrier-primary': { kind: 'blackhole' }, 'carrier-b': { kind: 'answer', talkMs: 20 } }));
    const ok = done.filter((r) => r !== null);
    // the Dials of the primary: each ends at the progress timer; that time is what the call lost before the secondary
    const lost = ok.filter((r) => r.dials[0]?.includes('carrier-primary') && r.vars.get('FAILOVER_CARRIER') === 'secondary').map((r) => (r.dialSpans[0] ? r.dialSpans[0].endedAt - r.dialSpans[0].startedAt : 0));
    const total = lost.reduce((a, b) => a + b, 0);
    return { timeout, paid: lost.length, lostPerPaid: lost.length ? total / lost.length / 1000 : 0, lostTotal: total / 1000, calls: n, failed: n - ok.length };
  } finally {
    d.kill('SIGTERM');
    await d.exited;
  }
}

interface Slow {
  readonly openings: number;
  readonly cut: number;
  readonly onPrimary: number;
  readonly calls: number;
  readonly timeout: number;
  readonly failed: number;
}

async function slowCarrier(primary: Record<string, unknown>): Promise<Slow> {
  const { d, http } = await daemon(primary);
  try {
    const pdd = lognormal(11, 5500, 0.06);
    const done = await stream(d.port, SLOW_CALLS, 2, 'slow', () => ({ 'carrier-primary': { kind: 'answer', alertMs: pdd(), talkMs: 20 }, 'carrier-b': { kind: 'answer', talkMs: 20 } }));
    const ok = done.filter((r) => r !== null);
    return {
      openings: await metric(http, 'failover_agi_breaker_openings_total', 'primary'),
      // cut: the primary was dialed and the call went on to the secondary (its delay was past the timer)
      cut: ok.filter((r) => r.dials[0]?.includes('carrier-primary') && r.vars.get('FAILOVER_CARRIER') === 'secondary').length,
      onPrimary: ok.filter((r) => r.vars.get('FAILOVER_CARRIER') === 'primary').length,
      calls: SLOW_CALLS,
      timeout: await metric(http, 'failover_agi_carrier_progress_timeout_seconds', 'primary'),
      failed: SLOW_CALLS - ok.length,
    };
  } finally {
    d.kill('SIGTERM');
    await d.exited;
  }
}

const s = (n: number): string => n.toFixed(1);
console.log(`adaptive progress timeout benchmark: one daemon, the simulator plays Dial's progress timer and post-dial delays in real time`);
console.log(`1. a primary with post-dial delay p99 ~1 s (median 500 ms; ${WARMUP} warm-up calls), then it swallows every INVITE: ${OUTAGE_S} s of calls at ${RATE}/s`);
console.log('  mode                          | timeout | Dials that paid | lost per paid Dial | lost in all');
const swallowRows: [string, Record<string, unknown>][] = [
  ['fixed progressTimeout 5', { progressTimeout: 5 }],
  ['adaptive (defaults), 5 until', { progressTimeout: 5, adaptiveProgress: {} }],
];
for (const [name, primary] of swallowRows) {
  const r = await swallowing(primary);
  console.log(`  ${name.padEnd(29)} | ${`${r.timeout} s`.padStart(7)} | ${String(r.paid).padStart(15)} | ${`${s(r.lostPerPaid)} s`.padStart(18)} | ${`${s(r.lostTotal)} s`.padStart(11)}${r.failed ? ` (call errors: ${r.failed})` : ''}`);
}
console.log(`2. a primary whose normal post-dial delay is ~6 s (median 5.5 s, p99 6.3 s): ${SLOW_CALLS} calls at 2/s`);
console.log('  mode                          | breaker openings | calls cut by the timer | answered by the primary | timeout at the end');
const slowRows: [string, Record<string, unknown>][] = [
  ['fixed progressTimeout 5', { progressTimeout: 5 }],
  ['progressTimeout 8 + adaptive', { progressTimeout: 8, adaptiveProgress: {} }],
];
for (const [name, primary] of slowRows) {
  const r = await slowCarrier(primary);
  console.log(`  ${name.padEnd(29)} | ${String(r.openings).padStart(16)} | ${String(r.cut).padStart(22)} | ${`${r.onPrimary}/${r.calls}`.padStart(23)} | ${`${r.timeout} s`.padStart(18)}${r.failed ? ` (call errors: ${r.failed})` : ''}`);
}
