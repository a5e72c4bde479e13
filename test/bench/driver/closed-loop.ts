import { timedCall, type BenchBehaviour, type TimedCallResult } from './timed-call.js';

/** The two flows: A is what every server in the comparison runs; B only the daemon can (it needs a health view). */
export type Flow = 'A' | 'B';

export const NUMBER = '15552345678';

/**
 * Flow A: primary says 503, secondary answers (and, with a hold, stays answered in Dial for holdMs).
 * Flow B: primary is down in the health view, secondary answers.
 */
export function flowCarriers(flow: Flow, holdMs = 0): Record<string, BenchBehaviour> {
  const answer: BenchBehaviour = holdMs > 0 ? { kind: 'hold', ms: holdMs } : { kind: 'answer' };
  return flow === 'A' ? { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': answer } : { 'carrier-primary': answer, 'carrier-b': answer };
}

export interface LoadResult {
  /** Flows that ended well inside the measurement window. */
  readonly calls: number;
  /** Flows that ended badly inside the window (aborted ones at its end are not errors). */
  readonly failed: number;
  readonly firstError: string | null;
  readonly elapsedMs: number;
  readonly flowsPerSec: number;
  readonly headerToFirstUs: number[];
  /** The server's own time per call: header→first Dial plus every Dial result→next command. */
  readonly addedPerCallUs: number[];
}

export interface Window {
  /** ms the load runs before the window opens (connections ramp, JIT, pools, held calls reach steady state). */
  readonly warmMs: number;
  readonly measureMs: number;
  /** Told when the window opens and when it closes, to read the servers' counters at those instants. */
  readonly onOpen?: () => void | Promise<void>;
  readonly onClose?: () => void | Promise<void>;
}

let seq = 0;

/**
 * N workers each run calls back to back: a closed loop, so the figure is the server's throughput at that many calls
 * in flight. Only flows that end inside the window count; when it closes every call still open is abandoned (its
 * socket destroyed), so a server with a long queue (the peer at 2,000 held calls) cannot stretch the run.
 */
export async function closedLoop(port: number, concurrency: number, holdMs: number, w: Window): Promise<LoadResult> {
  const carriers = flowCarriers('A', holdMs);
  let stop = (): void => undefined;
  const abort = new Promise<void>((r) => (stop = r));
  let open = false;
  let closed = false;
  const inWindow: TimedCallResult[] = [];
  // held calls start spread over one hold, as calls arrive on a dialer: started together they would end in waves,
  // and a window would count one wave more or less depending on a few ms. Unheld workers all connect at once.
  const worker = async (i: number): Promise<void> => {
    if (holdMs > 0) await new Promise((r) => setTimeout(r, (i * holdMs) / concurrency));
    while (!closed) {
      const r = await timedCall({ port, number: NUMBER, uniqueid: `1795412731.${++seq}`, carriers, abort });
      if (open && !closed) inWindow.push(r);
    }
  };
  const workers = Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
  await new Promise((r) => setTimeout(r, w.warmMs));
  await w.onOpen?.();
  open = true;
  const start = performance.now();
  await new Promise((r) => setTimeout(r, w.measureMs));
  closed = true;
  const elapsedMs = performance.now() - start;
  await w.onClose?.();
  stop();
  await workers;
  // a flow counts only if the server got it to the end: FAILOVER_STATUS set to ANSWER
  const done = (r: TimedCallResult): boolean => r.ok && r.vars.get('FAILOVER_STATUS') === 'ANSWER';
  const good = inWindow.filter(done);
  const bad = inWindow.filter((r) => !done(r));
  return {
    calls: good.length,
    failed: bad.length,
    firstError: bad[0] ? (bad[0].error ?? `ended after ${bad[0].commands} commands, ${bad[0].dials} Dials, FAILOVER_STATUS ${bad[0].vars.get('FAILOVER_STATUS') ?? 'unset'}`) : null,
    elapsedMs,
    flowsPerSec: (good.length * 1000) / elapsedMs,
    headerToFirstUs: good.map((r) => r.headerToFirstUs),
    addedPerCallUs: good.map((r) => r.headerToDialUs + r.afterDialUs.reduce((a, b) => a + b, 0)),
  };
}
