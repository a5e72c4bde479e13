import { systemClock, type Clock } from '../clock.js';
import type { BreakerHealthSettings } from '../config/schema.js';
import type { CarrierConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { deriveAmi, type AmiVerdict } from './ami-facts.js';
import type { AmiTarget } from './ami-events.js';
import type { AmiMessage } from './ami-message.js';
import type { Breaker } from './breaker.js';
import { breakerPeer, groupBreakerReason, groupHealth, initialState, nextDeadline, step, type AdminHold, type CoreSettings, type CoreState, type Input, type RouteShape } from './health-core.js';
import type { PeerFact, SharedFact } from './peer-facts.js';
import type { ResyncData } from './resync.js';
import type { AttemptSignal, CarrierEvent, CarrierHealth, HealthSnapshot, HealthState, HealthView } from './types.js';

export type { AdminHold } from './health-core.js';

export interface HealthMapOptions {
  readonly carriers: Iterable<CarrierConfig>;
  readonly routes: Iterable<RouteShape>;
  readonly health: BreakerHealthSettings;
  /** `ami.staleAfter`: ms after AMI loss when Asterisk's view becomes unknown. */
  readonly staleAfter?: number;
  /** false when `ami.enabled` is off: unknown states then say why. */
  readonly amiEnabled?: boolean;
  readonly clock?: Clock;
  /** Every change of a carrier's published state (the lead wires it to the log sink and the store). */
  readonly onEvent?: (e: CarrierEvent) => void;
  /** What this dialer's own breaker learned, for the other dialers (cluster.enabled); must not block. */
  readonly onShared?: (f: SharedFact) => void;
  /** `cluster.trialWait`: ms after a peer's ejection ends during which only that peer places the trial call. */
  readonly trialWait?: number;
  /** The configured prefix groups (prefixGroups): a peer's fact for another group is ignored. */
  readonly prefixGroups?: readonly string[];
  readonly logger: Logger;
}

/** One carrier's state with the parts it was computed from, for /status and the CLI. */
export interface CarrierInspection {
  readonly health: CarrierHealth;
  readonly ami: AmiVerdict;
  readonly breaker: Breaker['kind'];
  /** Epoch ms the ejection ends (breaker open). */
  readonly ejectedUntil: number | null;
  /** The peer dialer whose breaker ejected it, or whose trial call holds it (cluster.enabled). */
  readonly peer: string | null;
  /** Held down for a flapping qualify: since when, and when it ends (null = not before Asterisk reaches it again). */
  readonly heldDown: { readonly since: number; readonly releaseAt: number | null } | null;
  readonly admin: AdminHold | null;
  /** Prefix groups this carrier is ejected or recovering for (prefixGroups), apart from its own state. */
  readonly groups: readonly GroupInspection[];
  /** Since when its last INVITE went unanswered (health.suspectAfterNoResponse); null = not suspect. */
  readonly suspectSince: number | null;
}

export interface GroupInspection {
  readonly group: string;
  readonly breaker: 'open' | 'half-open';
  readonly ejectedUntil: number | null;
  readonly reason: string;
  /** The peer dialer whose fact ejected it for the group, or holds the group's trial (cluster.enabled). */
  readonly peer: string | null;
}

export interface HealthMap extends HealthView {
  /** A PeerStatus, ContactStatus or Registry event (others are ignored). */
  applyAmiEvent(event: AmiMessage): void;
  /** Replaces the whole AMI-derived picture: carriers the resync did not find become unknown. */
  applyResync(data: ResyncData): void;
  /** AMI is fresh again (applyResync does this itself); stops the staleness countdown. */
  amiUp(): void;
  /** AMI lost: after staleAfter ms without amiUp/applyResync, Asterisk's view becomes unknown. */
  amiDown(): void;
  /** What AMI knows each carrier by (for the resync queries). */
  amiTargets(): readonly AmiTarget[];
  /** Drain (→ disabled), force down (→ down), or null to hand the carrier back; false if no such carrier. */
  setAdmin(carrier: string, hold: AdminHold | null): boolean;
  /** Config reload: new carriers start unknown, kept ones keep their state, changed peers wait for a resync. */
  replaceCarriers(carriers: Iterable<CarrierConfig>, routes: Iterable<RouteShape>, prefixGroups?: readonly string[]): void;
  /**
   * Config reload: the next decisions use these settings. Current state stands: an open breaker keeps the end of
   * ejection it was given, a hold-down its release; counts in the window are judged by the new thresholds.
   */
  setSettings(health: BreakerHealthSettings, staleAfter: number): void;
  /** Told after replaceCarriers (the AMI feed resyncs). */
  onCarriersReplaced(fn: () => void): () => void;
  inspect(): ReadonlyMap<string, CarrierInspection>;
  /** A peer dialer's breaker fact (cluster.enabled); true when it changed this dialer's breaker. */
  applyPeer(fact: PeerFact): boolean;
  /** Applies what time alone changes (the map also does this on a timer and before every snapshot). */
  tick(): void;
  /** Stops the timer. */
  close(): void;
}

export function coreSettings(health: BreakerHealthSettings, staleAfter: number, trialWait = 0): CoreSettings {
  return { ...health, staleAfter, trialWait };
}

const UNUSABLE: ReadonlySet<HealthState> = new Set(['down', 'disabled']);
const BACK_FROM: ReadonlySet<string> = new Set<HealthState>(['down', 'probing', 'lagged', 'disabled']);
const MAX_TIMER = 2_147_483_647;

/**
 * The stateful shell around health-core: holds the state, feeds it inputs with the clock's time, keeps one timer
 * for the next deadline, tells onEvent, and logs carriers and routes going down and coming back.
 */
export function createHealthMap(opts: HealthMapOptions): HealthMap {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger;
  let s = coreSettings(opts.health, opts.staleAfter ?? 30_000, opts.trialWait ?? 0);
  let state: CoreState = initialState([...opts.carriers], [...opts.routes], s, clock.now(), opts.amiEnabled === false ? 'AMI off (ami.enabled=false)' : undefined, opts.prefixGroups);
  let snap: HealthSnapshot | null = null;
  const groupSnaps = new Map<string, HealthSnapshot>();
  let due: number | null = nextDeadline(state, s);
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  const replacedListeners = new Set<() => void>();
  const routeUsable = new Map<string, boolean>();
  for (const r of state.routes) routeUsable.set(r.name, usable(r));

  function usable(r: RouteShape): boolean {
    return r.carriers.some((c) => {
      const e = state.carriers.get(c);
      return e !== undefined && !UNUSABLE.has(e.health.state);
    });
  }

  function logEvent(e: CarrierEvent): void {
    // a peer's group fact leaves the carrier's state as it was; its note already said what changed
    if (e.group !== undefined) return;
    const fields = { carrier: e.carrier, from: e.from, to: e.to, source: e.source, reason: e.reason };
    if (e.from === e.to) log.warn(fields, `breaker opened while the carrier was already ${e.to}`);
    else if (e.to === 'down') log.warn(fields, 'carrier down');
    else if (e.to === 'up' && (e.from === 'down' || e.from === 'probing')) log.info(fields, 'carrier back up');
    else if (e.to === 'probing') log.info(fields, 'carrier recovering: one trial call at a time');
    else log.info(fields, 'carrier health changed');
  }

  function logRoutes(events: readonly CarrierEvent[]): void {
    for (const r of state.routes) {
      const now = usable(r);
      const before = routeUsable.get(r.name);
      routeUsable.set(r.name, now);
      if (before === true && !now) log.error({ route: r.name, carriers: r.carriers }, `all carriers of route ${r.name} down`);
      if (before === false && now) log.info({ route: r.name }, `route ${r.name} has a usable carrier again`);
    }
    for (const e of events) {
      if (e.to !== 'up' || !BACK_FROM.has(e.from)) continue;
      for (const r of state.routes) {
        if (r.carriers[0] === e.carrier) log.info({ route: r.name, carrier: e.carrier, from: e.from }, `route ${r.name} back on the primary carrier ${e.carrier}`);
      }
    }
  }

  function arm(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    if (due === null || closed) return;
    timer = setTimeout(() => run({ kind: 'tick' }), Math.min(MAX_TIMER, Math.max(0, due - clock.now())));
    timer.unref();
  }

  function run(input: Input): boolean {
    const now = clock.now();
    const r = step(state, s, input, now);
    const changed = r.state.carriers !== state.carriers;
    state = r.state;
    if (changed) {
      snap = null;
      groupSnaps.clear();
    }
    for (const n of r.notes) log[n.level](n.fields, n.msg);
    for (const e of r.events) {
      logEvent(e);
      try {
        opts.onEvent?.(e);
      } catch (err) {
        log.error({ err, carrier: e.carrier }, 'carrier event listener threw (ignored)');
      }
    }
    if (r.events.length > 0 || input.kind === 'replace') logRoutes(r.events);
    for (const f of r.shared) {
      try {
        opts.onShared?.(f);
      } catch (err) {
        log.error({ err, carrier: f.carrier }, 'shared health listener threw (ignored)');
      }
    }
    const nextDue = nextDeadline(state, s);
    if (nextDue !== due || input.kind === 'tick') {
      due = nextDue;
      arm();
    }
    return r.granted;
  }

  function catchUp(): void {
    if (due !== null && clock.now() >= due) run({ kind: 'tick' });
  }

  arm();

  return {
    snapshot(): HealthSnapshot {
      catchUp();
      if (!snap) {
        const m = new Map<string, CarrierHealth>();
        for (const [name, e] of state.carriers) m.set(name, e.health);
        snap = m;
      }
      return snap;
    },
    snapshotFor(group) {
      if (group === null) return this.snapshot();
      catchUp();
      let g = groupSnaps.get(group);
      if (!g) {
        const m = new Map<string, CarrierHealth>();
        const now = clock.now();
        for (const [name, e] of state.carriers) m.set(name, groupHealth(e, group, now));
        g = m;
        groupSnaps.set(group, g);
      }
      return g;
    },
    claimProbe: (carrier, group) => run({ kind: 'claim', carrier, group: group ?? null }),
    claimSuspect(carrier, inFlight = 0) {
      // nearly every carrier of every call is not suspect: answer that without a core step (nothing would change)
      if ((state.carriers.get(carrier)?.suspect ?? null) === null) return 'free';
      if (!run({ kind: 'claim-suspect', carrier, inFlight })) return 'refused';
      // run() cleared every suspect first if a reload switched the rule off
      return s.suspectAfterNoResponse ? 'claimed' : 'free';
    },
    recordAttempt: (signal: AttemptSignal) => void run({ kind: 'attempt', signal }),
    applyAmiEvent: (event) => void run({ kind: 'ami-event', event }),
    applyResync: (data) => void run({ kind: 'resync', data }),
    amiUp: () => void run({ kind: 'ami-up' }),
    amiDown: () => void run({ kind: 'ami-down' }),
    amiTargets: () => [...state.carriers.values()].map((e) => e.target),
    setAdmin(carrier, hold) {
      if (!state.carriers.has(carrier)) return false;
      run({ kind: 'admin', carrier, hold });
      return true;
    },
    replaceCarriers(carriers, routes, prefixGroups) {
      run({ kind: 'replace', carriers: [...carriers], routes: [...routes], ...(prefixGroups ? { groups: prefixGroups } : {}) });
      for (const fn of [...replacedListeners]) {
        try {
          fn();
        } catch (err) {
          log.error({ err }, 'carriers-replaced listener threw (ignored)');
        }
      }
    },
    setSettings(health, staleAfter) {
      s = coreSettings(health, staleAfter, opts.trialWait ?? 0);
      // a tick under the new settings re-arms the timer for whatever deadline they move
      run({ kind: 'tick' });
    },
    onCarriersReplaced(fn) {
      replacedListeners.add(fn);
      return () => replacedListeners.delete(fn);
    },
    inspect() {
      catchUp();
      const out = new Map<string, CarrierInspection>();
      for (const [name, e] of state.carriers) {
        out.set(name, {
          health: e.health,
          ami: deriveAmi(e.facts),
          breaker: e.breaker.kind,
          ejectedUntil: e.breaker.kind === 'open' ? e.breaker.until : null,
          peer: breakerPeer(e.breaker),
          heldDown: e.hold.held ? { since: e.hold.held.since, releaseAt: e.hold.held.releaseAt } : null,
          admin: e.admin,
          groups: [...e.groups]
            .filter(([, b]) => b.kind !== 'closed')
            .map(([group, b]) => ({ group, breaker: b.kind === 'open' ? 'open' : 'half-open', ejectedUntil: b.kind === 'open' ? b.until : null, reason: groupBreakerReason(b), peer: breakerPeer(b) })),
          suspectSince: e.suspect?.since ?? null,
        });
      }
      return out;
    },
    applyPeer: (fact) => run({ kind: 'peer', fact }),
    tick: () => void run({ kind: 'tick' }),
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      due = null;
    },
  };
}
