/**
 * The call's time budget: VICIdial's auto-dial Originate ends the call at the campaign's dial_timeout whatever we
 * are doing (AST_VDauto_dial.pl `Timeout: dial_timeout*1000`), so the sequence of attempts must never outlive it.
 */

/** Seconds from an AGI argument: 1-3600, anything else is not a budget. */
export function secondsArg(arg: string | undefined): number | null {
  if (arg === undefined || !/^\d{1,4}$/.test(arg.trim())) return null;
  const n = Number(arg.trim());
  return n >= 1 && n <= 3600 ? n : null;
}

/**
 * AGI argument 4 names the budget; argument 3 (VICIdial's CAMPDTO, the ring seconds of a manual dial) is one too,
 * since the agent waits on the whole sequence; else the route's `callBudget`. 0 = no budget.
 */
export function callBudgetMs(routeBudget: number, args: readonly string[]): number {
  const s = secondsArg(args[3]) ?? secondsArg(args[2]) ?? routeBudget;
  return s > 0 ? s * 1000 : 0;
}

export interface DialTimers {
  readonly ring: number;
  readonly progress: number;
}

/**
 * Dial's `ring^progress` for the next attempt, cut to what the budget leaves, in tenths of a second (Dial reads
 * both with `%lf`, app_dial.c:3017-3047 in 20.20.1); null when less than a second is left, so no Dial starts that
 * the budget would cut at once.
 */
export function timersWithin(ring: number, progress: number, budgetMs: number, elapsedMs: number): DialTimers | null {
  if (budgetMs <= 0) return { ring, progress };
  const leftMs = budgetMs - elapsedMs;
  if (leftMs < 1000) return null;
  const r = Math.min(ring, Math.floor(leftMs / 100) / 10);
  return { ring: r, progress: progress > 0 ? Math.min(progress, r) : 0 };
}
