import type { AttemptLogOutcome } from '../sections/attempt-log.js';
import type { ProfileResult } from '../sections/cpu-profile.js';
import type { FidelityResult } from '../sections/fidelity.js';
import type { HeldResult } from '../sections/held-calls.js';
import { medians, type PointFigures, type ServerMedian } from '../sections/server-compare.js';
import type { LoadPoint } from '../bench-config.js';
import type { MachineInfo } from './machine-info.js';
import { mb, ms, printTable, verdict } from './table.js';

/** The targets: reported against the figures, never asserted. */
export const TARGETS = {
  floorRatio: 0.8,
  floorRatioAt: [1, 100, 1000],
  peerRatioUnheld: 1.5,
  peerRatioHeld: 10,
  cpuVsFloor: 1.5,
  heldRssMb: 160,
  heldFirstCommandP99Ms: 10,
} as const;
const ROWS_TARGET = 20_000;

export function printMachine(m: MachineInfo, quick: boolean): void {
  console.log(`failover-agi bench${quick ? ' (BENCH_QUICK=1: smoke sizes, figures not representative)' : ''}`);
  console.log(`${m.date}  ${m.cpuModel}, ${m.cores} cores, ${mb(m.ramBytes).toFixed(0)} MB RAM, node ${m.node}, ${m.os}, ulimit -n ${m.openFilesSoftLimit ?? '?'}, load average ${m.loadAverage.map((x) => x.toFixed(2)).join(' ')}`);
  if ((m.loadAverage[0] ?? 0) > m.cores / 2) console.log(`warning: the box is already busy (load ${m.loadAverage[0]?.toFixed(2)} on ${m.cores} cores): figures will be low and noisy`);
  console.log('Servers run in processes of their own (the daemon as `failover-agi run`), the load generator in this one; they share the machine\'s cores.');
}

export function printFidelity(f: FidelityResult): void {
  printTable(
    `Fidelity: one flow-A call through the real simulator (test/sim/agi-sim.ts); the floor replays the daemon's ${f.daemonCommands.length} commands`,
    ['server', 'commands', 'Dials', 'FAILOVER_STATUS', 'carrier', 'same commands as the daemon'],
    f.rows.map((r) => [r.server, r.commands.length, r.dials, r.failoverStatus, r.failoverCarrier, r.sameAsDaemon ? 'yes' : `NO: ${r.firstDifference ?? ''}`]),
  );
}

export const pointName = (p: LoadPoint): string => `${p.concurrency.toLocaleString('en-US')} (${p.holdMs / 1000} s)`;

export interface PointSummary {
  readonly point: string;
  readonly concurrency: number;
  readonly holdMs: number;
  readonly servers: readonly ServerMedian[];
  /** One per daemon configuration. */
  readonly daemons: readonly { readonly server: string; readonly floorRatio: number; readonly peerRatio: number; readonly cpuVsFloor: number }[];
}

export function summarizePoints(points: readonly PointFigures[], daemons: readonly string[], floor: string, peer: string | null): PointSummary[] {
  const names = [...daemons, floor, ...(peer ? [peer] : [])];
  return points.map((p) => {
    const m = medians(p, names);
    const get = (n: string): ServerMedian | undefined => m.find((x) => x.server === n);
    const f = get(floor);
    const pe = peer ? get(peer) : undefined;
    return {
      point: pointName(p.point),
      concurrency: p.point.concurrency,
      holdMs: p.point.holdMs,
      servers: m,
      daemons: daemons.map((d) => {
        const x = get(d);
        return {
          server: d,
          floorRatio: (x?.flowsPerSec ?? NaN) / (f?.flowsPerSec ?? NaN),
          peerRatio: (x?.flowsPerSec ?? NaN) / (pe?.flowsPerSec ?? NaN),
          cpuVsFloor: (x?.cpuUsPerFlow ?? NaN) / (f?.cpuUsPerFlow ?? NaN),
        };
      }),
    };
  });
}

const peerTarget = (holdMs: number): number => (holdMs > 0 ? TARGETS.peerRatioHeld : TARGETS.peerRatioUnheld);

export function printComparison(rows: readonly PointSummary[], floor: string, peer: string | null, repetitions: number): void {
  const cell = (r: PointSummary, n: string | null): ServerMedian | undefined => (n ? r.servers.find((x) => x.server === n) : undefined);
  printTable(
    `1. Flows/s, median of ${repetitions} interleaved repetitions; ratio = daemon / other (targets: floor ≥ ${TARGETS.floorRatio} at ${TARGETS.floorRatioAt.join(', ')}; peer ≥ ${TARGETS.peerRatioUnheld} unheld, ≥ ${TARGETS.peerRatioHeld} held)`,
    ['concurrent (hold)', 'daemon', 'flows/s', 'floor', 'ratio', '', 'Perl peer', 'ratio', ''],
    rows.flatMap((r) =>
      r.daemons.map((d) => {
        const floorChecked = r.holdMs === 0 && (TARGETS.floorRatioAt as readonly number[]).includes(r.concurrency);
        return [
          r.point, d.server, cell(r, d.server)?.flowsPerSec ?? NaN, cell(r, floor)?.flowsPerSec ?? NaN, d.floorRatio, floorChecked ? verdict(d.floorRatio >= TARGETS.floorRatio) : '',
          peer ? (cell(r, peer)?.flowsPerSec ?? NaN) : 'skipped', d.peerRatio, peer ? verdict(d.peerRatio >= peerTarget(r.holdMs)) : '',
        ];
      }),
    ),
  );
  const names = rows[0]?.servers.map((s) => s.server) ?? [];
  printTable(
    `2. Per server, medians: server CPU per flow (/proc/<pid>/stat; peer: its 16 processes), the driver's CPU, kernel listen-queue overflows/drops, errors (sum), event-loop lag (1 ms resolution, inside the process)`,
    ['concurrent (hold)', 'server', 'CPU µs/flow', 'vs floor', '', 'driver CPU %', 'ListenOverflows', 'ListenDrops', 'errors', 'lag p99 ms', 'lag max', 'RSS MB', 'added p50 ms', 'p99'],
    rows.flatMap((r) =>
      names.map((n) => {
        const x = cell(r, n);
        const d = r.daemons.find((y) => y.server === n);
        return [
          r.point, n, x?.cpuUsPerFlow ?? NaN, d ? d.cpuVsFloor : '', d ? verdict(d.cpuVsFloor <= TARGETS.cpuVsFloor) : '', x?.driverCpuPercent ?? NaN,
          x?.listenOverflows ?? NaN, x?.listenDrops ?? NaN, x?.errors ?? NaN, x?.lagP99Ms ?? NaN, x?.lagMaxMs ?? NaN, mb(x?.rssBytes ?? NaN), ms(x?.addedP50Us ?? NaN), ms(x?.addedP99Us ?? NaN),
        ];
      }),
    ),
  );
  console.log(`driver CPU % near 100: the load generator (one Node process) sets the pace at that point, and the servers' flows/s there are a lower bound.`);
  console.log(`ListenOverflows/Drops are the kernel's TcpExt counters over each window (the whole namespace; one server is under load at a time).`);
  console.log(`lag "-": not a Node process (the Perl peer). added = header → first Dial + every Dial result → next command, as the driver sees it.`);
  for (const r of rows) for (const x of r.servers) if (x.firstError) console.log(`first error at ${r.point}, ${x.server}: ${x.firstError}`);
}

export function printProfile(p: ProfileResult | null): void {
  if (!p) return;
  printTable(
    `3. Where the daemon's CPU goes: --cpu-prof at 100 concurrent, ${p.flows} flows, ${(p.totalMs / 1000).toFixed(1)} s sampled (idle excluded from the list), self time`,
    ['function', 'where', 'self ms', '% of samples'],
    p.top.map((e) => [e.fn, e.where, e.selfMs, e.percent]),
  );
}

export function printHeld(h: HeldResult): void {
  if (h.capReason) console.log(`\nnote: ${h.capReason}`);
  printTable(
    `4. Held calls: ${h.held} calls held open in an answered EXEC Dial at once (ramped in ${(h.rampMs / 1000).toFixed(1)} s), daemon as run by a user`,
    ['figure', 'value', 'target', ''],
    [
      ['daemon RSS idle, MB', mb(h.idleRssBytes), '', ''],
      ['daemon RSS while held, MB', mb(h.heldRssBytes), `≤ ${TARGETS.heldRssMb}`, verdict(mb(h.heldRssBytes) <= TARGETS.heldRssMb)],
      ['daemon heap used while held, MB', mb(h.heldHeapBytes), '', ''],
      ['daemon open file descriptors while held', h.daemonFds, '', ''],
      ['event-loop lag p50, ms', h.lagP50Ms, '', ''],
      ['event-loop lag p99, ms', h.lagP99Ms, '', ''],
      ['event-loop lag max, ms', h.lagMaxMs, '', ''],
      ['new call wait (hdr→1st cmd) idle p50/p99, ms', `${ms(h.idleWaitUs.p50).toFixed(2)} / ${ms(h.idleWaitUs.p99).toFixed(2)}`, '', ''],
      ['new call wait while held p50/p99, ms', `${ms(h.heldWaitUs.p50).toFixed(2)} / ${ms(h.heldWaitUs.p99).toFixed(2)}`, `p99 ≤ ${TARGETS.heldFirstCommandP99Ms}`, verdict(ms(h.heldWaitUs.p99) <= TARGETS.heldFirstCommandP99Ms)],
      ['release all: ms until every call ended', h.releaseMs, '', ''],
      ['calls finished ANSWER after release', `${h.completedAfterRelease} / ${h.held}`, '', ''],
    ],
  );
}

export function printAttemptLog(a: AttemptLogOutcome): void {
  if ('skipped' in a) {
    console.log(`\n== 5. Attempt log\nattempt log skipped: ${a.skipped}`);
    return;
  }
  const w = a.writer;
  printTable(`5. Attempt log: RecordStore batched writer into MariaDB (${w.rows} rows enqueued, backlog kept ≤ 10,000)`, ['figure', 'value', 'target', ''], [
    ['rows/s until queue empty and flushed', w.rowsPerSec, `≥ ${ROWS_TARGET}`, verdict(w.rowsPerSec >= ROWS_TARGET)],
    ['seconds', w.seconds, '', ''],
    ['rows in the table afterwards', w.rowsInDb, String(w.rows), w.rowsInDb === w.rows ? 'all in' : 'MISSING ROWS'],
    ['spooled / write errors', `${w.spooled} / ${w.writeErrors}`, '0 / 0', ''],
  ]);
  const r = (x: number, y: number): number => x / y;
  printTable('5b. Call-path store.attempt() latency, µs (~2,000 attempts/s), database up vs down (port 1, spooling)', ['case', 'n', 'p50', 'p99', 'max'], [
    ['database up', a.latencyUpUs.n, a.latencyUpUs.p50, a.latencyUpUs.p99, a.latencyUpUs.max],
    [`database down (${a.downSpooled} spooled)`, a.latencyDownUs.n, a.latencyDownUs.p50, a.latencyDownUs.p99, a.latencyDownUs.max],
    ['down / up', '', r(a.latencyDownUs.p50, a.latencyUpUs.p50), r(a.latencyDownUs.p99, a.latencyUpUs.p99), r(a.latencyDownUs.max, a.latencyUpUs.max)],
  ]);
  console.log('Target: no difference (down/up ≈ 1).');
}
