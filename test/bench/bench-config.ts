/** Sizes of each section: the full run (a few minutes) or BENCH_QUICK=1, a smoke run that touches every section. */
export interface BenchConfig {
  readonly quick: boolean;
  readonly throughputConcurrency: readonly number[];
  /** ms each throughput measurement runs (after a warm-up of a quarter of it). */
  readonly throughputMs: number;
  readonly peerConcurrency: readonly number[];
  readonly peerMs: number;
  readonly heldCalls: number;
  /** Connections opened per ramp step; each step waits until its calls sit in Dial, so the listen backlog never overflows. */
  readonly rampBatch: number;
  readonly heldSteadyMs: number;
  readonly probeCalls: number;
  readonly attemptRows: number;
  readonly latencySamples: number;
}

export function benchConfig(): BenchConfig {
  const quick = process.env['BENCH_QUICK'] === '1';
  return quick
    ? { quick, throughputConcurrency: [1, 50], throughputMs: 500, peerConcurrency: [1, 100], peerMs: 800, heldCalls: 500, rampBatch: 250, heldSteadyMs: 500, probeCalls: 20, attemptRows: 5000, latencySamples: 2000 }
    : { quick, throughputConcurrency: [1, 50, 200], throughputMs: 8000, peerConcurrency: [1, 1000], peerMs: 10000, heldCalls: 10000, rampBatch: 500, heldSteadyMs: 5000, probeCalls: 200, attemptRows: 200000, latencySamples: 20000 };
}
