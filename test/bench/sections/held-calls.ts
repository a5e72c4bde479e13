import type { BenchConfig } from '../bench-config.js';
import { flowCarriers, NUMBER } from '../driver/closed-loop.js';
import { timedCall, type TimedCallResult } from '../driver/timed-call.js';
import { openFilesLimit } from '../report/machine-info.js';
import { summarize, type Summary } from '../report/percentiles.js';
import { readdirSync } from 'node:fs';
import { treeUsage } from '../report/proc-usage.js';
import type { DaemonProcess } from '../servers/daemon-process.js';

export interface HeldResult {
  readonly target: number;
  readonly held: number;
  readonly capReason: string | null;
  readonly rampMs: number;
  readonly idleRssBytes: number;
  readonly heldRssBytes: number;
  readonly heldHeapBytes: number;
  /** Open file descriptors of the daemon while held (one socket per call, plus its own). */
  readonly daemonFds: number;
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  readonly idleWaitUs: Summary;
  readonly heldWaitUs: Summary;
  readonly releaseMs: number;
  readonly completedAfterRelease: number;
}

/** Both processes need a descriptor per call (the simulator here, the daemon in its child) and some to spare. */
function heldCount(wanted: number): { n: number; reason: string | null } {
  const limit = openFilesLimit();
  const spare = 500;
  if (limit === null || limit >= wanted + spare) return { n: wanted, reason: null };
  return { n: Math.max(0, limit - spare), reason: `ulimit -n is ${limit}: ${limit - spare} calls held, not ${wanted} (nothing raised system-wide)` };
}

/** Sequential new calls: how long each waits for its first command (header written → command read). */
async function probe(port: number, n: number, tag: string): Promise<number[]> {
  const waits: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await timedCall({ port, number: NUMBER, uniqueid: `probe.${tag}.${i}`, carriers: flowCarriers('A') });
    if (r.ok) waits.push(r.headerToFirstUs);
  }
  return waits;
}

const fds = (pid: number): number => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
};

/** The daemon as a user runs it (daemon-process.ts), started fresh so RSS is that of the held calls alone. */
export async function holdCalls(cfg: BenchConfig, start: () => Promise<DaemonProcess>, inspect?: (d: DaemonProcess, phase: 'idle' | 'held') => Promise<void>): Promise<HeldResult> {
  const { n, reason } = heldCount(cfg.heldCalls);
  const daemon = await start();
  try {
    // a first round warms the JIT, so the idle and held waits compare like with like
    await probe(daemon.port, cfg.probeCalls, 'warm');
    const idleWait = await probe(daemon.port, cfg.probeCalls, 'idle');
    const idleRss = treeUsage(daemon.pid).rssBytes;
    await inspect?.(daemon, 'idle');
    let release = (): void => undefined;
    const released = new Promise<void>((r) => (release = r));
    // a long talkMs: primary answers and the Dial reply waits, so every AGI connection stays open in Dial
    const carriers = { 'carrier-primary': { kind: 'held' as const, release: released } };
    const calls: Promise<TimedCallResult>[] = [];
    const rampStart = performance.now();
    for (let i = 0; i < n; i += cfg.rampBatch) {
      const inDial: Promise<void>[] = [];
      for (let j = i; j < Math.min(n, i + cfg.rampBatch); j++) {
        inDial.push(
          new Promise<void>((onDial) => {
            const call = timedCall({ port: daemon.port, number: NUMBER, uniqueid: `held.${j}`, carriers, onDial });
            // a call that ends before its Dial must not stall the ramp
            calls.push(call.finally(onDial));
          }),
        );
      }
      await Promise.all(inDial);
    }
    const rampMs = performance.now() - rampStart;
    await daemon.lag(true);
    const steadyEnd = performance.now() + cfg.heldSteadyMs;
    const heldWait = await probe(daemon.port, cfg.probeCalls, 'held');
    const rest = steadyEnd - performance.now();
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    const lag = await daemon.lag(false);
    const heldRss = treeUsage(daemon.pid).rssBytes;
    const heldFds = fds(daemon.pid);
    await inspect?.(daemon, 'held');
    const releaseStart = performance.now();
    release();
    const done = await Promise.all(calls);
    return {
      target: cfg.heldCalls,
      held: n,
      capReason: reason,
      rampMs,
      idleRssBytes: idleRss,
      heldRssBytes: heldRss,
      heldHeapBytes: lag.heapUsedBytes,
      daemonFds: heldFds,
      lagP50Ms: lag.p50Ms,
      lagP99Ms: lag.p99Ms,
      lagMaxMs: lag.maxMs,
      idleWaitUs: summarize(idleWait),
      heldWaitUs: summarize(heldWait),
      releaseMs: performance.now() - releaseStart,
      completedAfterRelease: done.filter((r) => r.ok && r.vars.get('FAILOVER_STATUS') === 'ANSWER').length,
    };
  } finally {
    await daemon.stop();
  }
}
