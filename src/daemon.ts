import { resolveSharedKey } from './agi/auth.js';
import { AgiServer, type AgiServerOptions } from './agi/server.js';
import { CapacityLedger } from './calls/capacity-ledger.js';
import { CostLedger } from './calls/cost-ledger.js';
import { handleCall, type CallContext, type CallResult } from './calls/failover-call.js';
import type { RecordSink } from './calls/records.js';
import { systemClock, type Clock } from './clock.js';
import type { ValidatedRouting } from './config/carriers.js';
import type { DaemonSettings } from './config/schema.js';
import { QualityLedger, type QualityChange } from './health/quality-ledger.js';
import { LearnedProgress } from './health/learned-progress.js';
import { QualityWindow, qualitySample } from './health/quality-window.js';
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
  /** Told about every AGI connection refused before any command (metrics). */
  readonly onRefused?: (reason: 'peer' | 'limit' | 'key') => void;
}

export interface Daemon {
  readonly server: AgiServer;
  readonly port: number;
  /** Channels in use and cps per carrier, shared by every call; a reload keeps the counts of carriers that keep their name. */
  readonly capacity: CapacityLedger;
  /** Spend per carrier in the current clock hour and day; a reload keeps it for carriers that keep their name. */
  readonly cost: CostLedger;
  /** Every Dial's quality sample per carrier and (carrier, prefix group), in one-minute buckets (an hour at least). */
  readonly quality: QualityWindow;
  /** Quality ordering: which carriers are demoted (health.quality), judged from `quality`. */
  readonly qualityLedger: QualityLedger;
  /** Each carrier's progress timeout now (configured, or learned from `quality` with adaptiveProgress). */
  readonly progress: LearnedProgress;
  /** The routing new calls use; calls in progress keep the one they started with. */
  routing(): ValidatedRouting;
  setRouting(r: ValidatedRouting): void;
  /**
   * Config reload of what new connections and calls use: the AGI limits, peers and key (`sharedKey` resolved
   * already), log.showNumbers. Host, port, listenBacklog and serverId stay as started.
   */
  retune(settings: DaemonSettings, sharedKey: string): void;
  /** Where round robin starts the next call on this route (read, not advanced): what `plan` shows. */
  nextRotation(route: string): number;
  /**
   * Stop accepting, let calls finish up to graceMs, then interrupt what is left: every attempt still in its Dial
   * is recorded (verdict interrupted) before this resolves. Returns the calls cut loose.
   */
  stop(graceMs: number): Promise<number>;
}

/** Wires the FastAGI server to the call flow. Everything it needs is passed in, so tests run it whole. */
export async function startDaemon(deps: DaemonDeps): Promise<Daemon> {
  let routing = deps.routing;
  const rotations = new Map<string, number>();
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  const { settings, log } = deps;
  const capacity = new CapacityLedger(routing.carriers.values(), clock.now());
  const cost = new CostLedger(routing.carriers.values(), clock.now());
  const quality = new QualityWindow();
  const qualitySpan = (q: DaemonSettings['health']['quality']): number => q.recentWindow + q.baselineWindow;
  quality.keepFor(qualitySpan(settings.health.quality));
  const progress = new LearnedProgress(quality);
  // a demotion or a return is a carrier event with the figures behind it, as a breaker opening is
  const onQuality = (c: QualityChange): void => {
    const reason = c.group === null ? c.judgement.reason : `prefix group ${c.group}: ${c.judgement.reason}`;
    const fields = { carrier: c.carrier, prefixGroup: c.group ?? undefined, from: c.from, to: c.to, why: reason };
    if (c.to === 'demoted') log.warn(fields, 'carrier demoted for quality: dialed after the healthy carriers of its routes');
    else log.info(fields, 'carrier back in its place: quality recovered');
    deps.sink.carrierEvent({ at: c.at, carrier: c.carrier, from: c.from, to: c.to, source: 'quality', reason });
  };
  const qualityLedger = new QualityLedger(quality, settings.health.quality, routing.prefixGroups.map((g) => g.name), onQuality);
  // every record of a call passes here: the figures of a Dial are there for the very next call; the row is handed
  // on first, so nothing the window does can come between a Dial and its attempt row
  const sink: RecordSink = {
    attempt: (r) => {
      deps.sink.attempt(r);
      const q = qualitySample(r);
      if (q) quality.add(q);
    },
    carrierEvent: (e) => deps.sink.carrierEvent(e),
  };
  const sharedKey = resolveSharedKey(settings.agi);
  const rotation = (route: string): number => {
    const n = rotations.get(route) ?? 0;
    rotations.set(route, n + 1);
    return n;
  };
  const serverOptions = (agi: DaemonSettings['agi'], key: string): AgiServerOptions => ({
    ...agi,
    sharedKey: key,
    ...(deps.observeCommand ? { observeCommand: deps.observeCommand } : {}),
    ...(deps.onRefused ? { onRefused: deps.onRefused } : {}),
  });
  let showNumbers = settings.log.showNumbers;
  let qualityPolicy = settings.health.quality;
  // one context for every call, made again when what it holds changes: a call keeps the one it started with, and a
  // call held in Dial keeps no copy of its own
  const callContext = (): CallContext => ({
    routing,
    health: deps.health,
    capacity,
    cost,
    progress,
    qualityLedger,
    sink,
    serverId: settings.serverId,
    clock,
    log,
    showNumbers,
    rotation,
    random,
    ...(deps.onCall ? { onCall: deps.onCall } : {}),
  });
  let ctx = callContext();
  const server = new AgiServer(
    serverOptions(settings.agi, sharedKey),
    // no async wrapper, and no closure or context of its own: a held call keeps neither
    (channel, request) => handleCall(channel, request, ctx),
    log,
  );
  const { port } = await server.listen();
  if (!sharedKey) log.warn('agi.sharedKey is not set, so every local process that can reach the AGI port can pose as Asterisk (docs/operations.md "Security")');
  log.info({ host: settings.agi.host, port, keyRequired: sharedKey !== '', routes: [...routing.routes.keys()], carriers: [...routing.carriers.keys()] }, 'FastAGI server listening');
  return {
    server,
    port,
    capacity,
    cost,
    quality,
    qualityLedger,
    progress,
    routing: () => routing,
    setRouting: (r) => {
      routing = r;
      ctx = callContext();
      capacity.configure(r.carriers.values(), clock.now());
      cost.configure(r.carriers.values(), clock.now());
      quality.retain(new Set(r.carriers.keys()));
      progress.clear();
      qualityLedger.configure(qualityPolicy, new Set(r.carriers.keys()), r.prefixGroups.map((g) => g.name), clock.now());
    },
    retune(next, key) {
      server.retune(serverOptions(next.agi, key));
      qualityPolicy = next.health.quality;
      quality.keepFor(qualitySpan(qualityPolicy));
      qualityLedger.configure(qualityPolicy, new Set(routing.carriers.keys()), routing.prefixGroups.map((g) => g.name), clock.now());
      showNumbers = next.log.showNumbers;
      ctx = callContext();
    },
    nextRotation: (route) => rotations.get(route) ?? 0,
    async stop(graceMs: number): Promise<number> {
      await Promise.race([server.stopAccepting(), new Promise((r) => setTimeout(r, 50))]);
      const left = await server.drain(graceMs);
      if (left > 0) {
        log.warn({ calls: left, graceMs }, 'grace period over: interrupting the calls still up (Asterisk keeps them; their attempts are recorded as interrupted)');
        server.interruptAll(`the daemon stopped during the Dial: shutdown.grace of ${graceMs} ms ran out`);
        // the handlers record their attempts as soon as the Dial fails; give them a moment, never the whole grace again
        const stuck = await server.drain(2000);
        if (stuck > 0) log.error({ calls: stuck }, 'calls still running after the interrupt: their attempts may be missing');
      }
      return left;
    },
  };
}
