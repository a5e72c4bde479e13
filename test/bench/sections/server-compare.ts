import type { BenchConfig, LoadPoint } from '../bench-config.js';
import { closedLoop, flowCarriers, NUMBER } from '../driver/closed-loop.js';
import { timedCall } from '../driver/timed-call.js';
import { summarize, type Summary } from '../report/percentiles.js';
import { listenCounters, treeUsage } from '../report/proc-usage.js';
import type { BenchServer, LagStats } from '../servers/bench-server.js';

/**
 * The comparison: every server at every load point, repetitions interleaved (daemon, floor, peer, daemon, …) so a
 * drift of the machine hits all of them alike. Flow A only (the 10-command flow every server can run).
 */

export interface RunFigures {
  readonly server: string;
  readonly repetition: number;
  readonly calls: number;
  readonly errors: number;
  readonly firstError: string | null;
  readonly flowsPerSec: number;
  /** Server CPU (user + system from /proc/<pid>/stat; the Perl peer's children and reaped children included). */
  readonly cpuUsPerFlow: number;
  readonly cpuPercent: number;
  /** The load generator's own CPU (this process), share of one core: near 100 it sets the pace. */
  readonly driverCpuPercent: number;
  readonly listenOverflows: number;
  readonly listenDrops: number;
  readonly rssBytes: number;
  readonly processes: number;
  readonly lag: LagStats | null;
  readonly addedPerCallUs: Summary;
}

export interface PointFigures {
  readonly point: LoadPoint;
  readonly runs: readonly RunFigures[];
}

export interface ServerMedian {
  readonly server: string;
  readonly flowsPerSec: number;
  readonly cpuUsPerFlow: number;
  readonly driverCpuPercent: number;
  readonly listenOverflows: number;
  readonly listenDrops: number;
  /** Summed over the repetitions. */
  readonly errors: number;
  readonly firstError: string | null;
  readonly rssBytes: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  readonly addedP50Us: number;
  readonly addedP99Us: number;
}

const median = (xs: readonly number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

export function medians(p: PointFigures, servers: readonly string[]): ServerMedian[] {
  return servers.map((server) => {
    const rs = p.runs.filter((r) => r.server === server);
    return {
      server,
      flowsPerSec: median(rs.map((r) => r.flowsPerSec)),
      cpuUsPerFlow: median(rs.map((r) => r.cpuUsPerFlow)),
      driverCpuPercent: median(rs.map((r) => r.driverCpuPercent)),
      listenOverflows: median(rs.map((r) => r.listenOverflows)),
      listenDrops: median(rs.map((r) => r.listenDrops)),
      errors: rs.reduce((a, r) => a + r.errors, 0),
      firstError: rs.find((r) => r.firstError)?.firstError ?? null,
      rssBytes: median(rs.map((r) => r.rssBytes)),
      lagP99Ms: median(rs.map((r) => r.lag?.p99Ms ?? NaN)),
      lagMaxMs: median(rs.map((r) => r.lag?.maxMs ?? NaN)),
      addedP50Us: median(rs.map((r) => r.addedPerCallUs.p50)),
      addedP99Us: median(rs.map((r) => r.addedPerCallUs.p99)),
    };
  });
}

/** Waits until a plain call goes through: the queue a window left behind (aborted calls in a backlog) is drained. */
async function settle(s: BenchServer): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const r = await timedCall({ port: s.port, number: NUMBER, uniqueid: `settle.${s.name}`, carriers: flowCarriers('A') });
    if (r.ok && r.vars.get('FAILOVER_STATUS') === 'ANSWER') return;
    await new Promise((r2) => setTimeout(r2, 200));
  }
}

async function measure(s: BenchServer, p: LoadPoint, repetition: number): Promise<RunFigures> {
  await settle(s);
  let cpu0 = 0;
  let cpu1 = 0;
  let listen0 = listenCounters();
  let listen1 = listen0;
  let driver0 = process.cpuUsage();
  let driverUs = 0;
  let rssBytes = 0;
  let processes = 0;
  let lag: LagStats | null = null;
  const r = await closedLoop(s.port, p.concurrency, p.holdMs, {
    warmMs: p.warmMs,
    measureMs: p.measureMs,
    onOpen: async () => {
      if (s.lag) await s.lag(true);
      cpu0 = treeUsage(s.pid).cpuUs;
      listen0 = listenCounters();
      driver0 = process.cpuUsage();
    },
    onClose: async () => {
      const d = process.cpuUsage(driver0);
      driverUs = d.user + d.system;
      const u = treeUsage(s.pid);
      cpu1 = u.cpuUs;
      rssBytes = u.rssBytes;
      processes = u.processes;
      listen1 = listenCounters();
      lag = s.lag ? await s.lag(false) : null;
    },
  });
  const cpuUs = cpu1 - cpu0;
  return {
    server: s.name,
    repetition,
    calls: r.calls,
    errors: r.failed,
    firstError: r.firstError,
    flowsPerSec: r.flowsPerSec,
    cpuUsPerFlow: r.calls > 0 ? cpuUs / r.calls : NaN,
    cpuPercent: (cpuUs / (r.elapsedMs * 1000)) * 100,
    driverCpuPercent: (driverUs / (r.elapsedMs * 1000)) * 100,
    listenOverflows: listen1.overflows - listen0.overflows,
    listenDrops: listen1.drops - listen0.drops,
    rssBytes,
    processes,
    lag,
    addedPerCallUs: summarize(r.addedPerCallUs),
  };
}

export async function compareServers(servers: readonly BenchServer[], cfg: Pick<BenchConfig, 'points' | 'repetitions'>, progress: (line: string) => void): Promise<PointFigures[]> {
  const out: PointFigures[] = [];
  for (const p of cfg.points) {
    const runs: RunFigures[] = [];
    for (let rep = 1; rep <= cfg.repetitions; rep++) {
      for (const s of servers) {
        const f = await measure(s, p, rep);
        runs.push(f);
        progress(`  ${p.concurrency}${p.holdMs ? ` x ${p.holdMs / 1000} s` : ''} #${rep} ${s.name}: ${f.flowsPerSec.toFixed(1)} flows/s, ${f.cpuUsPerFlow.toFixed(0)} µs CPU/flow, driver ${f.driverCpuPercent.toFixed(0)} %, overflows ${f.listenOverflows}, errors ${f.errors}`);
      }
    }
    out.push({ point: p, runs });
  }
  return out;
}
