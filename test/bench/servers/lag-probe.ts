import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import type { HeapStats, LagStats } from './bench-server.js';

/**
 * Preloaded into the daemon under test (`node --import`), so event-loop lag is measured inside the daemon's own
 * process at a 1 ms resolution, and nothing in src/ knows about the bench. It answers over the fork() IPC channel.
 */

const RESOLUTION_MS = 1;
const lag = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
lag.enable();
/** The histogram holds whole timer intervals; the lag is what exceeds the 1 ms the timer was asked for. */
const lagMs = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);

function stats(): LagStats {
  return { p50Ms: lagMs(lag.percentile(50)), p99Ms: lagMs(lag.percentile(99)), maxMs: lagMs(lag.max), heapUsedBytes: process.memoryUsage().heapUsed };
}

/** What the heap holds once the garbage is gone (the daemon started with --expose-gc; else as it stands). */
function heapAfterGc(snapshotDir: string | undefined): HeapStats {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const u = process.memoryUsage();
  const snapshot = snapshotDir ? writeHeapSnapshot(undefined) : null;
  return { collected: gc !== undefined, heapUsedBytes: u.heapUsed, rssBytes: u.rss, externalBytes: u.external, arrayBuffersBytes: u.arrayBuffers, snapshot };
}

process.on('message', (m: { t: string; id: number; snapshotDir?: string }) => {
  if (m.t === 'heap') {
    if (m.snapshotDir) process.chdir(m.snapshotDir);
    process.send?.({ t: 'heap', id: m.id, heap: heapAfterGc(m.snapshotDir) });
    return;
  }
  if (m.t === 'lag-reset') lag.reset();
  process.send?.({ t: 'lag', id: m.id, lag: stats() });
});
// a bench that dies (Ctrl-C, a crash) must not leave daemons behind: its end closes the channel, and the daemon
// is stopped as systemd stops it
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
// the channel must not keep a daemon alive that wants to exit
process.channel?.unref();
