import type { ValidatedRouting } from '../config/carriers.js';
import type { CarrierEvent, HealthSnapshot, HealthState } from '../health/types.js';
import { findRoute } from '../config/carriers.js';
import { normalizeNumber } from '../routing/number.js';
import { planAttempts } from '../routing/plan.js';
import type { CarrierRecentStats } from './recent-stats.js';

export interface CarrierStatus {
  readonly name: string;
  readonly peer: string;
  readonly dial: string;
  readonly state: HealthState;
  readonly since: number;
  readonly reason: string;
  readonly last15m: CarrierRecentStats;
}

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
}

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
}

export function buildStatus(i: StatusInput): DaemonStatus {
  return {
    serverId: i.serverId,
    now: i.now,
    activeCalls: i.activeCalls,
    carriers: [...i.routing.carriers.values()].map((c) => {
      const h = i.health.get(c.name);
      return { name: c.name, peer: c.peer, dial: c.dial, state: h?.state ?? 'unknown', since: h?.since ?? 0, reason: h?.reason ?? '', last15m: i.recent(c.name) };
    }),
    routes: [...i.routing.routes.values()].map((r) => ({ name: r.name, script: r.script, strategy: r.strategy, carriers: r.carriers, maxAttempts: r.maxAttempts, whenAllDown: r.whenAllDown })),
    ami: i.ami,
    db: i.db,
    events: i.events ?? [],
  };
}

export interface PlanPreview {
  readonly route: string | null;
  readonly number: string | null;
  readonly error: string | null;
  readonly order: readonly { carrier: string; state: HealthState; dial: string }[];
  readonly skipped: readonly { carrier: string; state: HealthState; reason: string }[];
  readonly failedOpen: boolean;
}

/** `failover-agi plan`: what a call to this number would do right now, without placing it. Round robin shows its next start. */
export function previewPlan(routing: ValidatedRouting, health: HealthSnapshot, rawNumber: string, routeName: string | null, rotation: number, script = 'outbound-failover'): PlanPreview {
  const route = routeName ? (routing.routes.get(routeName) ?? null) : findRoute(routing, script, rawNumber);
  if (!route) return { route: null, number: null, error: routeName ? `no route named ${routeName}` : `no route for script ${script} and number ${rawNumber}`, order: [], skipped: [], failedOpen: false };
  const n = normalizeNumber(rawNumber, route);
  if (!n.ok) return { route: route.name, number: null, error: `INVALID: ${n.reason}`, order: [], skipped: [], failedOpen: false };
  const plan = planAttempts({ route, carriers: routing.carriers, health, rotation, random: 0.5 });
  return {
    route: route.name,
    number: n.number,
    error: null,
    order: plan.targets.slice(0, route.strategy === 'simultaneous' ? undefined : route.maxAttempts).map((t) => ({ carrier: t.carrier.name, state: t.health, dial: t.carrier.dial.replace('${number}', n.number) })),
    skipped: plan.skipped.map((s) => ({ carrier: s.carrier, state: s.health, reason: s.reason })),
    failedOpen: plan.failedOpen,
  };
}
