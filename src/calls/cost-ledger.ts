import type { CarrierConfig } from '../config/types.js';
import { billOf, budgetUses, charge, crossings, freshSpend, levelOf, overBudget, peersAt, rolled, type BudgetCrossing, type BudgetLevel, type BudgetUse, type CarrierSpend, type OverBudget } from '../routing/cost.js';

interface Amounts {
  readonly minutes: number;
  readonly money: number;
}

/** One carrier's spend as `status` and the metrics show it. */
export interface CarrierCost {
  /** This dialer's own spend. */
  readonly hour: Amounts;
  readonly day: Amounts;
  /** The other dialers' spend as last read (cluster.enabled), or null: a budget counts own + peers'. */
  readonly peers: { readonly hour: Amounts; readonly day: Amounts } | null;
  /** True when the carrier has a price (money is counted). */
  readonly priced: boolean;
  /** Every limit of its budget with its level; empty without a budget. */
  readonly budget: readonly (BudgetUse & { readonly level: BudgetLevel })[];
  readonly alertShare: number | null;
  /** The used-up budget and what it does, or null. */
  readonly over: OverBudget | null;
}

export type CostSnapshot = ReadonlyMap<string, CarrierCost>;

/** What a call sees of the budgets; synchronous, like the capacity view. */
export interface CostView {
  /** The used-up budget of the carrier, or null. */
  over(carrier: string, now: number): OverBudget | null;
  /** An answered Dial on the carrier returned with this talk time: count it. Returns the limits it pushed to near or used. */
  charge(carrier: string, talkMs: number, now: number): readonly BudgetCrossing[];
}

interface Entry {
  spend: CarrierSpend;
  config: CarrierConfig;
  /** The peers' spend of the windows last read (cluster.enabled), null until a first read or without a cluster. */
  peers: CarrierSpend | null;
}

/** This dialer's own spend on a carrier with a budget: what it publishes to its peers. */
export interface OwnSpend {
  readonly carrier: string;
  readonly spend: CarrierSpend;
}

/**
 * The daemon's spend per carrier name in the current clock hour and day. A reload (configure) keeps the spend of
 * every carrier that keeps its name, under its new prices and budget; a carrier the new config drops is forgotten.
 * The counts live in memory: a restart starts the windows from what seed() is given (0 without a database).
 * With a cluster, setPeers() hands it the other dialers' spend on the poll timer; every check counts both, and the
 * call path never waits for it.
 */
export class CostLedger implements CostView {
  private readonly entries = new Map<string, Entry>();

  constructor(carriers: Iterable<CarrierConfig>, now: number) {
    this.configure(carriers, now);
  }

  configure(carriers: Iterable<CarrierConfig>, now: number): void {
    const seen = new Set<string>();
    for (const c of carriers) {
      seen.add(c.name);
      const e = this.entries.get(c.name);
      if (e) e.config = c;
      else this.entries.set(c.name, { spend: freshSpend(now), config: c, peers: null });
    }
    for (const name of [...this.entries.keys()]) if (!seen.has(name)) this.entries.delete(name);
  }

  over(carrier: string, now: number): OverBudget | null {
    const e = this.entries.get(carrier);
    return e ? overBudget(e.spend, e.config.budget, now, e.peers) : null;
  }

  charge(carrier: string, talkMs: number, now: number): readonly BudgetCrossing[] {
    const e = this.entries.get(carrier);
    if (!e) return [];
    const before = e.spend;
    e.spend = charge(before, billOf(e.config, talkMs), now);
    return crossings(before, e.spend, e.config.budget, now, e.peers);
  }

  /**
   * The peers' spend from a successful read, per carrier (src/routing/cost.ts peerTotals). Replaces what was known
   * of every carrier the read covers; the others keep their last figures (a peersAt() rollover still ends them).
   * Returns the limits the peers' new spend pushed to near or used, as a charge does.
   */
  setPeers(peers: ReadonlyMap<string, CarrierSpend>, now: number): { readonly carrier: string; readonly crossing: BudgetCrossing }[] {
    const out: { carrier: string; crossing: BudgetCrossing }[] = [];
    for (const [name, spend] of peers) {
      const e = this.entries.get(name);
      if (!e) continue;
      const before = budgetUses(e.spend, e.config.budget, now, e.peers);
      e.peers = spend;
      const share = e.config.budget?.alertShare ?? 1;
      budgetUses(e.spend, e.config.budget, now, spend).forEach((u, i) => {
        const was = before[i];
        const from = was ? levelOf(was, share) : 'ok';
        const to = levelOf(u, share);
        if (to !== 'ok' && to !== from) out.push({ carrier: name, crossing: { ...u, level: to } });
      });
    }
    return out;
  }

  /** Carriers with a budget: the only spend the peers need to know. */
  budgeted(): string[] {
    return [...this.entries].filter(([, e]) => e.config.budget !== null).map(([name]) => name);
  }

  /** This dialer's own spend of the windows holding `now`, per carrier with a budget. */
  own(now: number): OwnSpend[] {
    return [...this.entries].filter(([, e]) => e.config.budget !== null).map(([carrier, e]) => ({ carrier, spend: rolled(e.spend, now) }));
  }

  /**
   * Spend already made in the current window before this start, read from the attempt log: billed minutes and
   * answered calls. Added to what the ledger holds (priced at today's prices).
   */
  seed(carrier: string, window: 'hour' | 'day', minutes: number, answered: number, now: number): void {
    const e = this.entries.get(carrier);
    if (!e) return;
    const s = rolled(e.spend, now);
    const money = minutes * e.config.pricePerMinute + answered * e.config.pricePerCall;
    e.spend = { ...s, [window]: { ...s[window], minutes: s[window].minutes + minutes, money: s[window].money + money } };
  }

  snapshot(now: number): CostSnapshot {
    const out = new Map<string, CarrierCost>();
    for (const [name, e] of this.entries) {
      const s = rolled(e.spend, now);
      const p = peersAt(e.peers, now);
      const b = e.config.budget;
      out.set(name, {
        hour: { minutes: s.hour.minutes, money: s.hour.money },
        day: { minutes: s.day.minutes, money: s.day.money },
        peers: p ? { hour: { minutes: p.hour.minutes, money: p.hour.money }, day: { minutes: p.day.minutes, money: p.day.money } } : null,
        priced: e.config.pricePerMinute > 0 || e.config.pricePerCall > 0,
        budget: budgetUses(s, b, now, p).map((u) => ({ ...u, level: levelOf(u, b?.alertShare ?? 1) })),
        alertShare: b?.alertShare ?? null,
        over: overBudget(s, b, now, p),
      });
    }
    return out;
  }
}
