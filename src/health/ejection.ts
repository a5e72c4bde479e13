import type { RouteConfig } from '../config/types.js';

export type EjectionCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly route: string; readonly ejected: number; readonly allowed: number; readonly total: number };

/**
 * maxEjectedPercent: may the breaker eject `carrier` now? Not when, in any route holding it, the carriers already
 * ejected plus this one would be more than maxEjectedPercent of the route's carriers (rounded down: 3 carriers at
 * 50 % allow one). Pure, so the planner or the lead can ask it too; `ejected` = carriers whose breaker is open or
 * half-open.
 */
export function ejectionAllowed(
  carrier: string,
  routes: Iterable<Pick<RouteConfig, 'name' | 'carriers'>>,
  ejected: ReadonlySet<string>,
  maxEjectedPercent: number,
): EjectionCheck {
  if (maxEjectedPercent >= 100) return { ok: true };
  for (const r of routes) {
    if (!r.carriers.includes(carrier)) continue;
    const total = r.carriers.length;
    const allowed = Math.floor((total * Math.max(0, maxEjectedPercent)) / 100);
    const already = r.carriers.filter((c) => c !== carrier && ejected.has(c)).length;
    if (already + 1 > allowed) return { ok: false, route: r.name, ejected: already, allowed, total };
  }
  return { ok: true };
}
