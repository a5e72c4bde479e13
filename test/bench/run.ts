import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';
import { migrate } from '../../src/store/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { benchConfig } from './bench-config.js';
import { PEER_INSTALL, peerMissing, startPerlPeer, type PerlPeer } from './peers/perl-peer.js';
import { machineInfo } from './report/machine-info.js';
import { printAttemptLog, printComparison, printFidelity, printHeld, printMachine, printProfile, summarizePoints } from './report/print-sections.js';
import { benchAttemptLog } from './sections/attempt-log.js';
import { profileDaemon } from './sections/cpu-profile.js';
import { checkFidelity } from './sections/fidelity.js';
import { holdCalls } from './sections/held-calls.js';
import { compareServers } from './sections/server-compare.js';
import type { BenchServer } from './servers/bench-server.js';
import { ServerChild } from './servers/child-handle.js';
import { DaemonProcess } from './servers/daemon-process.js';

/**
 * `npm run bench`: prints figures and writes them to test/bench/results/latest.json (the figures docs/performance.md quotes).
 * It never asserts timing. BENCH_QUICK=1 writes quick.json instead, so a smoke run never replaces real figures.
 */

const cfg = benchConfig();
// from dist/test/bench back to the source tree, where results/ lives beside this file
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'bench', 'results', cfg.quick ? 'quick.json' : 'latest.json');

const machine = machineInfo();
const started = performance.now();
printMachine(machine, cfg.quick);

/** The daemon's attempt-log database, migrated; null (with the reason printed) when no MariaDB answers. */
async function benchDatabase(): Promise<TestDatabase | null> {
  try {
    const t = await createTestDatabase();
    await migrate(t.db, createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, cb) => cb() })));
    return t;
  } catch (err) {
    console.log(`database-on daemon skipped: MariaDB/MySQL not answering (${(err as Error).message}); start it, or set MYSQL_URL`);
    return null;
  }
}

const db = await benchDatabase();
const missing = peerMissing();
if (missing) console.log(`Perl peer skipped: ${missing}; install with ${PEER_INSTALL}`);
const daemons: DaemonProcess[] = [];
let floor: ServerChild | null = null;
let peer: PerlPeer | null = null;
const stopAll = async (): Promise<void> => {
  for (const s of [...daemons, ...(floor ? [floor] : []), ...(peer ? [peer] : [])]) await s.stop();
};
let results: Record<string, unknown>;
try {
  daemons.push(await DaemonProcess.start({ name: 'daemon, db off', db: null }));
  if (db) daemons.push(await DaemonProcess.start({ name: 'daemon, db on', db: db.db }));
  floor = await ServerChild.start('floor');
  peer = missing ? null : await startPerlPeer();
  const [first, ...otherDaemons] = daemons as [DaemonProcess, ...DaemonProcess[]];
  const fidelity = await checkFidelity(first, floor, [...otherDaemons, ...(peer ? [peer] : [])]);
  printFidelity(fidelity);
  const servers: BenchServer[] = [...daemons, floor, ...(peer ? [peer] : [])];
  console.log(`\nMeasuring ${cfg.points.length} points × ${cfg.repetitions} repetitions × ${servers.length} servers, interleaved:`);
  const points = await compareServers(servers, cfg, (l) => console.log(l));
  const summary = summarizePoints(points, daemons.map((d) => d.name), floor.name, peer?.name ?? null);
  printComparison(summary, floor.name, peer?.name ?? null, cfg.repetitions);
  const daemonStdoutBytes = Object.fromEntries(daemons.map((d) => [d.name, d.stdoutBytes]));
  await stopAll();
  const profile = await profileDaemon(cfg, db?.db ?? null);
  printProfile(profile);
  const held = await holdCalls(cfg, () => DaemonProcess.start({ name: db ? 'daemon, db on (held)' : 'daemon, db off (held)', db: db?.db ?? null }));
  printHeld(held);
  const attemptLog = await benchAttemptLog(cfg);
  printAttemptLog(attemptLog);
  results = { machine, quick: cfg.quick, config: cfg, peerSkipped: missing, databaseOn: db !== null, fidelity, summary, points, daemonStdoutBytes, profile, held, attemptLog };
} finally {
  await stopAll();
  await db?.drop();
}
results['elapsedSeconds'] = (performance.now() - started) / 1000;
results['loadAverageAtEnd'] = loadavg();
mkdirSync(dirname(RESULTS), { recursive: true });
writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nTotal ${(performance.now() - started) / 1000 | 0} s. Figures written to ${RESULTS}`);
