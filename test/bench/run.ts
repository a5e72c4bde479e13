import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchConfig } from './bench-config.js';
import { machineInfo } from './report/machine-info.js';
import { printAttemptLog, printFidelity, printFloor, printHeld, printMachine, printPeer, printThroughput } from './report/print-sections.js';
import { benchAttemptLog } from './sections/attempt-log.js';
import { checkFidelity } from './sections/fidelity.js';
import { holdCalls } from './sections/held-calls.js';
import { comparePeer } from './sections/peer-compare.js';
import { throughputMatrix } from './sections/throughput.js';
import { ServerChild } from './servers/child-handle.js';

/**
 * `npm run bench`: prints figures and writes them to test/bench/results/latest.json (the figures README quotes).
 * It never asserts timing. BENCH_QUICK=1 writes quick.json instead, so a smoke run never replaces real figures.
 */

const cfg = benchConfig();
// from dist/test/bench back to the source tree, where results/ lives beside this file
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'bench', 'results', cfg.quick ? 'quick.json' : 'latest.json');

const machine = machineInfo();
const started = performance.now();
printMachine(machine, cfg.quick);

const daemon = await ServerChild.start('daemon');
const floor = await ServerChild.start('floor');
let results: Record<string, unknown>;
try {
  const fidelity = await checkFidelity(daemon, floor);
  printFidelity(fidelity);
  const ours = await throughputMatrix(daemon, 'failover-agi', cfg);
  const floorRows = await throughputMatrix(floor, 'floor', cfg);
  printThroughput([...ours, ...floorRows]);
  printFloor(ours, floorRows);
  await floor.stop();
  const peer = await comparePeer(daemon, cfg);
  printPeer(peer);
  await daemon.stop();
  const held = await holdCalls(cfg);
  printHeld(held);
  const attemptLog = await benchAttemptLog(cfg);
  printAttemptLog(attemptLog);
  results = { machine, quick: cfg.quick, config: cfg, fidelity, throughput: ours, floor: floorRows, peer, held, attemptLog };
} finally {
  await floor.stop();
  await daemon.stop();
}
results['elapsedSeconds'] = (performance.now() - started) / 1000;
mkdirSync(dirname(RESULTS), { recursive: true });
writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nTotal ${(performance.now() - started) / 1000 | 0} s. Figures written to ${RESULTS}`);
