import client from 'prom-client';
import type { CapacitySnapshot } from '../calls/capacity-ledger.js';
import type { CallResult } from '../calls/failover-call.js';
import type { AttemptRecord, RecordSink } from '../calls/records.js';
import type { CarrierCost, CostSnapshot } from '../calls/cost-ledger.js';
import type { CarrierQuality } from '../health/quality-ledger.js';
import { capacityReasonKind } from '../routing/capacity.js';
import { CommandHistogram } from './command-histogram.js';
import { LabelCounts } from './label-counts.js';
import { isBudgetReason } from '../routing/cost.js';
import type { ProgressTimeout } from '../routing/progress-timeout.js';
import { HEALTH_STATES, type CarrierEvent, type HealthSnapshot } from '../health/types.js';

/** Live values read at scrape time, so nothing is counted twice and nothing goes stale. */
export interface MetricSources {
  activeCalls(): number;
  health(): HealthSnapshot;
  routes(): Iterable<{ readonly name: string; readonly carriers: readonly string[] }>;
  /** dropped: records the attempt log could keep nowhere, by reason (src/store's RecordStore reports it). */
  store?(): { queued: number; spoolBytes: number; writeErrors: number; dbConnected: boolean; dropped?: Readonly<Record<string, number>> } | null;
  /** null when AMI is off (ami.enabled false): then "disconnected" is no alarm. */
  ami?(): { connected: boolean; lastEventAt: number | null } | null;
  /** Shared health (cluster.enabled); null when it is off. */
  cluster?(): { up: boolean; published: Readonly<Record<string, number>>; readErrors: number; writeErrors: number } | null;
  /** Cluster-wide budgets (cluster.enabled): whether the peers' spend is read; null when it is off. */
  clusterSpend?(): { up: boolean; lastReadAt: number | null; readErrors: number; writeErrors: number } | null;
  /** Channels in use, caps and Dial legs started per carrier (the daemon's capacity ledger). */
  capacity?(): CapacitySnapshot;
  /** Spend per carrier in the current clock hour and day, with its budget (the daemon's cost ledger). */
  cost?(): CostSnapshot;
  /** Quality ordering's standing per carrier and configured prefix group (the daemon's quality ledger). */
  quality?(): ReadonlyMap<string, CarrierQuality>;
  /** The progress timeout each carrier's next Dial gets for a number in no prefix group: configured or learned (adaptiveProgress). */
  progress?(): ReadonlyMap<string, ProgressTimeout>;
  /** The configured prefix groups and, per carrier, the groups whose breaker is not closed (prefixGroups). */
  prefixGroups?(): { readonly names: readonly string[]; readonly notClosed: (carrier: string) => ReadonlyMap<string, 'open' | 'half-open'> };
  now(): number;
}

/** Skip reasons as a small closed set, so the label never grows with free text. */
export function skipKind(r: Pick<AttemptRecord, 'reason' | 'healthState'>): string {
  if (r.reason.startsWith('maxAttempts')) return 'max_attempts';
  if (r.reason.startsWith('half-open')) return 'probe_taken';
  if (r.reason.startsWith('suspect:')) return 'suspect';
  if (r.reason.startsWith('ejected for prefix group')) return 'group_down';
  const cap = capacityReasonKind(r.reason);
  if (cap) return cap;
  if (isBudgetReason(r.reason)) return 'budget';
  if (r.reason.startsWith('weight 0')) return 'drained';
  if (r.reason.startsWith('all carriers down')) return 'route_refused';
  if (r.reason === 'carrier not configured') return 'not_configured';
  if (r.healthState === 'disabled') return 'disabled';
  if (r.healthState === 'down') return 'down';
  return 'other';
}

export interface Metrics {
  readonly registry: client.Registry;
  /** A RecordSink that counts: tee it beside the store. */
  readonly sink: RecordSink;
  observeCall(route: string, result: CallResult): void;
  observeCommand(verb: string, seconds: number): void;
  /** A peer dialer's breaker fact changed this dialer's breaker. */
  observePeerFact(carrier: string, state: string): void;
}

const GROUP_STATES = ['closed', 'open', 'half-open'] as const;

export function createMetrics(src: MetricSources): Metrics {
  const registry = new client.Registry();
  const p = 'failover_agi_';
  // counted on the call path into LabelCounts, read into prom-client when scraped
  const attempts = new LabelCounts(['carrier', 'verdict', 'sip_code'] as const);
  const calls = new LabelCounts(['route', 'status'] as const);
  const failovers = new LabelCounts(['route', 'carrier'] as const);
  new client.Counter({ name: `${p}attempts_total`, help: 'Dials by carrier, verdict and SIP code', labelNames: ['carrier', 'verdict', 'sip_code'], registers: [registry], collect() { attempts.into(this); } });
  new client.Counter({ name: `${p}calls_total`, help: 'Calls by route and final FAILOVER_STATUS', labelNames: ['route', 'status'], registers: [registry], collect() { calls.into(this); } });
  new client.Counter({ name: `${p}failovers_total`, help: 'Attempts that moved a call on to the next carrier, by the carrier that failed', labelNames: ['route', 'carrier'], registers: [registry], collect() { failovers.into(this); } });
  const skips = new client.Counter({ name: `${p}skips_total`, help: 'Carriers left out of a call, by reason', labelNames: ['carrier', 'reason'], registers: [registry] });
  const invalid = new client.Counter({ name: `${p}refused_calls_total`, help: 'Calls refused before any Dial (INVALID number, NOROUTE)', labelNames: ['reason'], registers: [registry] });
  const breakerOpenings = new client.Counter({ name: `${p}breaker_openings_total`, help: 'Times a carrier breaker opened', labelNames: ['carrier'], registers: [registry] });
  const transitions = new client.Counter({ name: `${p}carrier_transitions_total`, help: 'Carrier state changes', labelNames: ['carrier', 'to', 'source'], registers: [registry] });
  const command = new CommandHistogram(`${p}agi_command_seconds`, 'Round trip of AGI commands other than EXEC Dial', 'command', [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5]);
  command.register(registry);
  // post-dial delay is seconds, not ms: a carrier that rings in 1-3 s is fine, one that takes 8 s+ loses callers
  const pdd = new client.Histogram({
    name: `${p}carrier_post_dial_delay_seconds`,
    help: 'Post-dial delay per Dial that rang or made progress: the earlier of RINGTIME_MS and PROGRESSTIME_MS',
    labelNames: ['carrier'],
    buckets: [0.25, 0.5, 1, 2, 3, 5, 8, 13, 20],
    registers: [registry],
  });
  new client.Gauge({ name: `${p}active_calls`, help: 'AGI calls in progress', registers: [registry], collect() { this.set(src.activeCalls()); } });
  new client.Gauge({
    name: `${p}carrier_health`,
    help: 'Carrier health: 1 for the current state, 0 for the others',
    labelNames: ['carrier', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [carrier, h] of src.health()) for (const s of HEALTH_STATES) this.set({ carrier, state: s }, h.state === s ? 1 : 0);
    },
  });
  new client.Gauge({
    name: `${p}group_breaker`,
    help: 'Breaker of each (carrier, prefix group): 1 for the current state (closed, open = ejected for the group, half-open), 0 for the others',
    labelNames: ['carrier', 'prefix_group', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      const g = src.prefixGroups?.();
      if (!g || g.names.length === 0) return;
      // only configured group names: the label's values are bounded by the config, never by the numbers dialed
      for (const carrier of src.health().keys()) {
        const states = g.notClosed(carrier);
        for (const group of g.names) {
          const now = states.get(group) ?? 'closed';
          for (const s of GROUP_STATES) this.set({ carrier, prefix_group: group, state: s }, now === s ? 1 : 0);
        }
      }
    },
  });
  new client.Gauge({
    name: `${p}carrier_quality_demoted`,
    help: 'Quality ordering: 1 while the carrier is demoted (dialed after the healthy carriers of its routes), 0 otherwise; prefix_group "" is the carrier as a whole, else a configured group',
    labelNames: ['carrier', 'prefix_group'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [carrier, q] of src.quality?.() ?? []) {
        this.set({ carrier, prefix_group: '' }, q.judgement.state === 'demoted' ? 1 : 0);
        for (const g of q.groups) this.set({ carrier, prefix_group: g.group }, g.judgement.state === 'demoted' ? 1 : 0);
      }
    },
  });
  new client.Gauge({
    name: `${p}route_usable_carriers`,
    help: 'Carriers of a route that are neither down nor disabled (0 = every call fails open or is refused)',
    labelNames: ['route'],
    registers: [registry],
    collect() {
      this.reset();
      const h = src.health();
      for (const r of src.routes()) {
        this.set({ route: r.name }, r.carriers.filter((c) => !['down', 'disabled'].includes(h.get(c)?.state ?? 'unknown')).length);
      }
    },
  });
  new client.Gauge({
    name: `${p}route_carrier`,
    help: 'Each carrier of each route, by its place in the route (position 1 = the primary): alert rules join on it instead of naming carriers',
    labelNames: ['route', 'carrier', 'position'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of src.routes()) r.carriers.forEach((carrier, i) => this.set({ route: r.name, carrier, position: String(i + 1) }, 1));
    },
  });
  new client.Gauge({
    name: `${p}carrier_channels_in_use`,
    help: 'Dial legs in progress per carrier through this daemon (a bridged call holds its leg until Dial returns)',
    labelNames: ['carrier'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [carrier, c] of src.capacity?.() ?? []) this.set({ carrier }, c.channelsInUse);
    },
  });
  new client.Gauge({
    name: `${p}carrier_channel_cap`,
    help: 'Channels this daemon may hold per carrier: floor(maxChannels × clusterShare); absent for a carrier with no cap',
    labelNames: ['carrier'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [carrier, c] of src.capacity?.() ?? []) if (c.channelCap !== null) this.set({ carrier }, c.channelCap);
    },
  });
  new client.Gauge({
    name: `${p}carrier_cps_cap`,
    help: 'Calls per second this daemon may start per carrier: maxCps × clusterShare; absent for a carrier with no cap',
    labelNames: ['carrier'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [carrier, c] of src.capacity?.() ?? []) if (c.cpsCap !== null) this.set({ carrier }, c.cpsCap);
    },
  });
  new client.Counter({
    name: `${p}carrier_dial_legs_total`,
    help: 'Dial legs started per carrier (one per carrier of a simultaneous Dial): rate() of it is the carrier’s cps',
    labelNames: ['carrier'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [carrier, c] of src.capacity?.() ?? []) this.inc({ carrier }, c.startsTotal);
    },
  });
  // the same series shape twice: this daemon's own spend, and what its budgets count (own + the peers' as last read)
  const spendGauge = (name: string, help: string, figure: (c: CarrierCost, window: 'hour' | 'day') => { readonly minutes: number; readonly money: number }): void => {
    new client.Gauge({
      name: `${p}${name}`,
      help,
      labelNames: ['carrier', 'window', 'unit'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [carrier, c] of src.cost?.() ?? []) {
          for (const window of ['hour', 'day'] as const) {
            const f = figure(c, window);
            this.set({ carrier, window, unit: 'minutes' }, f.minutes);
            if (c.priced) this.set({ carrier, window, unit: 'money' }, f.money);
          }
        }
      },
    });
  };
  spendGauge(
    'carrier_spend',
    'Spend per carrier through this daemon in the current clock hour or day (server local time): talk minutes as billed, and money (pricePerMinute/pricePerCall units) for a priced carrier',
    (c, w) => c[w],
  );
  spendGauge(
    'carrier_budget_spend',
    'What a carrier budget counts in the current clock hour or day: this daemon\'s spend plus, with cluster.enabled, the other dialers\' as last read (carrier_spend); the same as carrier_spend without a cluster',
    (c, w) => ({ minutes: c[w].minutes + (c.peers?.[w].minutes ?? 0), money: c[w].money + (c.peers?.[w].money ?? 0) }),
  );
  new client.Gauge({
    name: `${p}carrier_budget`,
    help: 'A carrier budget per clock hour or day, in minutes or money; absent where none is set',
    labelNames: ['carrier', 'window', 'unit'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [carrier, c] of src.cost?.() ?? []) for (const u of c.budget) this.set({ carrier, window: u.window, unit: u.unit }, u.limit);
    },
  });
  new client.Gauge({
    name: `${p}carrier_budget_alert_share`,
    help: 'The share of its budgets at which a carrier is "near" (budget.alertShare); absent without a budget',
    labelNames: ['carrier'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [carrier, c] of src.cost?.() ?? []) if (c.alertShare !== null) this.set({ carrier }, c.alertShare);
    },
  });
  new client.Gauge({
    name: `${p}carrier_progress_timeout_seconds`,
    help: 'The progress timeout (Dial ring^progress) the carrier\'s next Dial gets for a number in no prefix group: progressTimeout, or the value learned from its post-dial delays (adaptiveProgress)',
    labelNames: ['carrier'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [carrier, t] of src.progress?.() ?? []) this.set({ carrier }, t.seconds);
    },
  });
  new client.Gauge({ name: `${p}attempt_log_queue_depth`, help: 'Records waiting in memory for the database', registers: [registry], collect() { this.set(src.store?.()?.queued ?? 0); } });
  new client.Gauge({ name: `${p}attempt_log_spool_bytes`, help: 'Bytes in the on-disk spool', registers: [registry], collect() { this.set(src.store?.()?.spoolBytes ?? 0); } });
  new client.Gauge({ name: `${p}attempt_log_write_errors`, help: 'Failed database writes since start (records went to the spool)', registers: [registry], collect() { this.set(src.store?.()?.writeErrors ?? 0); } });
  new client.Counter({
    name: `${p}records_dropped_total`,
    help: 'Attempt records and carrier events never stored: disk (memory full while neither the database nor the spool takes them), refused (the database refused the row), unreadable (a spool line cut short by a crash)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const dropped = src.store?.()?.dropped;
      this.reset();
      for (const [reason, n] of Object.entries(dropped ?? {})) this.inc({ reason }, n);
    },
  });
  new client.Gauge({ name: `${p}db_connected`, help: '1 when the attempt-log database answers', registers: [registry], collect() { this.set(src.store?.()?.dbConnected ? 1 : 0); } });
  new client.Gauge({ name: `${p}ami_enabled`, help: '1 when carrier health follows AMI (ami.enabled)', registers: [registry], collect() { this.set(src.ami?.() ? 1 : 0); } });
  new client.Gauge({ name: `${p}ami_connected`, help: '1 when logged in to AMI (always 0 with ami.enabled false: see ami_enabled)', registers: [registry], collect() { this.set(src.ami?.()?.connected ? 1 : 0); } });
  new client.Gauge({
    name: `${p}ami_last_event_age_seconds`,
    help: 'Seconds since the last AMI event or resync (-1: never)',
    registers: [registry],
    collect() {
      const at = src.ami?.()?.lastEventAt ?? null;
      this.set(at === null ? -1 : (src.now() - at) / 1000);
    },
  });
  new client.Gauge({ name: `${p}cluster_enabled`, help: '1 when carrier health is shared with the other dialers (cluster.enabled)', registers: [registry], collect() { this.set(src.cluster?.() ? 1 : 0); } });
  new client.Gauge({
    name: `${p}cluster_up`,
    help: 'Shared health: 1 when the shared table answered within cluster.staleAfter; 0 = this dialer decides alone (always 0 with cluster.enabled false: see cluster_enabled)',
    registers: [registry],
    collect() {
      this.set(src.cluster?.()?.up ? 1 : 0);
    },
  });
  const peerFacts = new client.Counter({ name: `${p}cluster_peer_facts_applied_total`, help: 'Peer dialers\' breaker facts that changed this dialer\'s breaker, by carrier and fact (open, trial, closed)', labelNames: ['carrier', 'state'], registers: [registry] });
  new client.Counter({
    name: `${p}cluster_published_total`,
    help: 'Facts of this dialer\'s breaker written to the shared table, by fact (open, trial, closed)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const c = src.cluster?.();
      this.reset();
      for (const s of ['open', 'trial', 'closed']) this.inc({ state: s }, c?.published[s] ?? 0);
    },
  });
  new client.Counter({
    name: `${p}cluster_errors_total`,
    help: 'Failed or timed-out reads and writes of the shared table (the dialer goes on deciding alone)',
    labelNames: ['op'],
    registers: [registry],
    collect() {
      const c = src.cluster?.();
      this.reset();
      this.inc({ op: 'read' }, c?.readErrors ?? 0);
      this.inc({ op: 'write' }, c?.writeErrors ?? 0);
      const k = src.clusterSpend?.();
      this.inc({ op: 'spend_read' }, k?.readErrors ?? 0);
      this.inc({ op: 'spend_write' }, k?.writeErrors ?? 0);
    },
  });
  new client.Gauge({
    name: `${p}cluster_spend_up`,
    help: 'Cluster-wide budgets: 1 when the other dialers\' spend (carrier_spend) was read within cluster.staleAfter; 0 = budgets count own spend + the peers\' as last read (always 0 with cluster.enabled false)',
    registers: [registry],
    collect() {
      this.set(src.clusterSpend?.()?.up ? 1 : 0);
    },
  });
  // 1 ms resolution: the default 10 ms sampler reads ~10 ms of "lag" on an idle daemon
  client.collectDefaultMetrics({ register: registry, prefix: p, eventLoopMonitoringPrecision: 1 });

  const sink: RecordSink = {
    attempt(r) {
      switch (r.verdict) {
        case 'skipped':
          skips.inc({ carrier: r.carrier, reason: skipKind(r) });
          return;
        case 'invalid':
          invalid.inc({ reason: r.reason.startsWith('no route') ? 'noroute' : 'invalid_number' });
          return;
        default:
          attempts.inc(r.carrier, r.verdict, r.sipCode === null ? 'none' : String(r.sipCode));
          if (r.verdict === 'next') failovers.inc(r.route, r.carrier);
          if (typeof r.pddMs === 'number' && Number.isFinite(r.pddMs) && r.pddMs >= 0) pdd.observe({ carrier: r.carrier }, r.pddMs / 1000);
      }
    },
    carrierEvent(e: CarrierEvent) {
      // a peer's group fact is an event for the audit, not a change of the carrier's state
      if (e.group === undefined) transitions.inc({ carrier: e.carrier, to: e.to, source: e.source });
      if (e.source === 'breaker' && e.to === 'down') breakerOpenings.inc({ carrier: e.carrier });
    },
  };
  return {
    registry,
    sink,
    observeCall: (route, result) => calls.inc(route, result.status),
    observeCommand: (verb, seconds) => command.observe(verb, seconds),
    observePeerFact: (carrier, state) => peerFacts.inc({ carrier, state }),
  };
}
