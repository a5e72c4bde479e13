import type { CarrierConfig, RouteConfig } from '../config/types.js';
import { bareName, deriveAmi, expireFacts, factsDeadline, factsUnknown, NO_FACTS, techOf, type AmiFacts, type AmiLevel, type RttPolicy } from './ami-facts.js';
import { applyChange, changesFromEvent, type AmiTarget, type RegistrationIndex } from './ami-events.js';
import type { AmiMessage } from './ami-message.js';
import { claim, CLOSED, deadline, endEjection, onSignal, onTime, recovering, type Breaker, type BreakerSettings, type Signal } from './breaker.js';
import { ejectionAllowed } from './ejection.js';
import { FREE, holdDeadline, holdReason, onAmiChange, onTimeHold, type HoldDown, type HoldDownSettings } from './hold-down.js';
import { factScope, groupFactReason, onPeerFact, sharedFromStep, type PeerFact, type SharedFact } from './peer-facts.js';
import { factsFromResync, registrationIndex, type ResyncData } from './resync.js';
import { claimSuspect, onResult, SUSPECT_REASON, type Suspect } from './suspect.js';
import type { AttemptSignal, CarrierEvent, CarrierHealth, HealthState } from './types.js';

/**
 * The health map's functional core: state transitions as pure functions of (settings, state, input, time),
 * each returning the next state and the CarrierEvents it caused.
 *
 * Published state, first rule that applies wins:
 *   1. config `enabled: false`            → disabled
 *   2. operator drain                     → disabled
 *   3. operator force-down                → down
 *   4. Asterisk says down (AMI)           → down
 *   5. held down (flapping qualify)       → down
 *   6. breaker open                       → down (also when a peer dialer's breaker ejected it: cluster.enabled)
 *   7. breaker half-open (recovering)     → probing (also while a peer dialer holds the cluster's trial call)
 *   8. Asterisk says lagged / up / not qualified / nothing → lagged / up / up / unknown
 *
 * "Not qualified" (qualify=no, NonQualified) publishes `up`: Asterisk will dial it, and only the breaker can judge
 * it, so it keeps its place in the route instead of trailing every qualified carrier as `unknown`.
 */

export interface CoreSettings extends BreakerSettings, HoldDownSettings {
  readonly laggedRtt: number;
  /** ms an RTT-derived lagged (PJSIP contacts) stands unless a newer RTT confirms it. */
  readonly laggedRttMaxAge: number;
  /** ms before Asterisk reported a carrier down in which a breaker opening counts as the same outage. */
  readonly outageLeadTime: number;
  readonly maxEjectedPercent: number;
  /** ms after losing AMI when Asterisk's view of every carrier becomes unknown. */
  readonly staleAfter: number;
  /** ms after a peer's ejection ends during which only that peer places the trial call (cluster.trialWait). */
  readonly trialWait: number;
  /** health.suspectAfterNoResponse: one call at a time to a carrier whose last INVITE got no SIP response. */
  readonly suspectAfterNoResponse: boolean;
}

/** An operator's hand on a carrier (issue 5's drain / force-down); `until` null = until enabled again. */
export interface AdminHold {
  readonly mode: 'drain' | 'force-down';
  readonly until: number | null;
  readonly reason: string;
}

export interface CarrierEntry {
  readonly name: string;
  readonly target: AmiTarget;
  readonly enabled: boolean;
  /** How long one trial call holds a half-open carrier: its ring timeout and some, then another call may try. */
  readonly probeHoldMs: number;
  readonly facts: AmiFacts;
  readonly breaker: Breaker;
  readonly hold: HoldDown;
  /** When Asterisk's view last became down; null while it is not down. */
  readonly amiDownSince: number | null;
  readonly admin: AdminHold | null;
  readonly health: CarrierHealth;
  /** One breaker per prefix group this carrier has seen a carrier-side outcome for (prefixGroups). */
  readonly groups: ReadonlyMap<string, Breaker>;
  /** The groups of the carrier-wide breaker's failures since its last success ('' = a number in no group). */
  readonly runGroups: readonly string[];
  /** Its last INVITE got no SIP response and nothing since showed it alive (health.suspectAfterNoResponse). */
  readonly suspect: Suspect;
}

export type RouteShape = Pick<RouteConfig, 'name' | 'carriers'>;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * `e` with the fields of `c` replaced: every key written out, in one order. A spread followed by more keys
 * (`{ ...e, breaker }`) defines each later key through V8's runtime on every call; this runs on every attempt.
 */
export function entryWith(e: CarrierEntry, c: Partial<Mutable<CarrierEntry>>): CarrierEntry {
  return {
    name: e.name,
    target: c.target !== undefined ? c.target : e.target,
    enabled: c.enabled !== undefined ? c.enabled : e.enabled,
    probeHoldMs: c.probeHoldMs !== undefined ? c.probeHoldMs : e.probeHoldMs,
    facts: c.facts !== undefined ? c.facts : e.facts,
    breaker: c.breaker !== undefined ? c.breaker : e.breaker,
    hold: c.hold !== undefined ? c.hold : e.hold,
    amiDownSince: c.amiDownSince !== undefined ? c.amiDownSince : e.amiDownSince,
    admin: c.admin !== undefined ? c.admin : e.admin,
    health: c.health !== undefined ? c.health : e.health,
    groups: c.groups !== undefined ? c.groups : e.groups,
    runGroups: c.runGroups !== undefined ? c.runGroups : e.runGroups,
    suspect: c.suspect !== undefined ? c.suspect : e.suspect,
  };
}

const NO_CHANGE: Partial<CoreState> = {};

/** The same for the state: one shape for every step's result. */
function stateWith(st: CoreState, c: Partial<Mutable<CoreState>>, carriers: ReadonlyMap<string, CarrierEntry>): CoreState {
  return {
    carriers,
    routes: c.routes !== undefined ? c.routes : st.routes,
    registrations: c.registrations !== undefined ? c.registrations : st.registrations,
    ami: c.ami !== undefined ? c.ami : st.ami,
    amiNote: c.amiNote !== undefined ? c.amiNote : st.amiNote,
    groupNames: c.groupNames !== undefined ? c.groupNames : st.groupNames,
    unknownPeerGroups: c.unknownPeerGroups !== undefined ? c.unknownPeerGroups : st.unknownPeerGroups,
  };
}


export interface CoreState {
  readonly carriers: ReadonlyMap<string, CarrierEntry>;
  readonly routes: readonly RouteShape[];
  readonly registrations: RegistrationIndex;
  /** The AMI link as the feed reported it; `downSince` null = never lost (nothing to go stale). */
  readonly ami: { readonly up: boolean; readonly downSince: number | null; readonly stale: boolean };
  /** Why AMI-derived states are unknown when nothing was ever heard (e.g. `ami.enabled` is false). */
  readonly amiNote: string;
  /** The prefix groups (prefixGroups) this dialer has: a peer's fact for any other group has nothing to apply to. */
  readonly groupNames: ReadonlySet<string>;
  /** Groups peers published facts for that this dialer does not have, already said in the log (once each). */
  readonly unknownPeerGroups: ReadonlySet<string>;
}

export type Input =
  | { readonly kind: 'attempt'; readonly signal: AttemptSignal }
  | { readonly kind: 'claim'; readonly carrier: string; readonly group?: string | null }
  | { readonly kind: 'claim-suspect'; readonly carrier: string; readonly inFlight?: number }
  | { readonly kind: 'ami-event'; readonly event: AmiMessage }
  | { readonly kind: 'resync'; readonly data: ResyncData }
  | { readonly kind: 'ami-up' }
  | { readonly kind: 'ami-down' }
  | { readonly kind: 'tick' }
  | { readonly kind: 'admin'; readonly carrier: string; readonly hold: AdminHold | null }
  | { readonly kind: 'peer'; readonly fact: PeerFact }
  | { readonly kind: 'replace'; readonly carriers: readonly CarrierConfig[]; readonly routes: readonly RouteShape[]; readonly groups?: readonly string[] };

/** Something the shell should log that is not a state change. */
export interface Note {
  readonly level: 'info' | 'warn';
  readonly msg: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface StepResult {
  readonly state: CoreState;
  readonly events: readonly CarrierEvent[];
  readonly notes: readonly Note[];
  /** claim only: whether the call may try the carrier; peer only: whether the fact changed this dialer's breaker. */
  readonly granted: boolean;
  /** What this dialer's own breaker learned in this step, for the other dialers (cluster.enabled). */
  readonly shared: readonly SharedFact[];
}

function duration(ms: number): string {
  return ms < 10_000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

function untilText(until: number | null): string {
  return until === null ? '' : ` until ${new Date(until).toISOString()}`;
}

/** The published state and its reason, from config, operator, Asterisk and breaker (see the table above). */
export function publish(
  e: Pick<CarrierEntry, 'enabled' | 'admin' | 'facts' | 'breaker'> & Partial<Pick<CarrierEntry, 'hold' | 'suspect'>>,
  s: Pick<CoreSettings, 'recoverySuccesses' | 'holdDownQuiet' | 'holdDownFlaps' | 'holdDownWindow'>,
): { state: HealthState; reason: string } {
  if (!e.enabled) return { state: 'disabled', reason: 'disabled in config' };
  if (e.admin?.mode === 'drain') return { state: 'disabled', reason: `drained by operator${untilText(e.admin.until)}${e.admin.reason ? `: ${e.admin.reason}` : ''}` };
  if (e.admin?.mode === 'force-down') return { state: 'down', reason: `forced down by operator${untilText(e.admin.until)}${e.admin.reason ? `: ${e.admin.reason}` : ''}` };
  const ami = deriveAmi(e.facts);
  const b = e.breaker;
  const breakerOpen =
    b.kind !== 'open' ? null : b.peer ? `ejected by peer ${b.peer.server} until ${new Date(b.until).toISOString()}: ${b.reason}` : `breaker open until ${new Date(b.until).toISOString()}: ${b.reason}`;
  if (ami.level === 'down') return { state: 'down', reason: breakerOpen ? `${ami.reason}; ${breakerOpen}` : ami.reason };
  if (e.hold?.held) return { state: 'down', reason: `${holdReason(e.hold.held, s)} (now: ${ami.reason})` };
  if (breakerOpen) return { state: 'down', reason: breakerOpen };
  if (b.kind === 'half-open') {
    const held = b.peer && b.probeUntil !== null ? ` (no trial here until ${new Date(b.probeUntil).toISOString()})` : '';
    return { state: 'probing', reason: `recovering, ${b.successes} of ${Math.max(1, s.recoverySuccesses)} trial calls through: ${b.reason}${held}` };
  }
  // a flag on the state, not a state: the carrier stays in the plan, the call path lets one call at a time dial it
  return { state: levelState(ami.level), reason: e.suspect ? `${SUSPECT_REASON} (since ${new Date(e.suspect.since).toISOString()}); ${ami.reason}` : ami.reason };
}

/** The peer dialer behind a breaker state (cluster.enabled), or null for this dialer's own. */
export function breakerPeer(b: Breaker): string | null {
  if (b.kind === 'open') return b.peer?.server ?? null;
  if (b.kind === 'half-open') return b.peer ?? null;
  return null;
}

function levelState(level: Exclude<AmiLevel, 'down'>): HealthState {
  return level === 'unmonitored' ? 'up' : level;
}

/** Asterisk reaches the carrier (qualified or not): the end of an AMI down. */
function reachable(level: AmiLevel): boolean {
  return level === 'up' || level === 'lagged' || level === 'unmonitored';
}

function targetOf(c: CarrierConfig): AmiTarget {
  return { carrier: c.name, tech: techOf(c.dial), peer: bareName(c.peer || c.name), endpoint: null, aor: null };
}

function firstFacts(t: AmiTarget, amiNote: string): AmiFacts {
  return t.tech === 'other' ? factsUnknown('technology not followed over AMI') : amiNote === NO_FACTS.note ? NO_FACTS : factsUnknown(amiNote);
}

function probeHold(c: CarrierConfig): number {
  // a learned progress timeout can be longer than the configured one, up to adaptiveProgress.maxSeconds
  return (c.ringTimeout + Math.max(c.progressTimeout, c.adaptiveProgress?.maxSeconds ?? 0) + 10) * 1000;
}

function newEntry(c: CarrierConfig, amiNote: string, s: CoreSettings, now: number): CarrierEntry {
  const target = targetOf(c);
  const base = { name: c.name, target, enabled: c.enabled, probeHoldMs: probeHold(c), facts: firstFacts(target, amiNote), breaker: CLOSED, hold: FREE, amiDownSince: null, admin: null, groups: new Map<string, Breaker>(), runGroups: [], suspect: null };
  const p = publish(base, s);
  return { ...base, health: { state: p.state, since: now, reason: p.reason } };
}

export function initialState(
  carriers: readonly CarrierConfig[],
  routes: readonly RouteShape[],
  s: CoreSettings,
  now: number,
  amiNote = NO_FACTS.note ?? '',
  groups: readonly string[] = [],
): CoreState {
  const map = new Map<string, CarrierEntry>();
  for (const c of carriers) map.set(c.name, newEntry(c, amiNote, s, now));
  return { carriers: map, routes: [...routes], registrations: new Map(), ami: { up: false, downSince: null, stale: false }, amiNote, groupNames: new Set(groups), unknownPeerGroups: new Set() };
}

/**
 * A working copy for one step: entries are replaced, never mutated, and every state change becomes an event. The
 * carrier map is copied at the first change only: most steps (every call asks, most answers change nothing) read it.
 */
class Draft {
  readonly events: CarrierEvent[] = [];
  readonly notes: Note[] = [];
  readonly shared: SharedFact[] = [];
  private copy: Map<string, CarrierEntry> | null = null;
  constructor(
    readonly base: CoreState,
    readonly s: CoreSettings,
    readonly now: number,
  ) {}

  get carriers(): ReadonlyMap<string, CarrierEntry> {
    return this.copy ?? this.base.carriers;
  }

  /** The map this step changes; the base state's stays as it was. */
  writable(): Map<string, CarrierEntry> {
    this.copy ??= new Map(this.base.carriers);
    return this.copy;
  }

  /** `opening`: the breaker opened in this step; it is an event even when the published state stays the same. */
  put(next: CarrierEntry, source: CarrierEvent['source'], opening: string | null = null): void {
    const p = publish(next, this.s);
    const prev = next.health;
    const peer = p.state === 'down' || p.state === 'probing' ? breakerPeer(next.breaker) : null;
    let health = prev;
    if (p.state !== prev.state) {
      health = { state: p.state, since: this.now, reason: p.reason, ...(peer ? { peer } : {}) };
      this.events.push({ at: this.now, carrier: next.name, from: prev.state, to: p.state, source, reason: p.reason });
    } else {
      if (opening !== null) this.events.push({ at: this.now, carrier: next.name, from: prev.state, to: p.state, source, reason: `breaker opened: ${opening} (already ${p.state}: ${prev.reason})` });
      if (p.reason !== prev.reason || peer !== (prev.peer ?? null)) health = { state: prev.state, since: prev.since, reason: p.reason, ...(peer ? { peer } : {}) };
    }
    this.writable().set(next.name, health === next.health ? next : entryWith(next, { health }));
  }

  /**
   * New AMI facts. A carrier Asterisk had down and now reaches again recovers through trial calls; if its breaker
   * opened in that same outage (while Asterisk had it down, or up to outageLeadTime before), the ejection ends now.
   * Every AMI down counts toward the hold-down.
   */
  withFacts(e: CarrierEntry, facts: AmiFacts): CarrierEntry {
    const before = deriveAmi(e.facts);
    const after = deriveAmi(facts);
    const wasDown = before.level === 'down';
    const isDown = after.level === 'down';
    const back = wasDown && reachable(after.level);
    const hold = onAmiChange(e.hold, wasDown, isDown, this.now, this.s);
    if (hold.started && hold.next.held) {
      this.notes.push({ level: 'warn', msg: 'carrier flapping: held down', fields: { carrier: e.name, why: hold.next.held.reason, quietMs: this.s.holdDownQuiet } });
    }
    let breaker = e.breaker;
    if (back) {
      const why = `Asterisk reaches it again (${after.reason})`;
      const opened = e.breaker.kind === 'open' ? e.breaker.openings[e.breaker.openings.length - 1] : undefined;
      const sameOutage = opened !== undefined && e.amiDownSince !== null && opened >= e.amiDownSince - this.s.outageLeadTime;
      breaker = sameOutage ? endEjection(e.breaker, `${why}, which ends the ejection this outage caused`, this.s) : recovering(e.breaker, why, this.s);
    }
    const amiDownSince = isDown ? (wasDown ? (e.amiDownSince ?? this.now) : this.now) : null;
    return entryWith(e, { facts, breaker, hold: hold.next, amiDownSince });
  }

  done(extra: Partial<CoreState> = NO_CHANGE, granted = false): StepResult {
    // an unchanged map keeps its identity, so the shell's cached snapshot stays valid
    const carriers = this.copy ?? this.base.carriers;
    return { state: stateWith(this.base, extra, carriers), events: this.events, notes: this.notes, granted, shared: this.shared };
  }
}

function rttPolicy(s: CoreSettings, now: number): RttPolicy {
  return { laggedRtt: s.laggedRtt, laggedRttMaxAge: s.laggedRttMaxAge, now };
}

function staleAt(st: CoreState, s: CoreSettings): number | null {
  return !st.ami.up && !st.ami.stale && st.ami.downSince !== null ? st.ami.downSince + s.staleAfter : null;
}

/** Time passing: AMI staleness, operator holds that end, ejections that end, trial holds that lapse. */
function advance(st: CoreState, s: CoreSettings, now: number): StepResult {
  const d = new Draft(st, s, now);
  let ami = st.ami;
  const stale = staleAt(st, s);
  if (stale !== null && now >= stale) {
    ami = { ...ami, stale: true };
    const lost = duration(now - (st.ami.downSince ?? now));
    for (const e of [...d.carriers.values()]) {
      if (e.target.tech === 'other') continue;
      d.put(d.withFacts(e, factsUnknown(`no fresh AMI data for ${lost} (connection lost): Asterisk's view unknown`)), 'ami');
    }
  }
  for (const e of [...d.carriers.values()]) {
    if (e.admin?.until != null && now >= e.admin.until) {
      d.put(entryWith(e, { admin: null }), 'admin');
    }
  }
  for (const e of [...d.carriers.values()]) {
    const facts = expireFacts(e.facts, now);
    if (facts !== e.facts) d.put(d.withFacts(e, facts), 'ami');
  }
  for (const e of [...d.carriers.values()]) {
    const hold = onTimeHold(e.hold, now);
    if (hold !== e.hold) {
      d.notes.push({ level: 'info', msg: 'carrier hold-down over: quiet long enough', fields: { carrier: e.name } });
      d.put(entryWith(e, { hold }), 'ami');
    }
  }
  for (const e of [...d.carriers.values()]) {
    const b = onTime(e.breaker, now);
    if (b !== e.breaker) d.put(entryWith(e, { breaker: b }), 'breaker');
  }
  // health.suspectAfterNoResponse turned off by a reload: nobody stays suspect
  if (!s.suspectAfterNoResponse) for (const e of [...d.carriers.values()]) if (e.suspect !== null) d.put(entryWith(e, { suspect: null }), 'config');
  for (const e of [...d.carriers.values()]) {
    let groups: Map<string, Breaker> | null = null;
    for (const [g, gb] of e.groups) {
      const next = onTime(gb, now);
      if (next === gb) continue;
      groups ??= new Map(e.groups);
      groups.set(g, next);
      if (gb.kind === 'open') d.notes.push({ level: 'info', msg: 'ejection for a prefix group over: trial calls to the group', fields: { carrier: e.name, prefixGroup: g } });
    }
    if (groups) d.put(entryWith(e, { groups }), 'breaker');
  }
  return d.done({ ami });
}

/** The next time advance() would change something; null when nothing waits on the clock. */
export function nextDeadline(st: CoreState, s: CoreSettings): number | null {
  let next: number | null = staleAt(st, s);
  const consider = (t: number | null) => {
    if (t !== null && (next === null || t < next)) next = t;
  };
  for (const e of st.carriers.values()) {
    consider(e.admin?.until ?? null);
    consider(deadline(e.breaker));
    for (const gb of e.groups.values()) consider(deadline(gb));
    consider(factsDeadline(e.facts));
    consider(holdDeadline(e.hold));
  }
  return next;
}

function signalOf(a: AttemptSignal): Signal {
  if (a.carrierFailure) return 'failure';
  if (a.carrierSuccess) return 'success';
  return 'neutral';
}

/** Carriers out of service carrier-wide, or (group given) for that prefix group. */
function ejectedSet(carriers: ReadonlyMap<string, CarrierEntry>, group: string | null = null): Set<string> {
  const out = new Set<string>();
  for (const e of carriers.values()) {
    const gb = group === null ? undefined : e.groups.get(group);
    if (e.breaker.kind !== 'closed' || (gb !== undefined && gb.kind !== 'closed')) out.add(e.name);
  }
  return out;
}

/**
 * The carrier-wide breaker may open only on failures that are not all one prefix group's: failures since its last
 * success that span two or more groups (a number in no group counts as one more), or that all come from numbers in
 * no group. Failures to one group alone eject the carrier for that group only (its own breaker).
 */
export function spreadAcrossGroups(runGroups: readonly string[]): boolean {
  return runGroups.length !== 1 || runGroups[0] === '';
}

/** The run of failure groups after one signal: a success starts a new run, a failure adds its group once. */
export function nextRun(runGroups: readonly string[], signal: Signal, group: string | null): readonly string[] {
  // the same empty run when nothing changes, so a success does not rebuild the published snapshot
  if (signal === 'success') return runGroups.length === 0 ? runGroups : [];
  if (signal === 'neutral') return runGroups;
  const key = group ?? '';
  return runGroups.includes(key) ? runGroups : [...runGroups, key];
}

/** The health a call to `group` sees for this carrier: its own, unless the group's breaker keeps it out. */
export function groupHealth(e: Pick<CarrierEntry, 'health' | 'groups'>, group: string, now: number): CarrierHealth {
  const gb = e.groups.get(group);
  if (!gb || gb.kind === 'closed') return e.health;
  const h = e.health;
  if (h.state === 'down' || h.state === 'disabled') return h;
  // a peer dialer's group fact (cluster.enabled) names the peer, as its carrier-wide facts do
  const peer = breakerPeer(gb);
  const tag = peer ? { peer } : {};
  if (gb.kind === 'open') {
    const by = gb.peer ? ` by peer ${gb.peer.server}` : '';
    return { state: 'down', since: gb.openings[gb.openings.length - 1] ?? now, reason: `ejected for prefix group ${group}${by} until ${new Date(gb.until).toISOString()}: ${gb.reason}`, ...tag };
  }
  const held = gb.peer && gb.probeUntil !== null ? ` (no trial here until ${new Date(gb.probeUntil).toISOString()})` : '';
  return { state: 'probing', since: h.since, reason: `recovering for prefix group ${group}, ${gb.successes} trial calls through: ${gb.reason}${held}`, ...tag };
}

/** A (carrier, group) breaker's reason for status, naming the peer dialer whose fact ejected it (cluster.enabled). */
export function groupBreakerReason(b: Breaker): string {
  if (b.kind === 'closed') return '';
  return b.kind === 'open' && b.peer ? `ejected by peer ${b.peer.server}: ${b.reason}` : b.reason;
}

/**
 * A peer's fact for one prefix group, on this dialer's (carrier, group) breaker. The carrier's own state does not
 * change, yet the fact is a carrier event (from = to, the group and the peer in the reason): the audit of why
 * this dialer skips the carrier for the group's numbers.
 */
function peerGroupFact(d: Draft, st: CoreState, e: CarrierEntry, group: string, f: PeerFact): StepResult {
  const gb = e.groups.get(group) ?? CLOSED;
  const out = onPeerFact(gb, f, d.now, d.s.trialWait);
  if (out.kind === 'ignored') return d.done();
  if (out.ejects) {
    const check = ejectionAllowed(e.name, st.routes, ejectedSet(d.carriers, group), d.s.maxEjectedPercent);
    if (!check.ok) {
      d.notes.push({
        level: 'warn',
        msg: 'peer dialer ejected a carrier for a prefix group but maxEjectedPercent keeps it in service here',
        fields: { carrier: e.name, prefixGroup: group, peer: f.server, route: check.route, why: f.reason },
      });
      return d.done();
    }
  }
  const groups = new Map(e.groups);
  groups.set(group, out.next);
  d.notes.push({ level: 'info', msg: 'peer dialer\'s breaker fact applied', fields: { carrier: e.name, prefixGroup: group, peer: f.server, fact: f.state, remainingMs: f.remainingMs, why: f.reason } });
  d.put(entryWith(e, { groups }), 'peer');
  const state = d.carriers.get(e.name)?.health.state ?? e.health.state;
  d.events.push({ at: d.now, carrier: e.name, from: state, to: state, source: 'peer', reason: groupFactReason(f, group, out.next), group });
  return d.done({}, true);
}

/** One signal to the (carrier, group) breaker; maxEjectedPercent counts carriers ejected carrier-wide or for the group. */
function groupStep(d: Draft, st: CoreState, e: CarrierEntry, group: string, signal: Signal, why: string, now: number): Map<string, Breaker> | null {
  const gb = e.groups.get(group) ?? CLOSED;
  const step = onSignal(gb, signal, why, now, d.s);
  let next = step.next;
  if (step.trip) {
    const check = ejectionAllowed(e.name, st.routes, ejectedSet(d.carriers, group), d.s.maxEjectedPercent);
    if (!check.ok) {
      next = step.trip.held;
      d.notes.push({ level: 'warn', msg: 'breaker would eject the carrier for a prefix group but maxEjectedPercent keeps it in service', fields: { carrier: e.name, prefixGroup: group, route: check.route, why: step.trip.reason } });
    } else d.notes.push({ level: 'warn', msg: 'carrier ejected for a prefix group', fields: { carrier: e.name, prefixGroup: group, why: next.kind === 'open' ? next.reason : step.trip.reason } });
  }
  if (next === gb) return null;
  const groups = new Map(e.groups);
  groups.set(group, next);
  return groups;
}

function apply(st: CoreState, s: CoreSettings, input: Input, now: number): StepResult {
  const d = new Draft(st, s, now);
  switch (input.kind) {
    case 'tick':
      return d.done();
    case 'attempt': {
      const e = d.carriers.get(input.signal.carrier);
      if (!e) return d.done();
      const sig = signalOf(input.signal);
      const group = input.signal.group ?? null;
      const groups = group === null ? null : groupStep(d, st, e, group, sig, input.signal.reason, now);
      const runGroups = nextRun(e.runGroups, sig, group);
      const step = onSignal(e.breaker, sig, input.signal.reason, now, s);
      let breaker = step.next;
      if (step.trip && !spreadAcrossGroups(runGroups)) {
        // one group's failures: its own breaker judges them; the carrier stays in service for every other number
        breaker = step.trip.held;
      } else if (step.trip) {
        const check = ejectionAllowed(e.name, st.routes, ejectedSet(d.carriers), s.maxEjectedPercent);
        if (!check.ok) {
          breaker = step.trip.held;
          d.notes.push({
            level: 'warn',
            msg: 'breaker would open but maxEjectedPercent keeps the carrier in service',
            fields: { carrier: e.name, route: check.route, ejected: check.ejected, allowed: check.allowed, carriers: check.total, why: step.trip.reason },
          });
        }
      }
      // A group ejection accounts for the failures that caused it: the carrier-wide run starts over, or one later
      // failure to any other number would find 3+ failures spanning two groups and eject the whole carrier.
      const groupOpened = group !== null && groups !== null && groups.get(group)?.kind === 'open' && e.groups.get(group)?.kind !== 'open';
      if (groupOpened && breaker.kind === 'closed') breaker = CLOSED;
      const opening = breaker.kind === 'open' && e.breaker.kind !== 'open' ? breaker.reason : null;
      const run = opening !== null || groupOpened ? [] : runGroups;
      const suspect = onResult(e.suspect, { carrierFailure: input.signal.carrierFailure, carrierSuccess: input.signal.carrierSuccess, response: input.signal.response ?? 'unknown', claimed: input.signal.suspectClaim === true }, now, s.suspectAfterNoResponse);
      if (e.suspect === null && suspect !== null) d.notes.push({ level: 'warn', msg: 'carrier suspect: no SIP response to its last INVITE, one call at a time until it answers', fields: { carrier: e.name, why: input.signal.reason } });
      else if (e.suspect !== null && suspect === null && s.suspectAfterNoResponse) d.notes.push({ level: 'info', msg: 'carrier answers again: no longer suspect', fields: { carrier: e.name, why: input.signal.reason } });
      if (breaker !== e.breaker || groups !== null || run !== e.runGroups || suspect !== e.suspect) d.put(entryWith(e, { breaker, groups: groups ?? e.groups, runGroups: run, suspect }), 'breaker', opening);
      const fact = sharedFromStep(e.name, e.breaker, breaker, now, input.signal.reason);
      if (fact) d.shared.push(fact);
      const groupFact = group !== null && groups !== null ? sharedFromStep(e.name, e.groups.get(group) ?? CLOSED, groups.get(group) ?? CLOSED, now, input.signal.reason, group) : null;
      if (groupFact) d.shared.push(groupFact);
      return d.done();
    }
    case 'claim-suspect': {
      const e = d.carriers.get(input.carrier);
      if (!e) return d.done({}, true);
      const c = claimSuspect(e.suspect, now, e.probeHoldMs, s.suspectAfterNoResponse, input.inFlight ?? 0);
      if (c.next !== e.suspect) d.put(entryWith(e, { suspect: c.next }), 'breaker');
      return d.done({}, c.granted);
    }
    case 'claim': {
      const e = d.carriers.get(input.carrier);
      if (!e) return d.done({}, true);
      if (e.health.state === 'down' || e.health.state === 'disabled') return d.done({}, false);
      const c = claim(e.breaker, now, e.probeHoldMs);
      const group = input.group ?? null;
      const gb = group === null ? undefined : e.groups.get(group);
      const gc = gb === undefined ? null : claim(gb, now, e.probeHoldMs);
      // both the carrier's trial and the group's, or neither
      if (gc !== null && !(gc.granted && c.granted)) return d.done({}, false);
      if (gc !== null && group !== null && gc.next !== gb) {
        const groups = new Map(e.groups);
        groups.set(group, gc.next);
        d.put(entryWith(e, { breaker: c.next, groups }), 'breaker');
      } else if (c.next !== e.breaker) d.put(entryWith(e, { breaker: c.next }), 'breaker');
      const fact = c.granted ? sharedFromStep(e.name, e.breaker, c.next, now, 'trial call') : null;
      if (fact) d.shared.push(fact);
      // the group's trial too: the cluster places one per group ejection, as per carrier-wide ejection
      const groupFact = gc !== null && group !== null && gb !== undefined && c.granted ? sharedFromStep(e.name, gb, gc.next, now, 'trial call', group) : null;
      if (groupFact) d.shared.push(groupFact);
      return d.done({}, c.granted);
    }
    case 'ami-event': {
      const targets = [...d.carriers.values()].map((e) => e.target);
      for (const ch of changesFromEvent(input.event, targets, st.registrations, rttPolicy(s, now))) {
        const e = d.carriers.get(ch.carrier);
        if (e) d.put(d.withFacts(e, applyChange(e.facts, ch)), 'ami');
      }
      return d.done();
    }
    case 'resync': {
      const resolved: { target: AmiTarget; endpoint: string | null }[] = [];
      for (const e of [...d.carriers.values()]) {
        const r = factsFromResync(e.target, input.data, rttPolicy(s, now));
        const target = { ...e.target, endpoint: r.endpoint, aor: r.aor };
        resolved.push({ target, endpoint: r.endpoint });
        d.put(d.withFacts(entryWith(e, { target }), r.facts), 'ami');
      }
      return d.done({ registrations: registrationIndex(input.data, resolved), ami: { up: true, downSince: null, stale: false } });
    }
    case 'ami-up':
      return d.done({ ami: { up: true, downSince: null, stale: false } });
    case 'ami-down': {
      // a countdown already running keeps its start; otherwise (up, or stale but fed by events since) start one
      const counting = !st.ami.up && st.ami.downSince !== null && !st.ami.stale;
      return d.done({ ami: counting ? st.ami : { up: false, downSince: now, stale: false } });
    }
    case 'admin': {
      const e = d.carriers.get(input.carrier);
      if (!e) return d.done();
      d.put(entryWith(e, { admin: input.hold }), 'admin');
      return d.done();
    }
    case 'peer': {
      const f = input.fact;
      const e = d.carriers.get(f.carrier);
      if (!e) return d.done();
      const scope = factScope(f, st.groupNames);
      if (scope.kind === 'unknown-group') {
        // the dialers' prefixGroups differ; every poll may bring such facts, the log says so once per group
        if (st.unknownPeerGroups.has(scope.group)) return d.done();
        d.notes.push({ level: 'warn', msg: 'peer dialer shares facts for a prefix group this dialer does not have: ignored', fields: { prefixGroup: scope.group, peer: f.server, carrier: f.carrier } });
        return d.done({ unknownPeerGroups: new Set([...st.unknownPeerGroups, scope.group]) });
      }
      if (scope.kind === 'group') return peerGroupFact(d, st, e, scope.group, f);
      const out = onPeerFact(e.breaker, f, now, s.trialWait);
      if (out.kind === 'ignored') return d.done();
      if (out.ejects) {
        const check = ejectionAllowed(e.name, st.routes, ejectedSet(d.carriers), s.maxEjectedPercent);
        if (!check.ok) {
          d.notes.push({
            level: 'warn',
            msg: 'peer dialer ejected a carrier but maxEjectedPercent keeps it in service here',
            fields: { carrier: e.name, peer: f.server, route: check.route, ejected: check.ejected, allowed: check.allowed, carriers: check.total, why: f.reason },
          });
          return d.done();
        }
      }
      const opening = out.next.kind === 'open' && e.breaker.kind !== 'open' ? `by peer ${f.server}: ${f.reason}` : null;
      d.notes.push({ level: 'info', msg: 'peer dialer\'s breaker fact applied', fields: { carrier: e.name, peer: f.server, fact: f.state, remainingMs: f.remainingMs, why: f.reason } });
      d.put(entryWith(e, { breaker: out.next }), 'peer', opening);
      return d.done({}, true);
    }
    case 'replace': {
      const next = new Map<string, CarrierEntry>();
      for (const c of input.carriers) {
        const old = d.carriers.get(c.name);
        if (!old) {
          next.set(c.name, newEntry(c, st.amiNote, s, now));
          continue;
        }
        const t = targetOf(c);
        const sameObject = t.tech === old.target.tech && t.peer === old.target.peer;
        const keep = input.groups;
        const groups = keep === undefined ? old.groups : new Map([...old.groups].filter(([g]) => keep.includes(g)));
        const kept: CarrierEntry = sameObject
          ? { ...old, enabled: c.enabled, probeHoldMs: probeHold(c), groups }
          : { ...old, target: t, enabled: c.enabled, probeHoldMs: probeHold(c), facts: firstFacts(t, 'carrier changed: waiting for the next resync'), breaker: CLOSED, hold: FREE, amiDownSince: null, groups: new Map(), runGroups: [], suspect: null };
        d.put(kept, 'config');
        next.set(c.name, d.carriers.get(c.name) as CarrierEntry);
      }
      for (const name of d.carriers.keys()) {
        if (!next.has(name)) d.notes.push({ level: 'info', msg: 'carrier removed from config: no longer followed', fields: { carrier: name } });
      }
      const carriers = d.writable();
      carriers.clear();
      for (const [k, v] of next) carriers.set(k, v);
      const names = input.groups === undefined ? st.groupNames : new Set(input.groups);
      // a group configured now, and dropped again later, is worth another warning
      const unknownPeerGroups = new Set([...st.unknownPeerGroups].filter((g) => !names.has(g)));
      return d.done({ routes: [...input.routes], groupNames: names, unknownPeerGroups });
    }
  }
}

/**
 * advance() would change nothing: no deadline has come (nextDeadline names every time advance acts on, which the
 * shell's timer relies on too), and no carrier is left suspect under a rule a reload switched off.
 */
function idle(st: CoreState, s: CoreSettings, now: number): boolean {
  const due = nextDeadline(st, s);
  if (due !== null && now >= due) return false;
  if (!s.suspectAfterNoResponse) for (const e of st.carriers.values()) if (e.suspect !== null) return false;
  return true;
}

/** One input at one time: first what time alone changes, then the input. */
export function step(st: CoreState, s: CoreSettings, input: Input, now: number): StepResult {
  // most steps are a call's attempt with nothing due: advance's scans and copies would all come to nothing
  if (input.kind !== 'tick' && idle(st, s, now)) return apply(st, s, input, now);
  const a = advance(st, s, now);
  if (input.kind === 'tick') return a;
  const b = apply(a.state, s, input, now);
  return { state: b.state, events: [...a.events, ...b.events], notes: [...a.notes, ...b.notes], granted: b.granted, shared: b.shared };
}
