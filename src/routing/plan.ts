import type { CarrierConfig, RouteConfig } from '../config/types.js';
import type { HealthSnapshot, HealthState } from '../health/types.js';

export interface PlanInput {
  readonly route: RouteConfig;
  readonly carriers: ReadonlyMap<string, CarrierConfig>;
  readonly health: HealthSnapshot;
  /** Calls routed so far on this route: round_robin starts at `rotation % n`. */
  readonly rotation: number;
  /** A number in [0, 1) drawn per call: weighted picks its first carrier with it. */
  readonly random: number;
}

export interface PlannedTarget {
  readonly carrier: CarrierConfig;
  readonly health: HealthState;
}

export interface SkippedCarrier {
  readonly carrier: string;
  readonly health: HealthState;
  readonly reason: string;
}

export interface Plan {
  /** Carriers to dial, in order (for `simultaneous`, all in one Dial). */
  readonly targets: readonly PlannedTarget[];
  /** Carriers left out, each with why: no Dial is spent on them. */
  readonly skipped: readonly SkippedCarrier[];
  /** Every usable carrier was down and the route tries them anyway (whenAllDown: try). */
  readonly failedOpen: boolean;
}

function baseOrder(input: PlanInput, known: readonly CarrierConfig[]): CarrierConfig[] {
  const { route } = input;
  switch (route.strategy) {
    case 'failover':
    case 'simultaneous':
      return [...known];
    case 'round_robin': {
      const n = known.length;
      if (n === 0) return [];
      const start = ((input.rotation % n) + n) % n;
      return [...known.slice(start), ...known.slice(0, start)];
    }
    case 'weighted': {
      const weighted = known.filter((c) => c.weight > 0);
      const total = weighted.reduce((s, c) => s + c.weight, 0);
      if (total <= 0) return [];
      let x = Math.min(Math.max(input.random, 0), 0.999999999) * total;
      let first = weighted[weighted.length - 1];
      for (const c of weighted) {
        if (x < c.weight) {
          first = c;
          break;
        }
        x -= c.weight;
      }
      // the rest by weight, heaviest first; equal weights keep the route's order (sort is stable)
      const rest = weighted.filter((c) => c !== first).sort((a, b) => b.weight - a.weight);
      return first ? [first, ...rest] : rest;
    }
  }
}

const SECOND_TIER: ReadonlySet<HealthState> = new Set(['lagged', 'unknown']);

/**
 * Orders a route's carriers for one call from the health snapshot, pure and total:
 * healthy (and half-open) carriers first in strategy order, then lagged and unknown ones,
 * down ones skipped; when everything usable is down the route fails open (or refuses).
 */
export function planAttempts(input: PlanInput): Plan {
  const { route, carriers, health } = input;
  const skipped: SkippedCarrier[] = [];
  const known: CarrierConfig[] = [];
  for (const name of route.carriers) {
    const c = carriers.get(name);
    if (!c) {
      skipped.push({ carrier: name, health: 'unknown', reason: 'carrier not configured' });
      continue;
    }
    if (!c.enabled) {
      skipped.push({ carrier: name, health: 'disabled', reason: 'disabled in config' });
      continue;
    }
    if (route.strategy === 'weighted' && c.weight <= 0) {
      skipped.push({ carrier: name, health: health.get(name)?.state ?? 'unknown', reason: 'weight 0 (drained)' });
      continue;
    }
    known.push(c);
  }
  const ordered = baseOrder(input, known);
  const first: PlannedTarget[] = [];
  const second: PlannedTarget[] = [];
  const down: PlannedTarget[] = [];
  for (const c of ordered) {
    const h = health.get(c.name);
    const state: HealthState = h?.state ?? 'unknown';
    if (state === 'disabled') {
      skipped.push({ carrier: c.name, health: state, reason: h?.reason || 'disabled' });
    } else if (state === 'down') {
      down.push({ carrier: c, health: state });
    } else if (SECOND_TIER.has(state)) {
      second.push({ carrier: c, health: state });
    } else {
      first.push({ carrier: c, health: state });
    }
  }
  const usable = [...first, ...second];
  if (usable.length === 0 && down.length > 0) {
    if (route.whenAllDown === 'try') return { targets: down, skipped, failedOpen: true };
    for (const t of down) {
      skipped.push({ carrier: t.carrier.name, health: 'down', reason: `all carriers down, route refuses: ${health.get(t.carrier.name)?.reason ?? 'down'}` });
    }
    return { targets: [], skipped, failedOpen: false };
  }
  for (const t of down) {
    skipped.push({ carrier: t.carrier.name, health: 'down', reason: health.get(t.carrier.name)?.reason || 'down' });
  }
  return { targets: usable, skipped, failedOpen: false };
}
