import type { BenchConfig } from '../bench-config.js';
import { closedLoop, type Flow } from '../driver/closed-loop.js';
import { summarize, type Summary } from '../report/percentiles.js';
import type { ServerChild } from '../servers/child-handle.js';

export interface ThroughputRow {
  readonly server: string;
  readonly flow: Flow;
  readonly concurrency: number;
  readonly calls: number;
  readonly failed: number;
  readonly firstError: string | null;
  readonly flowsPerSec: number;
  readonly headerToDialUs: Summary;
  readonly afterDialUs: Summary;
  readonly addedPerCallUs: Summary;
  /** Share of one core the server used while the load ran (user + system). */
  readonly cpuPercent: number;
  readonly cpuUsPerFlow: number;
  readonly rssBytes: number;
  readonly lagP99Ms: number;
  /** Share of one core the load generator (this process) used: near 100 it, not the server, sets the pace. */
  readonly simCpuPercent: number;
}

/** Closed-loop load at each concurrency against a server child, after a warm-up the figures leave out (JIT, pools). */
export async function measureThroughput(server: ServerChild, name: string, flow: Flow, concurrency: number, cfg: BenchConfig): Promise<ThroughputRow> {
  await server.setFlow(flow);
  await closedLoop(server.port, flow, concurrency, cfg.throughputMs / 4);
  await server.reset();
  const simBase = process.cpuUsage();
  const r = await closedLoop(server.port, flow, concurrency, cfg.throughputMs);
  const sim = process.cpuUsage(simBase);
  const u = await server.usage();
  const cpuUs = u.cpuUserUs + u.cpuSystemUs;
  return {
    server: name,
    flow,
    concurrency,
    calls: r.calls,
    failed: r.failed,
    firstError: r.firstError,
    flowsPerSec: r.flowsPerSec,
    headerToDialUs: summarize(r.headerToDialUs),
    afterDialUs: summarize(r.afterDialUs),
    addedPerCallUs: summarize(r.addedPerCallUs),
    cpuPercent: (cpuUs / (r.elapsedMs * 1000)) * 100,
    cpuUsPerFlow: r.calls > 0 ? cpuUs / r.calls : NaN,
    rssBytes: u.rssBytes,
    lagP99Ms: u.lagP99Ms,
    simCpuPercent: ((sim.user + sim.system) / (r.elapsedMs * 1000)) * 100,
  };
}

export async function throughputMatrix(server: ServerChild, name: string, cfg: BenchConfig): Promise<ThroughputRow[]> {
  const rows: ThroughputRow[] = [];
  for (const flow of ['A', 'B'] as const) {
    for (const c of cfg.throughputConcurrency) rows.push(await measureThroughput(server, name, flow, c, cfg));
  }
  return rows;
}
