/** Sizes of each section: the full run (about 10 minutes on 2 cores) or BENCH_QUICK=1, a smoke run that touches every section. */

/** One load point: this many calls in flight (a closed loop), each holding its answered Dial for holdMs. */
export interface LoadPoint {
  readonly concurrency: number;
  readonly holdMs: number;
  /** ms of load before the window opens: connections ramp, held calls reach their steady state. */
  readonly warmMs: number;
  /** ms of the window the figures come from. */
  readonly measureMs: number;
}

export interface BenchConfig {
  readonly quick: boolean;
  readonly points: readonly LoadPoint[];
  /** Each point runs every server this many times, interleaved (daemon, floor, peer, daemon, …); medians are shown. */
  readonly repetitions: number;
  readonly heldCalls: number;
  /** Connections opened per ramp step; each step waits until its calls sit in Dial, so the listen backlog never overflows. */
  readonly rampBatch: number;
  readonly heldSteadyMs: number;
  readonly probeCalls: number;
  /** ms of 100-concurrent load on a daemon under --cpu-prof; 0 = no profile. */
  readonly profileMs: number;
  readonly attemptRows: number;
  readonly latencySamples: number;
}

const point = (concurrency: number, holdMs: number, warmMs: number, measureMs: number): LoadPoint => ({ concurrency, holdMs, warmMs, measureMs });

export function benchConfig(): BenchConfig {
  const quick = process.env['BENCH_QUICK'] === '1';
  return quick
    ? {
        quick,
        points: [point(1, 0, 200, 500), point(100, 0, 300, 700), point(50, 300, 400, 700)],
        repetitions: 1,
        heldCalls: 500,
        rampBatch: 250,
        heldSteadyMs: 300,
        probeCalls: 20,
        profileMs: 0,
        attemptRows: 5000,
        latencySamples: 1000,
      }
    : {
        quick,
        // the held points need a warm-up longer than one hold, so every worker is past its first call
        points: [point(1, 0, 1000, 2500), point(10, 0, 1000, 2500), point(100, 0, 1000, 2500), point(1000, 0, 1500, 3000), point(200, 2000, 2500, 4000), point(2000, 5000, 5500, 8000)],
        repetitions: 3,
        heldCalls: 10000,
        rampBatch: 500,
        heldSteadyMs: 3000,
        probeCalls: 200,
        profileMs: 6000,
        attemptRows: 200000,
        latencySamples: 20000,
      };
}
