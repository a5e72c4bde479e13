import { timedCall, type BenchBehaviour, type TimedCallResult } from './timed-call.js';

/** The two flows of the brief, as the carriers behave in each (the health view decides whether primary is tried). */
export type Flow = 'A' | 'B';

export const NUMBER = '15552345678';

/** Flow A: primary says 503, secondary answers. Flow B: primary is down in the health view, secondary answers. */
export function flowCarriers(flow: Flow): Record<string, BenchBehaviour> {
  return flow === 'A'
    ? { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer' } }
    : { 'carrier-primary': { kind: 'answer' }, 'carrier-b': { kind: 'answer' } };
}

export interface LoadResult {
  readonly calls: number;
  readonly failed: number;
  readonly firstError: string | null;
  readonly elapsedMs: number;
  readonly flowsPerSec: number;
  readonly headerToDialUs: number[];
  readonly afterDialUs: number[];
  /** The daemon's own time per call: header→first Dial plus every Dial result→next command. */
  readonly addedPerCallUs: number[];
}

let seq = 0;

/**
 * N workers each run calls back to back until the time is up: a closed loop, so the figure is the server's
 * throughput at that many calls in flight, not an offered rate it may or may not keep up with.
 */
export async function closedLoop(port: number, flow: Flow, concurrency: number, durationMs: number): Promise<LoadResult> {
  const carriers = flowCarriers(flow);
  const results: TimedCallResult[] = [];
  const start = performance.now();
  const deadline = start + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      results.push(await timedCall({ port, number: NUMBER, uniqueid: `1795412731.${++seq}`, carriers }));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - start;
  const good = results.filter((r) => r.ok);
  const bad = results.filter((r) => !r.ok);
  return {
    calls: good.length,
    failed: bad.length,
    firstError: bad[0] ? (bad[0].error ?? `ended after ${bad[0].commands} commands, ${bad[0].dials} Dials`) : null,
    elapsedMs,
    flowsPerSec: (good.length * 1000) / elapsedMs,
    headerToDialUs: good.map((r) => r.headerToDialUs),
    afterDialUs: good.flatMap((r) => r.afterDialUs),
    addedPerCallUs: good.map((r) => r.headerToDialUs + r.afterDialUs.reduce((a, b) => a + b, 0)),
  };
}
