/**
 * Hold-down for a flapping qualify, pure. A carrier whose Asterisk status keeps dropping (down, reachable, down…)
 * must not take calls in its reachable moments: after `holdDownFlaps` AMI downs within `holdDownWindow` ms it is
 * held down, and released only once Asterisk has reached it for `holdDownQuiet` ms without a new down. Route flap
 * dampening in the spirit of Envoy's outlier ejection (policy as named data) and Kamailio's inactive threshold
 * (a count of events before a state change), applied to Asterisk's word rather than our own calls.
 *
 * free ──(holdDownFlaps-th AMI down within holdDownWindow)──▶ held (waiting)
 * held (waiting) ──(AMI no longer down)──▶ held (quiet until now + holdDownQuiet)
 * held (quiet) ──(AMI down again)──▶ held (waiting)
 * held (quiet) ──(holdDownQuiet passed)──▶ free, count starts again
 */

export interface HoldDownSettings {
  /** AMI downs within holdDownWindow that start a hold-down; 0 = off. */
  readonly holdDownFlaps: number;
  readonly holdDownWindow: number;
  readonly holdDownQuiet: number;
}

export interface HoldDown {
  /** When Asterisk last reported the carrier down (newest last, at most holdDownFlaps kept). */
  readonly downs: readonly number[];
  /** null = free. `releaseAt` null = Asterisk has it down right now, the quiet period has not started. */
  readonly held: { readonly since: number; readonly releaseAt: number | null; readonly reason: string } | null;
}

export const FREE: HoldDown = { downs: [], held: null };

/** Asterisk's view of the carrier changed between down and not down. `started`: this change began a hold-down. */
export function onAmiChange(h: HoldDown, wasDown: boolean, isDown: boolean, now: number, s: HoldDownSettings): { next: HoldDown; started: boolean } {
  if (s.holdDownFlaps <= 0) return { next: h.held || h.downs.length > 0 ? FREE : h, started: false };
  if (!wasDown && isDown) {
    const downs = [...h.downs.filter((t) => now - t < s.holdDownWindow), now].slice(-s.holdDownFlaps);
    if (h.held) return { next: { downs, held: { ...h.held, releaseAt: null } }, started: false };
    if (downs.length < s.holdDownFlaps) return { next: { downs, held: null }, started: false };
    const reason = `${downs.length} Asterisk downs within ${Math.round(s.holdDownWindow / 1000)} s (flapping qualify)`;
    return { next: { downs, held: { since: now, releaseAt: null, reason } }, started: true };
  }
  if (wasDown && !isDown && h.held && h.held.releaseAt === null) {
    return { next: { ...h, held: { ...h.held, releaseAt: now + s.holdDownQuiet } }, started: false };
  }
  return { next: h, started: false };
}

/** Time passing: a quiet period that ran out frees the carrier. */
export function onTimeHold(h: HoldDown, now: number): HoldDown {
  return h.held && h.held.releaseAt !== null && now >= h.held.releaseAt ? FREE : h;
}

export function holdDeadline(h: HoldDown): number | null {
  return h.held?.releaseAt ?? null;
}

/** The reason a held carrier is published down with. */
export function holdReason(h: NonNullable<HoldDown['held']>, s: HoldDownSettings): string {
  const release =
    h.releaseAt === null
      ? `released once Asterisk has reached it for ${Math.round(s.holdDownQuiet / 1000)} s without a new down`
      : `released at ${new Date(h.releaseAt).toISOString()} unless Asterisk reports it down again`;
  return `held down: ${h.reason}; ${release}`;
}
