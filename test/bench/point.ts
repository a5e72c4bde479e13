import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';
import { migrate } from '../../src/store/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import type { LoadPoint } from './bench-config.js';
import { topSelfTime } from './sections/cpu-profile.js';
import { checkFidelity } from './sections/fidelity.js';
import { PEER_INSTALL, peerMissing, startPerlPeer, type PerlPeer } from './peers/perl-peer.js';
import { compareServers, medians } from './sections/server-compare.js';
import type { BenchServer } from './servers/bench-server.js';
import { ServerChild } from './servers/child-handle.js';
import { DaemonProcess } from './servers/daemon-process.js';

/**
 * `npm run bench:point -- --concurrency 100 [--hold MS] [--reps N] [--db on|off] [--cpu-prof]`: one load point of the
 * full bench (the daemon as users run it against the same-commands floor, interleaved), for whoever works on the hot
 * path and wants a before/after figure in a minute instead of the full run. --peer adds the Perl peer; --agi-floor the
 * daemon's own FastAGI layer replaying the same commands with no call logic (agi-layer-floor.ts); --cpu-prof
 * also prints the daemon's top self time (the profile includes the warm-up). Prints; asserts nothing.
 */

const HELP = `usage: bench:point [--concurrency N=100] [--hold MS=0] [--warm MS=1000] [--measure MS=2500] [--reps N=3] [--db on|off=off] [--peer] [--agi-floor] [--cpu-prof [--keep-prof DIR]] [--top N=25]`;
const { values: a } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '100' },
    hold: { type: 'string', default: '0' },
    warm: { type: 'string', default: '1000' },
    measure: { type: 'string', default: '2500' },
    reps: { type: 'string', default: '3' },
    db: { type: 'string', default: 'off' },
    'cpu-prof': { type: 'boolean', default: false },
    peer: { type: 'boolean', default: false },
    'agi-floor': { type: 'boolean', default: false },
    'keep-prof': { type: 'string', default: '' },
    top: { type: 'string', default: '25' },
    help: { type: 'boolean', default: false },
  },
});
if (a.help) {
  console.log(HELP);
  process.exit(0);
}
const point: LoadPoint = { concurrency: Number(a.concurrency), holdMs: Number(a.hold), warmMs: Number(a.warm), measureMs: Number(a.measure) };
const reps = Number(a.reps);

let db: TestDatabase | null = null;
if (a.db === 'on') {
  db = await createTestDatabase();
  await migrate(db.db, createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, cb) => cb() })));
}
const keep = a['keep-prof'] ?? '';
const profDir = a['cpu-prof'] ? (keep !== '' ? keep : mkdtempSync(join(tmpdir(), 'fa-bench-point-prof-'))) : undefined;
const daemon = await DaemonProcess.start({ name: `daemon, db ${a.db}`, db: db?.db ?? null, ...(profDir ? { cpuProfDir: profDir } : {}) });
const floor = await ServerChild.start('floor');
let peer: PerlPeer | null = null;
let agiFloor: ServerChild | null = null;
try {
  if (a.peer) {
    const missing = peerMissing();
    if (missing) console.log(`Perl peer skipped: ${missing}; install with ${PEER_INSTALL}`);
    else peer = await startPerlPeer();
  }
  const fidelity = await checkFidelity(daemon, floor, peer ? [peer] : []);
  if (a['agi-floor']) {
    agiFloor = await ServerChild.start('agi-floor');
    await agiFloor.setFlow('A');
    await agiFloor.setCommands('A', fidelity.daemonCommands);
  }
  const servers: BenchServer[] = [daemon, floor, ...(peer ? [peer] : []), ...(agiFloor ? [agiFloor] : [])];
  const [p] = await compareServers(servers, { points: [point], repetitions: reps }, (l) => console.log(l));
  if (p) {
    const [d, f] = medians(p, [daemon.name, floor.name]);
    const pm = peer ? medians(p, [peer.name])[0] : undefined;
    const am = agiFloor ? medians(p, [agiFloor.name])[0] : undefined;
    if (am && d) console.log(`agi-layer floor ${am.flowsPerSec.toFixed(0)} flows/s ${am.cpuUsPerFlow.toFixed(0)} µs CPU/flow; daemon/agi-layer floor ${(d.flowsPerSec / am.flowsPerSec).toFixed(2)}, CPU ${(d.cpuUsPerFlow / am.cpuUsPerFlow).toFixed(2)}x`);
    if (pm && d) console.log(`peer ${pm.flowsPerSec.toFixed(1)} flows/s ${pm.cpuUsPerFlow.toFixed(0)} µs CPU/flow; daemon/peer ${(d.flowsPerSec / pm.flowsPerSec).toFixed(2)}`);
    if (d && f) {
      console.log(
        `median: daemon ${d.flowsPerSec.toFixed(0)} flows/s ${d.cpuUsPerFlow.toFixed(0)} µs CPU/flow rss ${(d.rssBytes / 2 ** 20).toFixed(0)} MB; ` +
          `floor ${f.flowsPerSec.toFixed(0)} flows/s ${f.cpuUsPerFlow.toFixed(0)} µs CPU/flow; ratio ${(d.flowsPerSec / f.flowsPerSec).toFixed(2)}, CPU ${(d.cpuUsPerFlow / f.cpuUsPerFlow).toFixed(2)}x`,
      );
    }
  }
} finally {
  await daemon.stop();
  await floor.stop();
  await peer?.stop();
  await agiFloor?.stop();
  await db?.drop();
}
if (profDir) {
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (file) {
    const { totalMs, top } = topSelfTime(JSON.parse(readFileSync(join(profDir, file), 'utf8')) as Parameters<typeof topSelfTime>[0], Number(a.top));
    console.log(`profile: ${totalMs.toFixed(0)} ms sampled`);
    for (const e of top) console.log(`${e.percent.toFixed(1).padStart(5)} %  ${e.selfMs.toFixed(0).padStart(6)} ms  ${e.fn} ${e.where}`);
  }
  if (keep === '') rmSync(profDir, { recursive: true, force: true });
  else console.log(`profile kept in ${profDir}/${file ?? '(none)'}`);
}
