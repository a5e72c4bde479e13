import type { BenchConfig } from '../bench-config.js';
import { closedLoop } from '../driver/closed-loop.js';
import { PEER_INSTALL, peerMissing, startPerlPeer } from '../peers/perl-peer.js';
import { summarize, type Summary } from '../report/percentiles.js';
import { treeUsage } from '../report/proc-usage.js';
import type { ServerChild } from '../servers/child-handle.js';
import { measureThroughput, type ThroughputRow } from './throughput.js';

export interface PeerRow {
  readonly concurrency: number;
  readonly peerFlowsPerSec: number;
  readonly peerFailed: number;
  readonly peerFirstError: string | null;
  readonly peerAddedPerCallUs: Summary;
  readonly peerCpuUsPerFlow: number;
  readonly peerProcesses: number;
  readonly peerPssBytes: number;
  readonly ours: ThroughputRow;
  readonly ratio: number;
}

export type PeerResult = { readonly skipped: string } | { readonly rows: PeerRow[] };

/** Flow A only: the peer has no health view, so it cannot skip a down primary (flow B). */
export async function comparePeer(daemon: ServerChild, cfg: BenchConfig): Promise<PeerResult> {
  const missing = peerMissing();
  if (missing) return { skipped: `${missing}; install with ${PEER_INSTALL}` };
  const peer = await startPerlPeer();
  const rows: PeerRow[] = [];
  try {
    for (const c of cfg.peerConcurrency) {
      await closedLoop(peer.port, 'A', c, cfg.peerMs / 4);
      const before = treeUsage(peer.pid);
      const r = await closedLoop(peer.port, 'A', c, cfg.peerMs);
      const after = treeUsage(peer.pid);
      const ours = await measureThroughput(daemon, 'failover-agi', 'A', c, { ...cfg, throughputMs: cfg.peerMs });
      rows.push({
        concurrency: c,
        peerFlowsPerSec: r.flowsPerSec,
        peerFailed: r.failed,
        peerFirstError: r.firstError,
        peerAddedPerCallUs: summarize(r.addedPerCallUs),
        peerCpuUsPerFlow: r.calls > 0 ? (after.cpuUs - before.cpuUs) / r.calls : NaN,
        peerProcesses: after.processes,
        peerPssBytes: after.pssBytes,
        ours,
        ratio: ours.flowsPerSec / r.flowsPerSec,
      });
    }
  } finally {
    await peer.stop();
  }
  return { rows };
}
