import { readFileSync } from 'node:fs';
import { systemClock, type Clock } from '../clock.js';
import type { DaemonSettings } from '../config/schema.js';
import type { Logger } from '../log.js';
import { AmiClient, type AmiClientStats } from './ami-client.js';
import { same, type AmiMessage } from './ami-message.js';
import type { HealthMap } from './health-map.js';
import { readResync, type ResyncData } from './resync.js';

export interface AmiFeedOptions {
  readonly ami: DaemonSettings['ami'];
  readonly healthMap: HealthMap;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** The secret to log in with; default resolveAmiSecret(ami). */
  readonly secret?: string;
  /** Event classes kept after login (`Action: Events`); default `system`, which holds every event we read. null = all the user may read. */
  readonly eventMask?: string | null;
}

export interface AmiFeedStats extends AmiClientStats {
  readonly resyncs: number;
  readonly resyncFailures: number;
  readonly lastResyncAt: number | null;
}

export interface AmiFeed {
  stop(): Promise<void>;
  /** Counters for metrics: `connected` and `lastEventAt` fit MetricSources.ami(). */
  stats(): AmiFeedStats;
  /** Resync now (every login does it after FullyBooted); false when it could not finish. */
  resync(reason: string): Promise<boolean>;
}

/** `ami.secret`, else the first line of `ami.secretFile`, else ''. The error names the file, never its content. */
export function resolveAmiSecret(ami: Pick<DaemonSettings['ami'], 'secret' | 'secretFile'>): string {
  if (ami.secret) return ami.secret;
  if (!ami.secretFile) return '';
  try {
    return (readFileSync(ami.secretFile, 'utf8').split(/\r?\n/)[0] ?? '').trim();
  } catch (err) {
    throw new Error(`cannot read ami.secretFile ${ami.secretFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Keepalive often enough that a silently dead link is noticed well before states go stale. */
export function pingInterval(staleAfter: number): number {
  return Math.max(250, Math.min(15_000, Math.floor(staleAfter / 3)));
}

function partErrors(d: ResyncData): string[] {
  const out: string[] = [];
  for (const p of [d.sipPeers, d.iaxPeers, d.endpoints, d.registrations, ...d.endpointContacts.values()]) {
    if (p && !p.ok) out.push(p.error);
  }
  return out;
}

/**
 * The AMI side of carrier health: keeps a connection (reconnecting for ever), resyncs after every login once
 * Asterisk says FullyBooted, applies PeerStatus/ContactStatus/Registry events in between (held back while a
 * resync reads, then replayed over it), and tells the map when AMI is lost so its view can go stale.
 */
export function startAmiFeed(opts: AmiFeedOptions): AmiFeed {
  const { ami, healthMap, logger: log } = opts;
  const clock = opts.clock ?? systemClock;
  const secret = opts.secret ?? resolveAmiSecret(ami);
  if (!secret) log.warn({ user: ami.username }, 'ami.secret and ami.secretFile are empty: AMI login will fail');
  const client = new AmiClient(
    {
      host: ami.host,
      port: ami.port,
      username: ami.username,
      secret,
      reconnectMin: ami.reconnectMin,
      reconnectMax: ami.reconnectMax,
      actionTimeout: ami.actionTimeout,
      pingInterval: pingInterval(ami.staleAfter),
      eventMask: opts.eventMask === undefined ? 'system' : opts.eventMask,
    },
    { logger: log, clock },
  );
  let held: AmiMessage[] | null = null;
  let running: Promise<boolean> | null = null;
  let again = false;
  let bootTimer: NodeJS.Timeout | null = null;
  let resyncs = 0;
  let resyncFailures = 0;
  let lastResyncAt: number | null = null;
  let stopped = false;

  const clearBoot = () => {
    if (bootTimer) clearTimeout(bootTimer);
    bootTimer = null;
  };

  async function resyncOnce(reason: string): Promise<boolean> {
    held = [];
    const started = clock.now();
    try {
      const data = await readResync(client, healthMap.amiTargets());
      healthMap.applyResync(data);
      resyncs++;
      lastResyncAt = clock.now();
      const errors = partErrors(data);
      if (errors.length > 0) log.warn({ reason, errors }, 'AMI resync incomplete: carriers it could not read are unknown');
      const states: Record<string, number> = {};
      for (const h of healthMap.snapshot().values()) states[h.state] = (states[h.state] ?? 0) + 1;
      log.info({ reason, ms: clock.now() - started, states }, 'AMI resync done');
      return true;
    } catch (err) {
      resyncFailures++;
      log.warn({ reason, err: (err as Error).message }, 'AMI resync failed: the next login resyncs again');
      return false;
    } finally {
      const replay = held ?? [];
      held = null;
      for (const e of replay) healthMap.applyAmiEvent(e);
    }
  }

  function resync(reason: string): Promise<boolean> {
    if (running) {
      again = true;
      return running;
    }
    const run = (async () => {
      let ok = false;
      let why = reason;
      do {
        again = false;
        ok = await resyncOnce(why);
        why = 'asked again during the last resync';
      } while (again && client.connected && !stopped);
      running = null;
      return ok;
    })();
    running = run;
    return run;
  }

  // the map counts AMI as fresh again only once a resync has read everything (applyResync), not at login
  client.on('ready', () => {
    clearBoot();
    // Asterisk sends FullyBooted right after Login only to users with read=system; without it, resync anyway
    bootTimer = setTimeout(() => {
      bootTimer = null;
      log.warn({ user: ami.username }, 'no FullyBooted after login (does the AMI user have read=system?): resyncing anyway');
      void resync('login without FullyBooted');
    }, ami.actionTimeout);
    bootTimer.unref();
  });

  client.on('event', (e) => {
    if (same(e['event'], 'FullyBooted')) {
      clearBoot();
      void resync('FullyBooted');
      return;
    }
    if (held) held.push(e);
    else healthMap.applyAmiEvent(e);
  });

  client.on('down', () => {
    clearBoot();
    healthMap.amiDown();
  });

  const unsubscribe = healthMap.onCarriersReplaced(() => {
    if (client.connected) void resync('carriers reloaded');
  });

  client.start();

  return {
    async stop() {
      stopped = true;
      clearBoot();
      unsubscribe();
      await client.stop();
      await running;
    },
    stats() {
      return { ...client.stats(), resyncs, resyncFailures, lastResyncAt };
    },
    resync,
  };
}
