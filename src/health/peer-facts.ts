import { CLOSED, type Breaker } from './breaker.js';

/**
 * Shared health (cluster.enabled): what one dialer's breaker learned, told to the others through the cluster's
 * database. Pure: a peer's fact and the local breaker in, the next local breaker out.
 *
 * Times cross dialers only as durations measured by the database's clock (remaining, age), so a dialer whose clock
 * is seconds off neither extends nor cuts an ejection: each dialer adds the duration to its own `now`.
 */
export type SharedState = 'open' | 'trial' | 'closed';

/** A peer dialer's fact as the store read it. */
export interface PeerFact {
  readonly carrier: string;
  /** serverId of the dialer whose breaker learned it. */
  readonly server: string;
  readonly state: SharedState;
  /** ms left by the database's clock: of the ejection (open) or of the trial call's hold (trial); 0 for closed. */
  readonly remainingMs: number;
  /** ms since that dialer learned it, by the database's clock. */
  readonly ageMs: number;
  readonly reason: string;
  /** The prefix group (prefixGroups) whose breaker learned it; absent or '' = the carrier as a whole. */
  readonly group?: string;
}

/** What this dialer's breaker learned from its own calls, on this dialer's clock (the store sends durations). */
export interface SharedFact {
  readonly carrier: string;
  /** The prefix group whose (carrier, group) breaker learned it; absent = the carrier-wide breaker. */
  readonly group?: string;
  readonly state: SharedState;
  /** End of the ejection (open) or of the trial hold (trial); `at` for closed. */
  readonly until: number;
  readonly at: number;
  readonly reason: string;
}

export type PeerOutcome =
  | {
      readonly kind: 'applied';
      readonly next: Breaker;
      /** The fact takes a carrier this dialer had in service out of it: maxEjectedPercent has a say. */
      readonly ejects: boolean;
    }
  | { readonly kind: 'ignored'; readonly why: string };

function lastOpening(b: Breaker): number {
  return b.openings[b.openings.length - 1] ?? Number.NEGATIVE_INFINITY;
}

/** Held for a peer's trial call (or the first claim to one) until `holdUntil`: claims here are refused until then. */
function heldForPeer(b: Breaker, server: string, holdUntil: number, reason: string): Breaker {
  const successes = b.kind === 'half-open' ? b.successes : 0;
  const probeUntil = b.kind === 'half-open' && b.probeUntil !== null ? Math.max(b.probeUntil, holdUntil) : holdUntil;
  return { kind: 'half-open', successes, probeUntil, reason, openings: b.openings, peer: server };
}

/**
 * A peer's fact on this dialer's breaker:
 * - open: ejected here too, for the window the peer has left; the peer places the first trial call (trialWait ms
 *   after the ejection ends, anyone may). This dialer's own ejection that lasts as long or longer stands.
 * - trial: the peer holds the cluster's trial call; no trial here while it does.
 * - closed: the peer's trial calls got through (or a call got through while ejected): back in service here, unless
 *   this dialer's own breaker opened after the peer learned that.
 */
export function onPeerFact(b: Breaker, f: PeerFact, now: number, trialWait: number): PeerOutcome {
  switch (f.state) {
    case 'open': {
      const until = now + f.remainingMs;
      const trialFrom = until + trialWait;
      if (trialFrom <= now) return { kind: 'ignored', why: 'ejection already over' };
      if (b.kind === 'open' && !b.peer && b.until >= until) return { kind: 'ignored', why: 'this dialer\'s own ejection lasts as long or longer' };
      if (until <= now) {
        if (b.kind === 'open' && !b.peer) return { kind: 'ignored', why: 'this dialer\'s own ejection still runs' };
        return { kind: 'applied', next: heldForPeer(b, f.server, trialFrom, `ejection by peer ${f.server} over; ${f.server} places the first trial call`), ejects: b.kind === 'closed' };
      }
      return { kind: 'applied', next: { kind: 'open', until, reason: f.reason, openings: b.openings, peer: { server: f.server, trialFrom } }, ejects: b.kind === 'closed' };
    }
    case 'trial': {
      const holdUntil = now + f.remainingMs;
      if (holdUntil <= now) return { kind: 'ignored', why: 'trial hold already over' };
      if (b.kind === 'open' && !b.peer) return { kind: 'ignored', why: 'this dialer\'s own ejection still runs' };
      return { kind: 'applied', next: heldForPeer(b, f.server, holdUntil, `peer ${f.server} holds the trial call`), ejects: b.kind === 'closed' };
    }
    case 'closed': {
      if (b.kind === 'closed') return { kind: 'ignored', why: 'already in service' };
      const ownOpening = b.kind === 'open' ? !b.peer : b.peer === undefined;
      if (ownOpening && lastOpening(b) > now - f.ageMs) return { kind: 'ignored', why: 'this dialer\'s own breaker opened after that' };
      return { kind: 'applied', next: { ...CLOSED, openings: b.openings }, ejects: false };
    }
  }
}

/**
 * The fact a step of this dialer's own breaker gives the cluster, or null (peer-caused steps are never re-shared).
 * `group`: the step was the (carrier, group) breaker's; '' = the carrier-wide one.
 */
export function sharedFromStep(carrier: string, before: Breaker, after: Breaker, now: number, why: string, group = ''): SharedFact | null {
  const scope = group === '' ? { carrier } : { carrier, group };
  if (after.kind === 'open' && before.kind !== 'open') return { ...scope, state: 'open', until: after.until, at: now, reason: after.reason };
  if (after.kind === 'closed' && before.kind !== 'closed') return { ...scope, state: 'closed', until: now, at: now, reason: `back in service: ${why}` };
  if (after.kind === 'half-open' && after.probeUntil !== null && (before.kind !== 'half-open' || before.probeUntil !== after.probeUntil)) {
    return { ...scope, state: 'trial', until: after.probeUntil, at: now, reason: 'trial call placed' };
  }
  return null;
}

/**
 * Which breaker here a peer's fact is about: the carrier's own, a prefix group this dialer has configured, or a
 * group it does not have (the peers' prefixGroups differ): that fact has nothing here to apply to.
 */
export type FactScope = { readonly kind: 'carrier' } | { readonly kind: 'group'; readonly group: string } | { readonly kind: 'unknown-group'; readonly group: string };

export function factScope(f: Pick<PeerFact, 'group'>, configured: ReadonlySet<string>): FactScope {
  const group = f.group ?? '';
  if (group === '') return { kind: 'carrier' };
  return configured.has(group) ? { kind: 'group', group } : { kind: 'unknown-group', group };
}

/** The carrier event's reason for a peer's group fact applied here (the carrier's own state does not change). */
export function groupFactReason(f: Pick<PeerFact, 'server' | 'state' | 'reason'>, group: string, next: Breaker): string {
  if (next.kind === 'open') return `prefix group ${group}: ejected by peer ${f.server} until ${new Date(next.until).toISOString()}: ${f.reason}`;
  if (next.kind === 'closed') return `prefix group ${group}: back in service by peer ${f.server}: ${f.reason}`;
  return `prefix group ${group}: ${next.reason}`;
}
