import type { BudgetLimit, CarrierBudget, CarrierConfig } from '../config/types.js';

/**
 * The cost guard as pure functions: what an answered call costs, what a carrier has spent in the current clock hour
 * and day, and whether its budget is used up. The daemon holds one CarrierSpend per carrier
 * (src/calls/cost-ledger.ts); every decision about it is made here, with the time passed in.
 *
 * Windows are the clock hour and the calendar day of the server's local time (TZ), what an ops person means by
 * "per hour" and "per day": at 11:00:00 the hourly spend starts again from 0, at midnight the daily one.
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

/** One limit of a budget against what its window has spent. */
export interface BudgetUse {
  readonly window: BudgetWindow;
  readonly unit: BudgetUnit;
  readonly spent: number;
  readonly limit: number;
  /** spent / limit (1 or more = used up). */
  readonly share: number;
}

function limitOf(b: CarrierBudget, w: BudgetWindow): BudgetLimit | null {
  return w === 'hour' ? b.perHour : b.perDay;
}

/** Every limit the budget sets, hour before day, minutes before money, with the spend of its window at `now`. */
export function budgetUses(s: CarrierSpend, budget: CarrierBudget | null, now: number): BudgetUse[] {
  if (!budget) return [];
  const r = rolled(s, now);
  const out: BudgetUse[] = [];
  for (const w of BUDGET_WINDOWS) {
    const l = limitOf(budget, w);
    if (!l) continue;
    for (const unit of ['minutes', 'money'] as const) {
      const limit = l[unit];
      if (limit === null) continue;
      const spent = r[w][unit];
      out.push({ window: w, unit, spent, limit, share: limit > 0 ? spent / limit : 1 });
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

/** The skip row's reason for a used-up limit: "hourly budget of 600 min used", "daily budget of 50 money used". */
export function budgetReason(u: Pick<BudgetUse, 'window' | 'unit' | 'limit'>): string {
  return `${u.window === 'hour' ? 'hourly' : 'daily'} budget of ${amount(u.limit)} ${u.unit === 'minutes' ? 'min' : 'money'} used`;
}

/** A used-up budget: why, and what it does to the carrier. */
export interface OverBudget {
  readonly reason: string;
  readonly action: 'skip' | 'demote';
}

/** The first used-up limit (hour before day), or null while every limit has some left. */
export function overBudget(s: CarrierSpend, budget: CarrierBudget | null, now: number): OverBudget | null {
  if (!budget) return null;
  const used = budgetUses(s, budget, now).find((u) => levelOf(u, budget.alertShare) === 'used');
  return used ? { reason: budgetReason(used), action: budget.action } : null;
}

/** A limit whose level went up with a charge: what the daemon logs as the budget alert. */
export interface BudgetCrossing extends BudgetUse {
  readonly level: Exclude<BudgetLevel, 'ok'>;
}

/** The limits a charge moved to "near" or "used" (a charge that jumps both reports only "used"). */
export function crossings(before: CarrierSpend, after: CarrierSpend, budget: CarrierBudget | null, now: number): BudgetCrossing[] {
  if (!budget) return [];
  const was = budgetUses(before, budget, now);
  return budgetUses(after, budget, now).flatMap((u, i) => {
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
  return /^(hourly|daily) budget of [0-9.]+ (min|money) used$/.test(reason);
}
