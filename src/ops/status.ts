import type { CapacitySnapshot, CarrierCapacity } from '../calls/capacity-ledger.js';
import type { CarrierCost, CostSnapshot } from '../calls/cost-ledger.js';
import type { ValidatedRouting } from '../config/carriers.js';
import type { CarrierConfig } from '../config/types.js';
import type { CarrierInspection } from '../health/health-map.js';
import type { QualitySummary } from '../health/quality.js';
import type { CarrierQuality } from '../health/quality-ledger.js';
import type { CarrierEvent, HealthSnapshot, HealthState, QualityState } from '../health/types.js';
import { progressTimeout, type ProgressTimeout } from '../routing/progress-timeout.js';
import type { CarrierRecentStats } from './recent-stats.js';

export interface CarrierStatus {
  readonly name: string;
  readonly peer: string;
  readonly dial: string;
  readonly state: HealthState;
  readonly since: number;
  readonly reason: string;
  readonly last15m: CarrierRecentStats;
  /** Channels in use / cap and cps / cap now, and why the next Dial would be skipped (atCap), if it would. */
  readonly capacity: CarrierCapacity;
  /** Spend in the current clock hour and day against the budget; absent where the daemon counts none. */
  readonly cost?: CarrierCost;
  /** Prefix groups (prefixGroups) the carrier is ejected or recovering for, while it serves every other number. */
  readonly groups: readonly GroupStatus[];
  /** The progress timeout its next Dial would get for a number in no prefix group: configured or learned (adaptiveProgress). */
  readonly progress: ProgressTimeout;
  /** Quality ordering (health.quality): demoted or not, and the figures behind it; absent where nothing judges. */
  readonly quality?: QualityStatus;
}

/** Why a carrier is ordered where it is: its quality state, the figures of the recent window and of its baseline. */
export interface QualityStatus {
  readonly state: QualityState;
  /** Epoch ms of the last demotion or return; 0 = none since start. */
  readonly since: number;
  readonly reason: string;
  readonly recent: QualitySummary;
  readonly baseline: QualitySummary;
  /** The prefix groups the carrier is demoted for (its numbers in the group go behind the others). */
  readonly groups: readonly { readonly group: string; readonly since: number; readonly reason: string }[];
}

/** A ledger's standing of one carrier, as status carries it. */
export function qualityStatus(q: CarrierQuality): QualityStatus {
  const j = q.judgement;
  return {
    state: j.state,
    since: j.since,
    reason: j.reason,
    recent: j.recent,
    baseline: j.baseline,
    groups: q.groups.filter((g) => g.judgement.state === 'demoted').map((g) => ({ group: g.group, since: g.judgement.since, reason: g.judgement.reason })),
  };
}

export interface GroupStatus {
  readonly group: string;
  /** down: ejected for the group until `until`; probing: trial calls to the group. */
  readonly state: 'down' | 'probing';
  readonly until: number | null;
  readonly reason: string;
}

const UNCOUNTED: CarrierCapacity = { channelsInUse: 0, channelCap: null, cpsLastSecond: 0, cpsCap: null, startsTotal: 0, atCap: null };

export interface DaemonStatus {
  readonly serverId: string;
  readonly now: number;
  readonly activeCalls: number;
  readonly carriers: readonly CarrierStatus[];
  readonly routes: readonly { name: string; script: string; strategy: string; carriers: readonly string[]; maxAttempts: number; whenAllDown: string }[];
  readonly ami: { readonly enabled: boolean; readonly connected: boolean; readonly lastEventAt: number | null };
  readonly db: { readonly configured: boolean; readonly connected: boolean; readonly queued: number; readonly spoolBytes: number };
  /** The last carrier state changes, newest first (a bounded ring: see recent-events.ts). */
  readonly events: readonly CarrierEvent[];
  readonly cluster: ClusterStatus;
}

/** Shared health (cluster.enabled): whether the other dialers' facts reach this one. */
export interface ClusterStatus {
  readonly enabled: boolean;
  /** The shared table answered within cluster.staleAfter; false = deciding alone. */
  readonly up: boolean;
  readonly lostSince: number | null;
  readonly lastReadAt: number | null;
  readonly lastError: string;
  readonly peers: readonly { readonly server: string; readonly seenAt: number; readonly carrier: string; readonly state: string; readonly group?: string }[];
  /** Cluster-wide budgets: whether the peers' spend (carrier_spend) is read; null without cluster.enabled. */
  readonly spend?: ClusterSpendStatus | null;
}

export interface ClusterSpendStatus {
  /** Read within cluster.staleAfter; false = budgets count own spend + the peers' as last read at lastReadAt. */
  readonly up: boolean;
  readonly lostSince: number | null;
  readonly lastReadAt: number | null;
  readonly lastError: string;
  /** Dialers with spend in the current windows, as last read. */
  readonly peers: readonly string[];
}

export const CLUSTER_OFF: ClusterStatus = { enabled: false, up: false, lostSince: null, lastReadAt: null, lastError: '', peers: [], spend: null };

export interface StatusInput {
  readonly serverId: string;
  readonly now: number;
  readonly activeCalls: number;
  readonly routing: ValidatedRouting;
  readonly health: HealthSnapshot;
  readonly recent: (carrier: string) => CarrierRecentStats;
  readonly ami: DaemonStatus['ami'];
  readonly db: DaemonStatus['db'];
  readonly events?: readonly CarrierEvent[];
  readonly cluster?: ClusterStatus;
  readonly capacity?: CapacitySnapshot;
  readonly cost?: CostSnapshot;
  /** Per-(carrier, group) ejections, from the health map's inspection. */
  readonly groups?: (carrier: string) => readonly GroupStatus[];
  /** Quality ordering's standing per carrier (the daemon's QualityLedger snapshot). */
  readonly quality?: ReadonlyMap<string, CarrierQuality>;
  /** The carrier's progress timeout now (progressTimeoutNow over the daemon's quality window); else the configured value. */
  readonly progress?: (carrier: CarrierConfig) => ProgressTimeout;
}

/** The per-(carrier, group) ejections of a health map inspection, by carrier. */
export function groupStatus(inspection: ReadonlyMap<string, CarrierInspection>): (carrier: string) => readonly GroupStatus[] {
  return (carrier) =>
    (inspection.get(carrier)?.groups ?? []).map((g) => ({ group: g.group, state: g.breaker === 'open' ? 'down' : 'probing', until: g.ejectedUntil, reason: g.reason }));
}

export function buildStatus(i: StatusInput): DaemonStatus {
  return {
    serverId: i.serverId,
    now: i.now,
    activeCalls: i.activeCalls,
    carriers: [...i.routing.carriers.values()].map((c) => {
      const h = i.health.get(c.name);
      const progress = i.progress?.(c) ?? progressTimeout(c, null, null, { pdd: new Map(), alerted: 0 });
      return { name: c.name, peer: c.peer, dial: c.dial, state: h?.state ?? 'unknown', since: h?.since ?? 0, reason: h?.reason ?? '', last15m: i.recent(c.name), capacity: i.capacity?.get(c.name) ?? UNCOUNTED, groups: i.groups?.(c.name) ?? [], progress, ...(i.cost?.get(c.name) ? { cost: i.cost.get(c.name) } : {}), ...qualityOf(i.quality, c.name) };
    }),
    routes: [...i.routing.routes.values()].map((r) => ({ name: r.name, script: r.script, strategy: r.strategy, carriers: r.carriers, maxAttempts: r.maxAttempts, whenAllDown: r.whenAllDown })),
    ami: i.ami,
    db: i.db,
    events: i.events ?? [],
    cluster: i.cluster ?? CLUSTER_OFF,
  };
}

function qualityOf(m: ReadonlyMap<string, CarrierQuality> | undefined, name: string): { quality?: QualityStatus } {
  const q = m?.get(name);
  return q ? { quality: qualityStatus(q) } : {};
}

/** `demoted for quality: ASR …` or `demoted for prefix group uk: …`: what status's WHY says of a demoted carrier; empty when none. */
export function qualityNote(c: Pick<CarrierStatus, 'quality'>): string {
  const q = c.quality;
  if (!q) return '';
  const parts = q.state === 'demoted' ? [`${q.reason} (dialed after the others)`] : [];
  for (const g of q.groups) parts.push(`prefix group ${g.group} ${g.reason}`);
  return parts.join('; ');
}

/** `2/30 ch · 4/10 cps`: in use over this dialer's cap (cps: Dial legs started in the last whole second); no cap, no `/`. */
export function capacityText(c: Pick<CarrierStatus, 'capacity'>): string {
  const k = c.capacity;
  const ch = k.channelCap === null ? `${k.channelsInUse} ch` : `${k.channelsInUse}/${k.channelCap} ch`;
  const cps = k.cpsCap === null ? `${k.cpsLastSecond} cps` : `${k.cpsLastSecond}/${Math.round(k.cpsCap * 1000) / 1000} cps`;
  return `${ch} · ${cps}`;
}

function amount(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/**
 * `hour 0.5/600 min · day 12/5000 min, 3.1/50 money`: spend in the current clock hour and day, over the budget where
 * one is set; money only for a priced carrier. Empty when nothing is counted or priced. With a cluster each figure
 * is what the budget counts, then its parts: `hour 2/2 min (own 0.5 + peers 1.5)`.
 */
export function spendText(c: Pick<CarrierStatus, 'cost'>): string {
  const k = c.cost;
  if (!k) return '';
  const limit = (w: 'hour' | 'day', unit: 'minutes' | 'money'): string => {
    const u = k.budget.find((b) => b.window === w && b.unit === unit);
    return u ? `/${amount(u.limit)}` : '';
  };
  return (['hour', 'day'] as const)
    .map((w) => {
      const p = k.peers;
      const figure = (unit: 'minutes' | 'money'): string => {
        const own = k[w][unit];
        return p ? `${amount(own + p[w][unit])}${limit(w, unit)}` : `${amount(own)}${limit(w, unit)}`;
      };
      const split = (unit: 'minutes' | 'money'): string => (p ? ` (own ${amount(k[w][unit])} + peers ${amount(p[w][unit])})` : '');
      const parts = [`${figure('minutes')} min${split('minutes')}`];
      if (k.priced) parts.push(`${figure('money')} money${split('money')}`);
      return `${w} ${parts.join(', ')}`;
    })
    .join(' · ');
}

/** The budget's state in a word for `status`: over (with its action), near, or empty. */
export function budgetNote(c: Pick<CarrierStatus, 'cost'>): string {
  const k = c.cost;
  if (!k) return '';
  if (k.over) return `${k.over.reason}: ${k.over.action === 'skip' ? 'skipped' : 'demoted'}`;
  const near = k.budget.find((b) => b.level === 'near');
  return near ? `${near.window === 'hour' ? 'hourly' : 'daily'} budget ${Math.round(near.share * 100)} % used` : '';
}

/** One post-dial delay: ms below a second (a capture's 2 ms is not "0.0 s"), tenths of a second above. */
export function delayText(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(Math.round(ms / 100) / 10).toFixed(1)} s`;
}

/** `1.2 s / 3.4 s`: post-dial delay p50 / p95 over the last 15 minutes' Dials that rang; `-` when none did. */
export function pddText(c: Pick<CarrierStatus, 'last15m'>): string {
  const { p50Ms, p95Ms } = c.last15m.pdd;
  return p50Ms === null || p95Ms === null ? '-' : `${delayText(p50Ms)} / ${delayText(p95Ms)}`;
}

/**
 * The progress timeout in a `status` cell: `5 s` fixed, `5 s (learning 12/50)` in adaptive mode with too few delays,
 * `1.3 s p99×1.5` learned (the percentile and factor it came from; `plan` gives the whole story).
 */
export function progressShort(c: Pick<CarrierStatus, 'progress'>): string {
  const t = c.progress;
  if (t.source === 'configured') return t.minSamples === 0 ? `${t.seconds} s` : `${t.seconds} s (learning ${t.samples}/${t.minSamples})`;
  return `${t.seconds} s p${t.percentile}×${t.factor}`;
}
