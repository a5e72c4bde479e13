import { chmodSync, mkdirSync } from 'node:fs';
import client from 'prom-client';
import { resolveSharedKey } from './agi/auth.js';
import { logSink, teeSink } from './calls/log-sink.js';
import type { RecordSink } from './calls/records.js';
import { systemClock, type Clock } from './clock.js';
import { ConfigError, loadConfig, type LoadedConfig } from './config/load.js';
import { configView, effectiveSettings, planReload, withChangedFileSecrets, type ReloadPlan } from './config/reload-plan.js';
import type { DaemonSettings } from './config/schema.js';
import { startDaemon, type Daemon } from './daemon.js';
import { resolveAmiSecret, startAmiFeed, type AmiFeed } from './health/ami-feed.js';
import { createHealthMap, type HealthMap } from './health/health-map.js';
import type { CarrierEvent } from './health/types.js';
import type { Logger } from './log.js';
import { loadAdminState, saveAdminState, type AdminState } from './ops/admin-state.js';
import { describeOperator, type ControlRequest, type Operator } from './ops/control-protocol.js';
import { startControlServer } from './ops/control-server.js';
import { startHttp } from './ops/http.js';
import { createMetrics, type Metrics } from './ops/metrics.js';
import { RecentEvents } from './ops/recent-events.js';
import { RecentStats } from './ops/recent-stats.js';
import { previewPlan } from './ops/plan-preview.js';
import { runningConfigAnswer } from './ops/running-config.js';
import { buildStatus, CLUSTER_OFF, groupStatus, type DaemonStatus } from './ops/status.js';
import { SharedHealth } from './store/shared-health.js';
import { SharedSpend } from './store/shared-spend.js';
import { loggedSpend } from './store/spend-query.js';
import { windowStart } from './routing/cost.js';

/** The attempt log as the service sees it; src/store implements it (a log-only stand-in when none is given). */
export interface AttemptLog extends RecordSink {
  start(): Promise<void>;
  close(): Promise<void>;
  stats(): { queued: number; spoolBytes: number; writeErrors: number; dbConnected: boolean };
  /** Config reload of the store.* settings a running log can take (all but spoolDir). */
  retune?(store: DaemonSettings['store']): void;
}

export type ReloadResult = { readonly ok: true; readonly plan: ReloadPlan } | { readonly ok: false; readonly problems: readonly string[] };

export interface ServiceOptions {
  readonly config: LoadedConfig;
  readonly configFile: string | null;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Builds the attempt log for the settings; absent = records only logged. */
  readonly attemptLog?: (cfg: LoadedConfig, log: Logger) => AttemptLog;
}

export interface Service {
  readonly daemon: Daemon;
  readonly health: HealthMap;
  readonly metrics: Metrics;
  readonly httpPort: number | null;
  status(): DaemonStatus;
  /**
   * SIGHUP: every setting that can change live is applied (for new calls and connections), the others are named as
   * needing a restart; or a clear refusal that keeps everything running as it was. Reloads run one at a time.
   */
  reload(): Promise<ReloadResult>;
  /** SIGTERM: stop accepting, drain calls, flush the attempt log. Returns calls left to Asterisk. */
  stop(): Promise<number>;
}

/** Everything the daemon runs, wired once. Each part is started here and stopped in reverse order. */
export async function startService(o: ServiceOptions): Promise<Service> {
  const clock = o.clock ?? systemClock;
  const log = o.log;
  let cfg = o.config;
  const { settings } = cfg;

  let sharedKey: string;
  try {
    sharedKey = resolveSharedKey(settings.agi);
  } catch (err) {
    throw new ConfigError('agi.sharedKey', [(err as Error).message]);
  }
  privateSpoolDir(settings.store.spoolDir, log);

  const attemptLog = o.attemptLog?.(cfg, log) ?? null;
  await attemptLog?.start();

  const recent = new RecentStats();
  const recentEvents = new RecentEvents();
  let metrics: Metrics | null = null;
  const logs = logSink(log);
  // carrier events exist before the metrics do (the health map starts first); route them late-bound
  const eventSinks: RecordSink[] = [logs];
  // an operator action sees the events its own change makes: it signs them, or writes one when there is none
  let eventWatch: ((e: CarrierEvent) => CarrierEvent) | null = null;
  const onEvent = (event: CarrierEvent): void => {
    const e = eventWatch ? eventWatch(event) : event;
    recentEvents.add(e);
    for (const s of eventSinks) s.carrierEvent(e);
  };
  // shared health: the health map tells it what our breaker learned, it tells the health map what the peers did
  let shared: SharedHealth | null = null;
  const health = createHealthMap({
    carriers: cfg.routing.carriers.values(),
    routes: cfg.routing.routes.values(),
    health: settings.health,
    staleAfter: settings.ami.staleAfter,
    amiEnabled: settings.ami.enabled,
    clock,
    onEvent,
    onShared: (f) => shared?.publish(f),
    trialWait: settings.cluster.trialWait,
    prefixGroups: cfg.routing.prefixGroups.map((g) => g.name),
    logger: log,
  });
  if (settings.cluster.enabled) {
    shared = new SharedHealth({
      db: settings.db,
      cluster: settings.cluster,
      serverId: settings.serverId,
      log,
      clock,
      onFact: (f) => {
        if (health.applyPeer(f)) metrics?.observePeerFact(f.carrier, f.state);
      },
    });
    shared.start();
    log.info({ pollMs: settings.cluster.pollMs, serverId: settings.serverId }, 'shared health on: carrier breaker facts are shared through the database');
  }
  const sharedRef = shared;

  let admin: AdminState = loadAdminState(settings.control.stateFile, clock.now());
  for (const [carrier, hold] of Object.entries(admin)) {
    if (!health.setAdmin(carrier, hold)) log.warn({ carrier }, 'admin state names a carrier the config no longer has');
  }

  let feed: AmiFeed | null = null;
  let amiSecret = '';
  if (settings.ami.enabled) {
    try {
      amiSecret = resolveAmiSecret(settings.ami);
      feed = startAmiFeed({ ami: settings.ami, healthMap: health, logger: log, clock, secret: amiSecret });
    } catch (err) {
      health.close();
      await sharedRef?.close();
      await attemptLog?.close();
      throw new ConfigError('AMI cannot start', [(err as Error).message]);
    }
  }

  let daemon: Daemon | null = null;
  let sharedSpend: SharedSpend | null = null;
  const m = createMetrics({
    activeCalls: () => daemon?.server.activeCalls ?? 0,
    health: () => health.snapshot(),
    routes: () => cfg.routing.routes.values(),
    store: () => attemptLog?.stats() ?? null,
    ami: () => (feed ? feed.stats() : null),
    cluster: () => sharedRef?.stats() ?? null,
    capacity: () => daemon?.capacity.snapshot(clock.now()) ?? new Map(),
    cost: () => daemon?.cost.snapshot(clock.now()) ?? new Map(),
    clusterSpend: () => sharedSpend?.stats() ?? null,
    quality: () => (daemon ? daemon.qualityLedger.snapshot(daemon.routing().carriers.keys(), clock.now()) : new Map()),
    progress: () => {
      const d = daemon;
      return new Map(d ? [...d.routing().carriers.values()].map((c) => [c.name, d.progress.get(c, null, clock.now())]) : []);
    },
    prefixGroups: () => {
      const inspection = health.inspect();
      return { names: cfg.routing.prefixGroups.map((g) => g.name), notClosed: (c) => new Map((inspection.get(c)?.groups ?? []).map((g) => [g.group, g.breaker])) };
    },
    now: () => clock.now(),
  });
  metrics = m;
  const recentSink: RecordSink = { attempt: (r) => recent.add(r), carrierEvent: () => undefined };
  if (attemptLog) eventSinks.push(attemptLog);
  eventSinks.push(m.sink);
  const attemptSink = teeSink(...(attemptLog ? [attemptLog] : [logs]), m.sink, recentSink);
  const sink: RecordSink = { attempt: (r) => attemptSink.attempt(r), carrierEvent: onEvent };

  const refused = new client.Counter({
    name: 'failover_agi_agi_refused_connections_total',
    help: 'AGI connections refused before any command: peer (not in agi.allowedPeers), limit (agi.maxConnections), key (no valid agi.sharedKey)',
    labelNames: ['reason'],
    registers: [m.registry],
  });
  for (const r of ['peer', 'limit', 'key']) refused.inc({ reason: r }, 0);
  daemon = await startDaemon({
    settings,
    observeCommand: (verb, sec) => m.observeCommand(verb, sec),
    onRefused: (reason) => refused.inc({ reason }),
    routing: cfg.routing,
    log,
    sink,
    health,
    clock,
    onCall: (r) => m.observeCall(r.route, r),
  });
  const d = daemon;
  if (settings.db.host !== '') {
    // a restart must not give a carrier a fresh budget: this dialer's spend of the current hour and day, read once
    const startedAt = clock.now();
    loggedSpend(settings.db, settings.serverId, d.routing().carriers.values(), startedAt).then(
      (rows) => {
        const now = clock.now();
        for (const r of rows) if (windowStart(now, r.window) === windowStart(startedAt, r.window)) d.cost.seed(r.carrier, r.window, r.minutes, r.answered, now);
        if (rows.length > 0) log.info({ spend: rows.map((r) => `${r.carrier} ${r.window} ${Math.round(r.minutes * 100) / 100} min`) }, 'budget spend of the current hour and day read back from the attempt log');
      },
      (err: Error) => log.warn({ err: err.message }, 'could not read this hour\'s and day\'s spend from the attempt log: budgets count from 0 since this start'),
    );
  }
  if (settings.cluster.enabled) {
    // cluster-wide budgets: own spend stays the ledger's, the peers' comes from carrier_spend on the poll timer
    sharedSpend = new SharedSpend({
      db: settings.db,
      cluster: settings.cluster,
      serverId: settings.serverId,
      log,
      clock,
      own: (now) => d.cost.own(now),
      carriers: () => d.cost.budgeted(),
      onPeers: (peers) => {
        for (const { carrier, crossing: x } of d.cost.setPeers(peers, clock.now())) {
          const msg = x.level === 'used' ? 'carrier budget used up cluster-wide: it is skipped or demoted for the rest of the window' : 'carrier budget near its limit cluster-wide';
          log.warn({ carrier, window: x.window, unit: x.unit, spent: x.spent, byPeers: x.peers, limit: x.limit }, msg);
        }
      },
    });
    sharedSpend.start();
  }
  const spendRef = sharedSpend;

  const status = (): DaemonStatus => {
    const st = attemptLog?.stats();
    const ami = feed?.stats();
    return buildStatus({
      serverId: settings.serverId,
      now: clock.now(),
      activeCalls: d.server.activeCalls,
      routing: d.routing(),
      health: health.snapshot(),
      recent: (c) => recent.get(c, clock.now()),
      ami: { enabled: settings.ami.enabled, connected: ami?.connected ?? false, lastEventAt: ami?.lastEventAt ?? null },
      db: { configured: settings.db.host !== '', connected: st?.dbConnected ?? false, queued: st?.queued ?? 0, spoolBytes: st?.spoolBytes ?? 0 },
      events: recentEvents.list(),
      cluster: sharedRef ? { enabled: true, ...sharedRef.stats(), spend: spendRef?.stats() ?? null } : CLUSTER_OFF,
      capacity: d.capacity.snapshot(clock.now()),
      cost: d.cost.snapshot(clock.now()),
      groups: groupStatus(health.inspect()),
      quality: d.qualityLedger.snapshot(d.routing().carriers.keys(), clock.now()),
      progress: (c) => d.progress.get(c, null, clock.now()),
    });
  };

  const http = settings.http.port > 0 ? await startHttp({ host: settings.http.host, port: settings.http.port, metrics: m, status, log }) : null;

  const persist = (): void => {
    try {
      saveAdminState(settings.control.stateFile, admin);
    } catch (err) {
      log.error({ err: (err as Error).message, file: settings.control.stateFile }, 'could not save admin state: it will not survive a restart');
    }
  };
  /**
   * An operator action: applied, persisted, and always one carrier event with source admin naming who did it and
   * the command, also when the state does not change (drain of a drained carrier, force-down of a down one).
   */
  const hold = (carrier: string, next: AdminState[string] | null, command: string, by: Operator | undefined): string => {
    if (!d.routing().carriers.has(carrier)) throw new Error(`no carrier named ${carrier} (known: ${[...d.routing().carriers.keys()].join(', ')})`);
    const who = `${command} by ${describeOperator(by)}`;
    const before = health.snapshot().get(carrier)?.state ?? 'unknown';
    let changed = false;
    eventWatch = (e) => {
      if (e.carrier !== carrier || e.source !== 'admin') return e;
      changed = true;
      return e.reason.includes(who) ? e : { ...e, reason: `${e.reason} (${who})` };
    };
    try {
      health.setAdmin(carrier, next ? { ...next, reason: who } : null);
    } finally {
      eventWatch = null;
    }
    const { [carrier]: _old, ...rest } = admin;
    admin = next ? { ...rest, [carrier]: { ...next, reason: who } } : rest;
    persist();
    const h = health.snapshot().get(carrier);
    log.info({ carrier, command, operator: describeOperator(by), state: h?.state }, 'operator action');
    if (!changed) onEvent({ at: clock.now(), carrier, from: before, to: h?.state ?? before, source: 'admin', reason: `${who} (state unchanged)` });
    return `${carrier}: ${h?.state ?? 'unknown'} (${h?.reason ?? ''})`;
  };
  const handle = (req: ControlRequest): unknown => {
    const now = clock.now();
    switch (req.cmd) {
      case 'status':
        return status();
      case 'plan':
        return previewPlan(d.routing(), (g) => health.snapshotFor(g), { number: req.number, route: req.route ?? null, script: req.script ?? null }, d.nextRotation, (c) => d.capacity.blocked(c, clock.now()), (c) => d.cost.over(c, clock.now()), (c, g) => d.qualityLedger.demotion(c, g, clock.now()), (c, g) => d.progress.get(c, g, clock.now()));
      case 'drain':
        return hold(req.carrier, { mode: 'drain', until: null, reason: '', at: now }, 'failover-agi drain', req.by);
      case 'enable':
        return hold(req.carrier, null, 'failover-agi enable', req.by);
      case 'force-down': {
        const command = `failover-agi force-down${req.forMs ? ` --for ${Math.round(req.forMs / 1000)}s` : ''}`;
        return hold(req.carrier, { mode: 'force-down', until: req.forMs ? now + req.forMs : null, reason: '', at: now }, command, req.by);
      }
      case 'config':
        return runningConfigAnswer({ file: cfg.file, view: configView(cfg), env: process.env, nonce: req.nonce, secrets: req.secrets });
    }
  };
  let control: Awaited<ReturnType<typeof startControlServer>> | null = null;
  try {
    control = await startControlServer(settings.control.socket, handle, log);
  } catch (err) {
    log.error({ err: (err as Error).message, path: settings.control.socket }, 'control socket unavailable: the CLI cannot reach this daemon');
  }

  /** Starts the AMI feed again with the reloaded settings; carrier states stand until its login resyncs them. */
  const startFeedAgain = (ami: DaemonSettings['ami'], secret: string): void => {
    try {
      feed = startAmiFeed({ ami, healthMap: health, logger: log, clock, secret });
    } catch (err) {
      log.error({ err: (err as Error).message }, 'AMI could not start again after the reload: carrier health follows calls only until a restart');
    }
  };

  const refuse = (problems: readonly string[]): ReloadResult => {
    log.error({ problems }, 'reload refused: the running configuration stays');
    return { ok: false, problems };
  };

  const reloadOnce = async (): Promise<ReloadResult> => {
    let next: LoadedConfig;
    try {
      next = loadConfig({ file: o.configFile, requireRoutes: true });
    } catch (err) {
      return refuse(err instanceof ConfigError ? err.problems : [(err as Error).message]);
    }
    // everything that can still fail is read before anything is applied: a refused reload changes nothing
    const fileSecrets: string[] = [];
    let nextKey: string;
    try {
      nextKey = resolveSharedKey(next.settings.agi);
    } catch (err) {
      return refuse([`agi.sharedKey: ${(err as Error).message}`]);
    }
    if (nextKey !== sharedKey && next.settings.agi.sharedKey === cfg.settings.agi.sharedKey) fileSecrets.push('agi.sharedKeyFile');
    let nextAmiSecret = amiSecret;
    if (cfg.settings.ami.enabled) {
      try {
        nextAmiSecret = resolveAmiSecret(next.settings.ami);
      } catch (err) {
        return refuse([`ami.secret: ${(err as Error).message}`]);
      }
      if (nextAmiSecret !== amiSecret && next.settings.ami.secret === cfg.settings.ami.secret) fileSecrets.push('ami.secretFile');
    }
    const plan = withChangedFileSecrets(planReload(configView(cfg), configView(next)), fileSecrets);
    const applied = new Set(plan.applied);
    const changed = (prefix: string): boolean => plan.applied.some((k) => k.startsWith(prefix));
    const settingsNow = effectiveSettings(cfg.settings, next.settings);
    cfg = { settings: settingsNow, routing: next.routing, file: next.file };

    if (applied.has('log.level')) log.level = settingsNow.log.level;
    sharedKey = nextKey;
    d.retune(settingsNow, sharedKey);
    if (changed('health.') || applied.has('ami.staleAfter')) health.setSettings(settingsNow.health, settingsNow.ami.staleAfter);
    if (changed('store.')) attemptLog?.retune?.(settingsNow.store);
    amiSecret = nextAmiSecret;
    // the old AMI connection goes first, so the new one's login resync reads the new carriers (and only it resyncs)
    const amiAgain = settingsNow.ami.enabled && changed('ami.');
    if (amiAgain) {
      await feed?.stop();
      feed = null;
      health.amiDown();
    }
    d.setRouting(next.routing);
    health.replaceCarriers(next.routing.carriers.values(), next.routing.routes.values(), next.routing.prefixGroups.map((g) => g.name));
    if (amiAgain) startFeedAgain(settingsNow.ami, amiSecret);

    log.info(
      { applied: plan.applied, restartNeeded: plan.restartNeeded, carriers: [...next.routing.carriers.keys()], routes: [...next.routing.routes.keys()] },
      'reloaded',
    );
    if (plan.restartNeeded.length > 0) {
      const why = Object.fromEntries(plan.changes.filter((c) => !c.live).map((c) => [c.key, c.note]));
      log.warn({ restartNeeded: plan.restartNeeded, why }, `reload kept ${plan.restartNeeded.join(', ')} as they were: a restart applies them`);
    }
    return { ok: true, plan };
  };
  let reloading: Promise<unknown> = Promise.resolve();

  return {
    daemon: d,
    health,
    metrics: m,
    httpPort: http?.port ?? null,
    status,
    reload() {
      const r = reloading.catch(() => undefined).then(reloadOnce);
      reloading = r;
      return r;
    },
    async stop() {
      const grace = cfg.settings.shutdown.grace;
      log.info({ graceMs: grace, activeCalls: d.server.activeCalls }, 'stopping: no new calls, draining');
      await reloading.catch(() => undefined);
      const left = await d.stop(grace);
      await control?.close();
      await http?.close();
      await feed?.stop();
      await spendRef?.close();
      await sharedRef?.close();
      health.close();
      await attemptLog?.close();
      log.info({ callsLeftToAsterisk: left }, 'stopped');
      return left;
    },
  };
}

/**
 * The spool and journal hold phone numbers and lead ids: their directory is the service user's alone (0700), made
 * so here before the store opens it, and tightened if an older install left it group-readable.
 */
function privateSpoolDir(dir: string, log: Logger): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  } catch (err) {
    log.warn({ dir, err: (err as Error).message }, 'could not make the spool directory private (0700)');
  }
}
