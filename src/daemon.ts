import { AgiServer } from './agi/server.js';
import { handleCall, type CallResult } from './calls/failover-call.js';
import type { RecordSink } from './calls/records.js';
import { systemClock, type Clock } from './clock.js';
import type { ValidatedRouting } from './config/carriers.js';
import type { DaemonSettings } from './config/schema.js';
import type { HealthView } from './health/types.js';
import type { Logger } from './log.js';

export interface DaemonDeps {
  readonly settings: DaemonSettings;
  readonly routing: ValidatedRouting;
  readonly log: Logger;
  readonly sink: RecordSink;
  readonly health: HealthView;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Told about every finished call (metrics, the demo's table). */
  readonly onCall?: (result: CallResult) => void;
  /** Told the round trip of every AGI command but Dial (metrics). */
  readonly observeCommand?: (verb: string, seconds: number) => void;
}

export interface Daemon {
  readonly server: AgiServer;
  readonly port: number;
  /** The routing new calls use; calls in progress keep the one they started with. */
  routing(): ValidatedRouting;
  setRouting(r: ValidatedRouting): void;
  /** Stop accepting, let calls finish up to graceMs, then close what is left. Returns calls cut loose. */
  stop(graceMs: number): Promise<number>;
}

/** Wires the FastAGI server to the call flow. Everything it needs is passed in, so tests run it whole. */
export async function startDaemon(deps: DaemonDeps): Promise<Daemon> {
  let routing = deps.routing;
  const rotations = new Map<string, number>();
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  const { settings, log } = deps;
  const server = new AgiServer(
    deps.observeCommand ? { ...settings.agi, observeCommand: deps.observeCommand } : settings.agi,
    async (channel, request) => {
      const result = await handleCall(channel, request, {
        routing,
        health: deps.health,
        sink: deps.sink,
        serverId: settings.serverId,
        clock,
        log,
        showNumbers: settings.log.showNumbers,
        rotation: (route) => {
          const n = rotations.get(route) ?? 0;
          rotations.set(route, n + 1);
          return n;
        },
        random,
      });
      deps.onCall?.(result);
    },
    log,
  );
  const { port } = await server.listen();
  log.info({ host: settings.agi.host, port, routes: [...routing.routes.keys()], carriers: [...routing.carriers.keys()] }, 'FastAGI server listening');
  return {
    server,
    port,
    routing: () => routing,
    setRouting: (r) => {
      routing = r;
    },
    async stop(graceMs: number): Promise<number> {
      await Promise.race([server.stopAccepting(), new Promise((r) => setTimeout(r, 50))]);
      const left = await server.drain(graceMs);
      if (left > 0) {
        log.warn({ calls: left, graceMs }, 'grace period over: closing AGI sockets of calls still up (Asterisk keeps the calls)');
        server.closeAll();
      }
      return left;
    },
  };
}
