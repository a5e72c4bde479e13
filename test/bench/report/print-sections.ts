import type { AttemptLogOutcome } from '../sections/attempt-log.js';
import type { FidelityResult } from '../sections/fidelity.js';
import type { HeldResult } from '../sections/held-calls.js';
import type { PeerResult } from '../sections/peer-compare.js';
import type { ThroughputRow } from '../sections/throughput.js';
import type { MachineInfo } from './machine-info.js';
import { mb, ms, printTable, verdict } from './table.js';

const FLOOR_TARGET = 0.7;
const RSS_TARGET_MB = 256;
const LAG_TARGET_MS = 10;
const ROWS_TARGET = 20_000;

export function printMachine(m: MachineInfo, quick: boolean): void {
  console.log(`failover-agi bench${quick ? ' (BENCH_QUICK=1: smoke sizes, figures not representative)' : ''}`);
  console.log(`${m.date}  ${m.cpuModel}, ${m.cores} cores, ${mb(m.ramBytes).toFixed(0)} MB RAM, node ${m.node}, ${m.os}, ulimit -n ${m.openFilesSoftLimit ?? '?'}`);
  console.log('Servers run in child processes (fork), the load generator in this process; both share the machine\'s cores.');
}

export function printFidelity(rows: readonly FidelityResult[]): void {
  printTable(
    'Flows through the real simulator (test/sim/agi-sim.ts), one call each',
    ['flow', 'daemon commands', 'Dials', 'FAILOVER_STATUS', 'carrier', 'floor sends same'],
    rows.map((r) => [r.flow, r.daemonCommands.length, r.dials.length, r.failoverStatus, r.failoverCarrier, r.floorMatches ? 'yes' : 'NO (floor-server.ts is stale)']),
  );
}

export function printThroughput(rows: readonly ThroughputRow[]): void {
  printTable(
    '1. Throughput: closed loop, A = primary 503 then secondary answers, B = primary down (skipped), secondary answers',
    ['server', 'flow', 'conc', 'flows/s', 'hdr→Dial p50 ms', 'p99', 'Dial→next p50 ms', 'p99', 'added/call p50 ms', 'p99', 'CPU %', 'CPU µs/flow', 'RSS MB', 'sim CPU %', 'failed'],
    rows.map((r) => [
      r.server, r.flow, r.concurrency, r.flowsPerSec,
      ms(r.headerToDialUs.p50), ms(r.headerToDialUs.p99), ms(r.afterDialUs.p50), ms(r.afterDialUs.p99),
      ms(r.addedPerCallUs.p50), ms(r.addedPerCallUs.p99), r.cpuPercent, r.cpuUsPerFlow, mb(r.rssBytes), r.simCpuPercent, r.failed,
    ]),
  );
  console.log('added/call = hdr→first Dial + every Dial result→next command, measured by the simulator; CPU % = share of one core.');
  console.log('sim CPU % is the load generator: near 100 it sets the pace, and the server figures above it are a lower bound.');
  const bad = rows.find((r) => r.firstError);
  if (bad) console.log(`first failure (${bad.server} ${bad.flow} x${bad.concurrency}): ${bad.firstError}`);
}

export function printFloor(ours: readonly ThroughputRow[], floor: readonly ThroughputRow[]): void {
  printTable(
    `2. Protocol floor: our flows/s as a share of a logic-free server sending the same commands (target ≥ ${FLOOR_TARGET})`,
    ['flow', 'conc', 'ours flows/s', 'floor flows/s', 'ratio', 'target', 'ours CPU µs/flow', 'floor CPU µs/flow', ''],
    ours.map((o) => {
      const f = floor.find((x) => x.flow === o.flow && x.concurrency === o.concurrency);
      const ratio = f ? o.flowsPerSec / f.flowsPerSec : NaN;
      return [o.flow, o.concurrency, o.flowsPerSec, f?.flowsPerSec ?? NaN, ratio, `≥ ${FLOOR_TARGET}`, o.cpuUsPerFlow, f?.cpuUsPerFlow ?? NaN, verdict(ratio >= FLOOR_TARGET)];
    }),
  );
}

export function printPeer(p: PeerResult): void {
  if ('skipped' in p) {
    console.log(`\n== 3. Peer\npeer skipped: ${p.skipped}`);
    return;
  }
  printTable(
    '3. Peer: Perl Net::Server::PreFork + Asterisk::AGI (defaults: min_servers 5, max_servers 50, max_requests 1000), flow A',
    ['conc', 'ours flows/s', 'peer flows/s', 'ratio', 'ours added p50 ms', 'p99', 'peer added p50 ms', 'p99', 'ours CPU µs/flow', 'peer CPU µs/flow', 'ours RSS MB', 'peer PSS MB (procs)', 'peer failed'],
    p.rows.map((r) => [
      r.concurrency, r.ours.flowsPerSec, r.peerFlowsPerSec, r.ratio,
      ms(r.ours.addedPerCallUs.p50), ms(r.ours.addedPerCallUs.p99), ms(r.peerAddedPerCallUs.p50), ms(r.peerAddedPerCallUs.p99),
      r.ours.cpuUsPerFlow, r.peerCpuUsPerFlow, mb(r.ours.rssBytes), `${mb(r.peerPssBytes).toFixed(0)} (${r.peerProcesses})`, r.peerFailed,
    ]),
  );
  console.log('The peer reads DIALSTATUS and HANGUPCAUSE with two GET VARIABLEs per Dial; ours reads them (and the SIP cause) with one GET FULL VARIABLE.');
}

export function printHeld(h: HeldResult): void {
  if (h.capReason) console.log(`\nnote: ${h.capReason}`);
  printTable(
    `4. Concurrency: ${h.held} calls held open in EXEC Dial at once (ramped in ${(h.rampMs / 1000).toFixed(1)} s)`,
    ['figure', 'value', 'target', ''],
    [
      ['daemon RSS idle, MB', mb(h.idleRssBytes), '', ''],
      ['daemon RSS while held, MB', mb(h.heldRssBytes), `≤ ${RSS_TARGET_MB}`, verdict(mb(h.heldRssBytes) <= RSS_TARGET_MB)],
      ['daemon heap used while held, MB', mb(h.heldHeapBytes), '', ''],
      ['daemon connections while held', h.daemonConnections, '', ''],
      ['event-loop lag p50, ms', h.lagP50Ms, '', ''],
      ['event-loop lag p99, ms', h.lagP99Ms, `≤ ${LAG_TARGET_MS}`, verdict(h.lagP99Ms <= LAG_TARGET_MS)],
      ['event-loop lag max, ms', h.lagMaxMs, '', ''],
      ['new call wait (hdr→1st cmd) idle p50/p99, ms', `${ms(h.idleWaitUs.p50).toFixed(2)} / ${ms(h.idleWaitUs.p99).toFixed(2)}`, '', ''],
      ['new call wait while held p50/p99, ms', `${ms(h.heldWaitUs.p50).toFixed(2)} / ${ms(h.heldWaitUs.p99).toFixed(2)}`, '', ''],
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
