import { findRoute, type RouteEntry, type ValidatedRouting } from '../config/carriers.js';
import type { CarrierConfig } from '../config/types.js';
import type { HealthSnapshot, HealthState } from '../health/types.js';
import { buildChannel, buildDialData } from '../routing/dial-string.js';
import { normalizeNumber } from '../routing/number.js';
import { groupOf } from '../routing/prefix-group.js';
import { capacityReasonKind } from '../routing/capacity.js';
import { demoted, isBudgetReason, type OverBudget } from '../routing/cost.js';
import { planAttempts, type Plan } from '../routing/plan.js';
import { orderNotes } from '../routing/order-notes.js';
import { dialProgressSeconds, progressTimeout, type ProgressTimeout } from '../routing/progress-timeout.js';

/** Why a carrier would be skipped for its capacity cap right now ("at channel cap 30/30"), or null. */
export type CapacityCheck = (carrier: string) => string | null;

/** The carrier's used-up budget right now (skip or demote), or null. */
export type BudgetCheck = (carrier: string) => OverBudget | null;

/** Why quality ordering demotes the carrier for a number in this prefix group right now (QualityLedger.demotion), or null. */
export type QualityCheck = (carrier: string, group: string | null) => string | null;

/** The progress timeout a Dial of the carrier would get now for a number in the group (progressTimeoutNow). */
export type ProgressCheck = (carrier: CarrierConfig, group: string | null) => ProgressTimeout;

/** Without the daemon's delays: what a carrier gets before it has learned a delay (its configured progressTimeout). */
const NOTHING_LEARNED: ProgressCheck = (c, g) => progressTimeout(c, g, null, { pdd: new Map(), alerted: 0 });

export interface PlannedDial {
  /** The carriers of this Dial (several for `simultaneous`). */
  readonly carriers: readonly { readonly carrier: string; readonly state: HealthState; readonly progress: ProgressTimeout }[];
  /** The data of the `EXEC Dial` the daemon would send: channels, `ring^progress`, options. */
  readonly dial: string;
  /** Why this Dial is where it is when not in the route's order (`demoted: …`, `moved ahead of demoted …`); absent = in place. */
  readonly note?: string;
}

export interface PlannedOrder {
  /** The share of calls that get this order: 1 but for `weighted`, whose first carrier is drawn per call. */
  readonly share: number;
  readonly dials: readonly PlannedDial[];
}

export interface PlanPreview {
  readonly route: string | null;
  readonly strategy: string;
  readonly script: string;
  readonly number: string | null;
  /** The prefix group (prefixGroups) the number falls in after the transform; null = none. */
  readonly prefixGroup: string | null;
  readonly error: string | null;
  /** The next call's Dials; for `weighted`, every order a call can get, with its share. */
  readonly orders: readonly PlannedOrder[];
  readonly skipped: readonly { carrier: string; state: HealthState; reason: string }[];
  readonly failedOpen: boolean;
  /** How the order was chosen: round robin's next start, weighted's draw. */
  readonly note: string;
  /** Every carrier left is at its capacity cap or over a `skip` budget now: the call would end with FAILOVER_STATUS=CAPACITY, no Dial. */
  readonly atCapacity: boolean;
  /** Carriers over a `demote` budget or demoted for quality, moved behind the others, each with why. */
  readonly demoted: readonly { carrier: string; reason: string }[];
}

/**
 * The plan as a call placed now would dial it: a carrier at its cap is skipped where the call would skip it, when
 * its Dial comes, before maxAttempts counts it. Later Dials of a sequential route come later, so a cap can free or
 * fill by then: the preview shows the caps of this moment.
 */
function withCaps(plan: Plan, blocked: CapacityCheck, budget: BudgetCheck, behind: (carrier: string) => string | null): Plan & { notes: Map<string, string> } {
  const targets: Plan['targets'][number][] = [];
  const skipped = [...plan.skipped];
  const why = new Map<string, string>();
  for (const t of plan.targets) {
    const r = behind(t.carrier.name);
    if (r !== null) why.set(t.carrier.name, r);
  }
  const ordered = demoted(plan.targets, (x) => why.has(x.carrier.name));
  const notes = why.size > 0 ? orderNotes(plan.targets, ordered, why) : new Map<string, string>();
  for (const t of ordered) {
    const over = budget(t.carrier.name);
    const why = over?.action === 'skip' ? over.reason : blocked(t.carrier.name);
    if (why === null) targets.push(t);
    else skipped.push({ carrier: t.carrier.name, health: t.health, reason: why });
  }
  return { ...plan, targets, skipped, notes };
}

function dialsOf(plan: Plan & { notes: ReadonlyMap<string, string> }, route: RouteEntry, number: string, group: string | null, progress: ProgressCheck): PlannedDial[] {
  const targets = plan.targets.slice(0, route.maxAttempts);
  // the progress timer as the call would write it: each carrier's configured or learned value, the longest of the legs
  const dial = (ts: typeof targets): PlannedDial => {
    const cs = ts.map((t) => ({ carrier: t.carrier.name, state: t.health, progress: progress(t.carrier, group) }));
    const data = buildDialData(ts.map((t) => buildChannel(t.carrier, number)), Math.max(...ts.map((t) => t.carrier.ringTimeout)), dialProgressSeconds(cs.map((c) => c.progress)), ts[0]?.carrier.dialOptions ?? '');
    return { carriers: cs, dial: data };
  };
  if (route.strategy === 'simultaneous') return targets.length === 0 ? [] : [dial(targets)];
  return targets.map((t) => {
    const note = plan.notes.get(t.carrier.name);
    return { ...dial([t]), ...(note !== undefined ? { note } : {}) };
  });
}

/**
 * `failover-agi plan`: what the next real call to this number would do, without placing it: the route chosen by
 * script and number as a call chooses it, round robin's next start (read, not advanced), weighted's possible
 * orders with their shares, and each Dial as it would be sent (timers and options). The call budget is not applied:
 * it depends on the call's own arguments and on how long its earlier attempts take.
 */
export function previewPlan(
  routing: ValidatedRouting,
  /** The health a call sees: one snapshot, or the snapshot for the number's prefix group (health map snapshotFor). */
  health: HealthSnapshot | ((group: string | null) => HealthSnapshot),
  ask: { readonly number: string; readonly route?: string | null; readonly script?: string | null },
  nextRotation: (route: string) => number,
  blocked: CapacityCheck = () => null,
  budget: BudgetCheck = () => null,
  quality: QualityCheck = () => null,
  progress: ProgressCheck = NOTHING_LEARNED,
): PlanPreview {
  const script = ask.script ?? [...routing.routes.values()][0]?.script ?? 'outbound-failover';
  const base = { script, orders: [], skipped: [], failedOpen: false, note: '', atCapacity: false, prefixGroup: null, demoted: [] };
  const route = ask.route ? (routing.routes.get(ask.route) ?? null) : findRoute(routing, script, ask.number);
  if (!route) return { ...base, route: null, strategy: '', number: null, error: ask.route ? `no route named ${ask.route}` : `NOROUTE: no route for script ${script} and number ${ask.number}` };
  const n = normalizeNumber(ask.number, route);
  if (!n.ok) return { ...base, route: route.name, strategy: route.strategy, number: null, error: `INVALID: ${n.reason}` };
  const rotation = route.strategy === 'round_robin' ? nextRotation(route.name) : 0;
  const prefixGroup = groupOf(n.number, routing.prefixMatcher);
  const input = { route, carriers: routing.carriers, health: typeof health === 'function' ? health(prefixGroup) : health };
  // as a call orders them (src/calls/failover-call.ts): a demote budget first, else quality, both behind the others
  const behind = (c: string): string | null => {
    const over = budget(c);
    return over?.action === 'demote' ? over.reason : quality(c, prefixGroup);
  };
  // every order a call can get, with its share: weighted draws its first carrier per call, the others have one order
  let orders: { plan: Plan & { notes: Map<string, string> }; share: number }[];
  let note = route.strategy === 'round_robin' ? `round_robin: the next call on this route is number ${rotation + 1} since start and begins at the carrier shown first` : '';
  if (route.strategy === 'weighted') {
    const drawn = route.carriers.map((c) => routing.carriers.get(c)).filter((c): c is CarrierConfig => c !== undefined && c.enabled && c.weight > 0);
    const total = drawn.reduce((s, c) => s + c.weight, 0);
    let from = 0;
    orders = drawn.map((c) => {
      // the middle of this carrier's slice of [0, 1): the draw that makes it first
      const plan = withCaps(planAttempts({ ...input, rotation, random: (from + c.weight / 2) / total }), blocked, budget, behind);
      from += c.weight;
      return { plan, share: c.weight / total };
    });
    note = 'weighted: the first carrier is drawn per call in proportion to weight; every possible order is shown with its share of calls';
  } else {
    orders = [{ plan: withCaps(planAttempts({ ...input, rotation, random: 0.5 }), blocked, budget, behind), share: 1 }];
  }
  const first = orders[0]?.plan ?? withCaps(planAttempts({ ...input, rotation, random: 0 }), blocked, budget, behind);
  const atCapacity = first.targets.length === 0 && first.skipped.some((sk) => capacityReasonKind(sk.reason) !== null || isBudgetReason(sk.reason));
  if (atCapacity) note = [note, 'every carrier left is at its capacity cap or over budget: the call would end with FAILOVER_STATUS=CAPACITY (congestion), no Dial'].filter(Boolean).join('; ');
  const demotedNow = route.carriers.flatMap((c) => {
    const over = budget(c);
    if (over?.action === 'demote') return [{ carrier: c, reason: over.reason, budget: true }];
    const q = quality(c, prefixGroup);
    return q !== null ? [{ carrier: c, reason: q, budget: false }] : [];
  });
  const overBudget = demotedNow.filter((d) => d.budget);
  const poor = demotedNow.filter((d) => !d.budget);
  if (overBudget.length > 0) note = [note, `over budget, dialed after the others: ${overBudget.map((d) => `${d.carrier} (${d.reason})`).join(', ')}`].filter(Boolean).join('; ');
  if (poor.length > 0) note = [note, `demoted for quality, dialed after the others: ${poor.map((d) => `${d.carrier} (${d.reason})`).join(', ')}`].filter(Boolean).join('; ');
  return {
    ...base,
    route: route.name,
    strategy: route.strategy,
    number: n.number,
    prefixGroup,
    error: null,
    orders: orders.map((o) => ({ share: o.share, dials: dialsOf(o.plan, route, n.number, prefixGroup, progress) })),
    skipped: first.skipped.map((sk) => ({ carrier: sk.carrier, state: sk.health, reason: sk.reason })),
    failedOpen: first.failedOpen,
    note,
    atCapacity,
    demoted: demotedNow.map((d) => ({ carrier: d.carrier, reason: d.reason })),
  };
}
