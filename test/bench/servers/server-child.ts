import { Writable } from 'node:stream';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { RecordSink } from '../../../src/calls/records.js';
import { loadConfig } from '../../../src/config/load.js';
import { startDaemon } from '../../../src/daemon.js';
import { unknownHealth } from '../../support/unknown-health.js';
import type { HealthView } from '../../../src/health/types.js';
import { createLogger } from '../../../src/log.js';
import { CARRIERS, ROUTES } from '../../support/daemon.js';
import { startFloorServer } from '../floor-server.js';
import { startAgiLayerFloor } from '../agi-layer-floor.js';
import type { ChildUsage, FromChild, ServerKind, ToChild } from './ipc-messages.js';

/**
 * A server under test in a process of its own (fork() of this file with the kind as argv[2]), so its CPU, RSS and
 * event-loop lag are its own and not the load generator's. It answers the bench over the IPC channel.
 */

const kind = process.argv[2] as ServerKind;
let flow: 'A' | 'B' = 'A';
const floorCommands: Record<'A' | 'B', readonly string[]> = { A: [], B: [] };

// records are dropped: the attempt-log writer has a section of its own, and a memory sink would grow the RSS
const discard: RecordSink = { attempt: () => undefined, carrierEvent: () => undefined };

/** Flow B needs primary down; the daemon reads health per call, so switching the flag switches the flow. */
function benchHealth(base: HealthView): HealthView {
  return {
    snapshot() {
      if (flow === 'A') return base.snapshot();
      const m = new Map(base.snapshot());
      m.set('primary', { state: 'down', since: 0, reason: 'bench: primary marked down' });
      return m;
    },
    snapshotFor() {
      return this.snapshot();
    },
    claimProbe: () => true,
    claimSuspect: () => 'free' as const,
    recordAttempt: () => undefined,
  };
}

async function start(): Promise<{ port: number; connections: () => number; stop: () => Promise<void> }> {
  if (kind === 'floor') {
    const f = await startFloorServer(() => floorCommands[flow]);
    return { port: f.port, connections: f.connections, stop: f.close };
  }
  const nowhere = new Writable({ write: (_c, _e, cb) => cb() });
  if (kind === 'agi-floor') {
    const f = await startAgiLayerFloor(() => floorCommands[flow], createLogger({ level: 'warn' }, nowhere));
    return { port: f.port, connections: f.connections, stop: f.close };
  }
  const { settings, routing } = loadConfig({
    file: null,
    env: {},
    overrides: { 'agi.port': 0, 'log.level': 'silent', carriers: CARRIERS, routes: ROUTES },
  });
  const log = createLogger({ level: 'warn' }, nowhere);
  const daemon = await startDaemon({ settings, routing, log, sink: discard, health: benchHealth(unknownHealth(() => routing.carriers.values())) });
  return { port: daemon.port, connections: () => daemon.server.connections, stop: async () => void (await daemon.stop(100)) };
}

const send = (m: FromChild): void => void process.send?.(m);

const server = await start();
const RESOLUTION_MS = 1;
const lag = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
/** The histogram holds whole timer intervals; the lag is what exceeds the 1 ms the timer was asked for. */
const lagMs = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);
lag.enable();
let cpuBase = process.cpuUsage();

function usage(): ChildUsage {
  const cpu = process.cpuUsage(cpuBase);
  const mem = process.memoryUsage();
  return {
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    lagP50Ms: lagMs(lag.percentile(50)),
    lagP99Ms: lagMs(lag.percentile(99)),
    lagMaxMs: lagMs(lag.max),
    connections: server.connections(),
  };
}

process.on('message', (m: ToChild) => {
  switch (m.t) {
    case 'flow':
      flow = m.flow;
      send({ t: 'ack', id: m.id });
      break;
    case 'commands':
      floorCommands[m.flow] = m.commands;
      send({ t: 'ack', id: m.id });
      break;
    case 'reset':
      cpuBase = process.cpuUsage();
      lag.reset();
      send({ t: 'ack', id: m.id });
      break;
    case 'usage':
      send({ t: 'usage', id: m.id, usage: usage() });
      break;
    case 'stop':
      void server.stop().then(() => {
        send({ t: 'ack', id: m.id });
        process.disconnect();
        process.exit(0);
      });
      break;
  }
});
send({ t: 'ready', port: server.port });
