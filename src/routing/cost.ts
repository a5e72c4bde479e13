import type { BudgetLimit, CarrierBudget, CarrierConfig } from '../config/types.js';

/**
 * The cost guard as pure functions: what an answered call costs, what a carrier has spent in the current clock hour
 * and day, and whether its budget is used up. The daemon holds one CarrierSpend per carrier
 * (src/calls/cost-ledger.ts); every decision about it is made here, with the time passed in.
 *
 * Windows are the clock hour and the calendar day of the server's local time (TZ), what an ops person means by
 * "per hour" and "per day": at 11:00:00 the hourly spend starts again from 0, at midnight the daily one.
 *
 * With cluster.enabled a budget counts the whole cluster: this dialer's own spend (the ledger, exact and at once)
 * plus the peers' (what the other dialers last published, src/store/shared-spend.ts). The two never overlap: peers'
 * figures exclude this dialer's server_id. A peer's window is keyed by its start; only a peer window that starts
 * where this dialer's current one does is counted, so a rollover never mixes two hours, whoever's clock is ahead.
 */

export type BudgetWindow = 'hour' | 'day';
export type BudgetUnit = 'minutes' | 'money';
export const BUDGET_WINDOWS: readonly BudgetWindow[] = ['hour', 'day'];

/** What one window has counted so far. */
export interface WindowSpend {
  /** Epoch ms the window began (local clock hour or midnight). */
  readonly start: number;
  readonly minutes: number;
  readonly money: number;
}

export interface CarrierSpend {
  readonly hour: WindowSpend;
  readonly day: WindowSpend;
}

/** What one answered call costs. */
export interface Bill {
  readonly minutes: number;
  readonly money: number;
}

/** Float sums of fractional minutes: 0.1 + 0.2 must reach a budget of 0.3. */
const EPSILON = 1e-9;

/** The start of the window holding `now`, in the server's local time (so a DST change moves it as the clock does). */
export function windowStart(now: number, w: BudgetWindow): number {
  const d = new Date(now);
  if (w === 'hour') d.setMinutes(0, 0, 0);
  else d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export function freshSpend(now: number): CarrierSpend {
  return { hour: { start: windowStart(now, 'hour'), minutes: 0, money: 0 }, day: { start: windowStart(now, 'day'), minutes: 0, money: 0 } };
}

/** The spend with every window that ended before `now` started again from 0. A clock that went back keeps the counts. */
export function rolled(s: CarrierSpend, now: number): CarrierSpend {
  const roll = (ws: WindowSpend, w: BudgetWindow): WindowSpend => {
    const start = windowStart(now, w);
    return start > ws.start ? { start, minutes: 0, money: 0 } : ws;
  };
  const hour = roll(s.hour, 'hour');
  const day = roll(s.day, 'day');
  return hour === s.hour && day === s.day ? s : { hour, day };
}

/**
 * The bill of one answered call: talk time rounded up to whole billing increments (a 0 ms answer bills nothing but
 * the per-call fee), times pricePerMinute, plus pricePerCall.
 */
export function billOf(c: Pick<CarrierConfig, 'pricePerMinute' | 'pricePerCall' | 'billingIncrement'>, talkMs: number): Bill {
  const inc = c.billingIncrement > 0 ? c.billingIncrement : 1;
  const seconds = talkMs > 0 ? Math.ceil(talkMs / 1000 / inc - EPSILON) * inc : 0;
  const minutes = seconds / 60;
  return { minutes, money: minutes * c.pricePerMinute + c.pricePerCall };
}

/** One answered call counted in both windows (after a rollover, if one is due). */
export function charge(s: CarrierSpend, bill: Bill, now: number): CarrierSpend {
  const r = rolled(s, now);
  const add = (ws: WindowSpend): WindowSpend => ({ start: ws.start, minutes: ws.minutes + bill.minutes, money: ws.money + bill.money });
  return { hour: add(r.hour), day: add(r.day) };
}

/**
 * The peers' spend as known at `now`: a window read for an hour or day that has ended counts 0 (the peers start the
 * new one from 0 as well, and until the next read nothing else is known of it).
 */
export function peersAt(peers: CarrierSpend | null, now: number): CarrierSpend | null {
  if (!peers) return null;
  const at = (ws: WindowSpend, w: BudgetWindow): WindowSpend => {
    const start = windowStart(now, w);
    return ws.start === start ? ws : { start, minutes: 0, money: 0 };
  };
  return { hour: at(peers.hour, 'hour'), day: at(peers.day, 'day') };
}

/** One peer dialer's published spend on one carrier in one window (a row of carrier_spend). */
export interface PeerWindowSpend {
  readonly carrier: string;
  readonly server: string;
  readonly window: BudgetWindow;
  readonly start: number;
  readonly minutes: number;
  readonly money: number;
}

/**
 * The peers' rows summed per carrier for the windows that hold `now`, every carrier of `carriers` present (0 where
 * no peer spent): the read is the whole truth of those windows, so a carrier missing from it spent nothing.
 * Rows of this dialer (`self`) or of other windows are left out, whatever the query let through.
 */
export function peerTotals(rows: readonly PeerWindowSpend[], carriers: Iterable<string>, self: string, now: number): Map<string, CarrierSpend> {
  const out = new Map<string, CarrierSpend>();
  for (const c of carriers) out.set(c, freshSpend(now));
  for (const r of rows) {
    const cur = out.get(r.carrier);
    if (!cur || r.server === self || r.start !== cur[r.window].start) continue;
    const ws = cur[r.window];
    out.set(r.carrier, { ...cur, [r.window]: { start: ws.start, minutes: ws.minutes + r.minutes, money: ws.money + r.money } });
  }
  return out;
}

/** One limit of a budget against what its window has spent. */
export interface BudgetUse {
  readonly window: BudgetWindow;
  readonly unit: BudgetUnit;
  /** Own + peers': what the limit is held against. */
  readonly spent: number;
  /** The peers' part of `spent` (0 without a cluster). */
  readonly peers: number;
  readonly limit: number;
  /** spent / limit (1 or more = used up). */
  readonly share: number;
}

function limitOf(b: CarrierBudget, w: BudgetWindow): BudgetLimit | null {
  return w === 'hour' ? b.perHour : b.perDay;
}

/** Every limit the budget sets, hour before day, minutes before money, with the spend of its window at `now` (own + peers'). */
export function budgetUses(s: CarrierSpend, budget: CarrierBudget | null, now: number, peers: CarrierSpend | null = null): BudgetUse[] {
  if (!budget) return [];
  const r = rolled(s, now);
  const p = peersAt(peers, now);
  const out: BudgetUse[] = [];
  for (const w of BUDGET_WINDOWS) {
    const l = limitOf(budget, w);
    if (!l) continue;
    for (const unit of ['minutes', 'money'] as const) {
      const limit = l[unit];
      if (limit === null) continue;
      const byPeers = p ? p[w][unit] : 0;
      const spent = r[w][unit] + byPeers;
      out.push({ window: w, unit, spent, peers: byPeers, limit, share: limit > 0 ? spent / limit : 1 });
    }
  }
  return out;
}

export type BudgetLevel = 'ok' | 'near' | 'used';

export function levelOf(u: Pick<BudgetUse, 'spent' | 'limit'>, alertShare: number): BudgetLevel {
  if (u.spent >= u.limit - EPSILON) return 'used';
  if (u.spent >= u.limit * alertShare - EPSILON) return 'near';
  return 'ok';
}

function amount(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

/**
 * The skip row's reason for a used-up limit: "hourly budget of 600 min used", "daily budget of 50 money used", and
 * where peers spent part of it "hourly budget of 600 min used cluster-wide (412.5 min by peers)".
 */
export function budgetReason(u: Pick<BudgetUse, 'window' | 'unit' | 'limit'> & { readonly peers?: number }): string {
  const unit = u.unit === 'minutes' ? 'min' : 'money';
  const base = `${u.window === 'hour' ? 'hourly' : 'daily'} budget of ${amount(u.limit)} ${unit} used`;
  return u.peers !== undefined && u.peers > EPSILON ? `${base} cluster-wide (${amount(u.peers)} ${unit} by peers)` : base;
}

/** A used-up budget: why, and what it does to the carrier. */
export interface OverBudget {
  readonly reason: string;
  readonly action: 'skip' | 'demote';
}

/** The first used-up limit (hour before day), or null while every limit has some left. */
export function overBudget(s: CarrierSpend, budget: CarrierBudget | null, now: number, peers: CarrierSpend | null = null): OverBudget | null {
  if (!budget) return null;
  const used = budgetUses(s, budget, now, peers).find((u) => levelOf(u, budget.alertShare) === 'used');
  return used ? { reason: budgetReason(used), action: budget.action } : null;
}

/** A limit whose level went up with a charge: what the daemon logs as the budget alert. */
export interface BudgetCrossing extends BudgetUse {
  readonly level: Exclude<BudgetLevel, 'ok'>;
}

/** The limits a charge moved to "near" or "used" (a charge that jumps both reports only "used"). */
export function crossings(before: CarrierSpend, after: CarrierSpend, budget: CarrierBudget | null, now: number, peers: CarrierSpend | null = null): BudgetCrossing[] {
  if (!budget) return [];
  const was = budgetUses(before, budget, now, peers);
  return budgetUses(after, budget, now, peers).flatMap((u, i) => {
    const from = was[i] ? levelOf(was[i], budget.alertShare) : 'ok';
    const to = levelOf(u, budget.alertShare);
    return to !== 'ok' && to !== from ? [{ ...u, level: to }] : [];
  });
}

/**
 * Demotion: the carriers over a `demote` budget move behind every carrier still within its budget, each group
 * keeping its order. They stay in the plan, so a call still uses them when nothing else is left.
 */
export function demoted<T>(targets: readonly T[], isDemoted: (t: T) => boolean): T[] {
  const behind = targets.filter(isDemoted);
  return behind.length === 0 ? [...targets] : [...targets.filter((t) => !isDemoted(t)), ...behind];
}

/** Whether a skip reason is a used-up budget: what the skip metric's reason label and `plan` key on. */
export function isBudgetReason(reason: string): boolean {
  return /^(hourly|daily) budget of [0-9.]+ (min|money) used( cluster-wide \([0-9.]+ (min|money) by peers\))?$/.test(reason);
}
