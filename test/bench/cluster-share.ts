import { CapacityLedger } from '../../src/calls/capacity-ledger.js';
import type { CarrierConfig } from '../../src/config/types.js';
import { prng } from '../support/prng.js';

/**
 * `npm run bench:caps`: what a static clusterShare split of one carrier contract costs against one counter shared by
 * the whole cluster (not built), in calls pushed to the backup carrier. A discrete-event model of N dialers, each
 * with the daemon's own CapacityLedger: Poisson arrivals split across the dialers, exponential call lengths, a
 * call the primary cannot take goes to the backup (uncapped). Figures only, no assertion; BENCH_QUICK=1 runs fewer calls.
 */
const quick = process.env['BENCH_QUICK'] === '1';
const CALLS = quick ? 20_000 : 400_000;
const CONTRACT = 30;
const HOLD_S = 60;

const carrier = (maxChannels: number, clusterShare: number): CarrierConfig => ({
  name: 'primary', dial: 'SIP/${number}@primary', peer: 'primary', ringTimeout: 60, progressTimeout: 5, adaptiveProgress: null, dialOptions: 'T', weight: 1, enabled: true,
  retrySipCodes: [], finalSipCodes: [], retryAfterRinging: false, maxChannels, maxCps: 0, clusterShare, pricePerMinute: 0, pricePerCall: 0, billingIncrement: 1, budget: null,
});

/** Departures as a binary min-heap of [time, ledger index]. */
class Departures {
  private readonly h: [number, number][] = [];
  push(x: [number, number]): void {
    const h = this.h;
    h.push(x);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if ((h[p] as [number, number])[0] <= x[0]) break;
      [h[i], h[p]] = [h[p] as [number, number], x];
      i = p;
    }
  }
  peek(): [number, number] | undefined {
    return this.h[0];
  }
  pop(): [number, number] | undefined {
    const h = this.h;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && (h[l] as [number, number])[0] < (h[m] as [number, number])[0]) m = l;
        if (r < h.length && (h[r] as [number, number])[0] < (h[m] as [number, number])[0]) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as [number, number], h[i] as [number, number]];
        i = m;
      }
    }
    return top;
  }
}

/** Share of calls that went to the backup, and how full the contract was on average. */
function run(erlangs: number, load: readonly number[], ledgers: readonly CapacityLedger[], ledgerOf: (dialer: number) => number, seed: number): { overflow: number; used: number } {
  const r = prng(seed);
  const rate = erlangs / HOLD_S;
  const out = new Departures();
  let t = 0;
  let overflow = 0;
  let inUse = 0;
  let area = 0;
  for (let n = 0; n < CALLS; n++) {
    const next = t - Math.log(1 - r()) / rate;
    // departures before this arrival free their channels
    for (let d = out.peek(); d && d[0] <= next; d = out.peek()) {
      out.pop();
      area += inUse * (d[0] - t);
      t = d[0];
      inUse--;
      (ledgers[d[1]] as CapacityLedger).release('primary');
    }
    area += inUse * (next - t);
    t = next;
    let x = r();
    let dialer = 0;
    while (dialer < load.length - 1 && x >= (load[dialer] as number)) x -= load[dialer++] as number;
    const li = ledgerOf(dialer);
    const ledger = ledgers[li] as CapacityLedger;
    const ms = t * 1000;
    if (ledger.blocked('primary', ms) !== null) {
      overflow++;
      continue;
    }
    ledger.acquire('primary', ms);
    inUse++;
    out.push([t - Math.log(1 - r()) * HOLD_S, li]);
  }
  return { overflow: overflow / CALLS, used: area / t / CONTRACT };
}

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;
console.log(`clusterShare vs one shared counter: contract ${CONTRACT} channels on the primary, 3 dialers, calls of ${HOLD_S} s on average, ${CALLS} calls a row`);
console.log('offered load | dialer load split | shared counter (ideal) | clusterShare 1/3 each (10 channels) | clusterShare = load split to 2 decimals (0.33 → 9 ch; 0.5/0.3/0.2 → 15/9/6)');
for (const erlangs of [15, 20, 25]) {
  for (const load of [
    [1 / 3, 1 / 3, 1 / 3],
    [0.5, 0.3, 0.2],
  ]) {
    const pooled = run(erlangs, load, [new CapacityLedger([carrier(CONTRACT, 1)], 0)], () => 0, 7);
    const even = run(erlangs, load, load.map(() => new CapacityLedger([carrier(CONTRACT, 1 / 3)], 0)), (d) => d, 7);
    const tuned = run(erlangs, load, load.map((w) => new CapacityLedger([carrier(CONTRACT, Math.floor(w * 100) / 100)], 0)), (d) => d, 7);
    const row = (x: { overflow: number; used: number }): string => `${pct(x.overflow)} to backup, ${pct(x.used)} of contract used`;
    console.log(`${erlangs} E | ${load.map((w) => w.toFixed(2)).join('/')} | ${row(pooled)} | ${row(even)} | ${row(tuned)}`);
  }
}
