import { randomUUID } from 'node:crypto';
import type { AgiChannel } from '../agi/channel.js';
import { AgiInterruptedError } from '../agi/errors.js';
import type { AgiRequest } from '../agi/request.js';
import type { Clock } from '../clock.js';
import { findRoute, type RouteEntry, type ValidatedRouting } from '../config/carriers.js';
import type { QualityLedger } from '../health/quality-ledger.js';
import type { LearnedProgress } from '../health/learned-progress.js';
import type { HealthView } from '../health/types.js';
import { callLogger, maskNumber, type Logger } from '../log.js';
import { oncePerObject } from '../once-per-object.js';
import { ownString } from '../own-string.js';
import { buildChannel, buildDialData } from '../routing/dial-string.js';
import { normalizeNumber } from '../routing/number.js';
import { groupOf } from '../routing/prefix-group.js';
import type { AttemptOutcome, LegOutcome } from '../routing/outcome.js';
import { planAttempts, type PlannedTarget } from '../routing/plan.js';
import { dialProgressSeconds, progressText, type ProgressTimeout } from '../routing/progress-timeout.js';
import { alerted, attemptCause, dialResponse, judgeAttempt, judgeTogether, policyFor, type Verdict } from '../routing/verdict.js';
import { SUSPECT_REASON } from '../health/suspect.js';
import { armChannel, runAttempt, type AttemptRun } from './attempt-io.js';
import { CallRecorder, dialRecordFields, verdictLabel } from './attempt-records.js';
import { HeldChannels, type CapacityView } from './capacity-ledger.js';
import type { CostView } from './cost-ledger.js';
import { demoted } from '../routing/cost.js';
import { orderNotes } from '../routing/order-notes.js';
import { callBudgetMs, secondsArg, timersWithin } from './budget.js';
import { exportedCause, statusAfterStop, type FailoverStatus } from './final-status.js';
import { releaseTrials, reportAttempt } from './health-signals.js';
import { setExpression, setsConfirmed } from './result-vars.js';
import { carrierOfChannel } from './leg-resolver.js';
import type { AttemptRecord, RecordSink } from './records.js';

export interface CallContext {
  readonly routing: ValidatedRouting;
  readonly health: HealthView;
  /** Channel and cps caps per carrier, shared by every call of the daemon. */
  readonly capacity: CapacityView;
  /** Spend per carrier in the current clock hour and day against its budget, shared by every call of the daemon. */
  readonly cost: CostView;
  /** Each carrier's progress timeout: configured, or learned from its own post-dial delays (adaptiveProgress). */
  readonly progress: LearnedProgress;
  /** Quality ordering: whether a carrier is demoted for this number's prefix group, judged at most once a second. */
  readonly qualityLedger: QualityLedger;
  readonly sink: RecordSink;
  readonly serverId: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly showNumbers: boolean;
  /** Next rotation index for a round_robin route (the caller keeps one counter per route). */
  readonly rotation: (route: string) => number;
  readonly random: () => number;
  /** Told about every finished call (metrics), before its promise resolves: no promise of its own per held call. */
  readonly onCall?: (result: CallResult) => void;
}

export interface CallResult {
  /** The route's name, or the script path when no route matched. */
  readonly route: string;
  readonly status: FailoverStatus;
  readonly carrier: string;
  /** Dials placed. */
  readonly dials: number;
  readonly records: readonly AttemptRecord[];
}

/** How the call ended, as the dialplan is told. */
interface Ending {
  status: FailoverStatus;
  carrier: string;
  dialStatus: string;
  cause: number | null;
}

/**
 * Sets the result variables; a closed socket makes this a no-op, never an error (set variable and get full variable
 * are allowed dead, res_agi.c:3911-3958). Where the arm proved SET() works (`viaSet`), all of them in one round trip
 * (setExpression); the reply must show every value, else, and for a value SET() cannot carry, one SET VARIABLE each,
 * in the same order.
 */
async function report(channel: AgiChannel, log: Logger, vars: Record<string, string>, viaSet = false): Promise<void> {
  const entries = Object.entries(vars);
  const expression = viaSet ? setExpression(entries) : null;
  if (expression !== null) {
    if (channel.closed) return;
    try {
      if (setsConfirmed(entries, (await channel.getFullVariable(expression)).data ?? '')) return;
      log.warn('SET() did not set the result variables: setting them by SET VARIABLE');
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not set the result variables');
      return;
    }
  }
  for (const [name, value] of entries) {
    if (channel.closed) return;
    try {
      await channel.setVariable(name, value);
    } catch (err) {
      log.warn({ err: (err as Error).message, name }, 'could not set result variable');
      return;
    }
  }
}

/** The targets to move behind the others, each with why (null from `reason`: it keeps its place). */
function demotions(targets: readonly PlannedTarget[], reason: (carrier: string) => string | null): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of targets) {
    const r = reason(t.carrier.name);
    if (r !== null) out.set(t.carrier.name, r);
  }
  return out;
}

/** Asks for a suspect carrier's one-call claim; remembers a claim this call must give back. */
function claimSuspect(health: HealthView, carrier: string, inFlight: number, s: DialState): 'free' | 'claimed' | 'refused' {
  const c = health.claimSuspect(carrier, inFlight);
  if (c === 'claimed') s.claim(carrier);
  return c;
}

/** The leg of a one-carrier Dial: after HangupCauseClear the keys are this attempt's, normally exactly one. */
/** Why a probing carrier was skipped: a trial call holds it, here or (cluster.enabled) on the peer dialer named. */
function trialTaken(health: HealthView, carrier: string, group: string | null): string {
  const h = health.snapshot().get(carrier);
  if (group !== null && h?.state !== 'probing') {
    const peer = health.snapshotFor(group).get(carrier)?.peer;
    return `half-open for prefix group ${group}: ${peer ? `peer ${peer} holds` : 'another call holds'} the group's trial`;
  }
  return h?.peer ? `half-open: peer ${h.peer} holds the trial` : 'half-open: another call holds the trial';
}

function legOf(o: AttemptOutcome, target: PlannedTarget, all: readonly PlannedTarget[]): LegOutcome | null {
  const carriers = all.map((t) => t.carrier);
  const mine = o.legs.find((l) => carrierOfChannel(l.key, carriers)?.name === target.carrier.name);
  if (mine) return mine;
  return all.length === 1 && o.legs.length === 1 ? (o.legs[0] ?? null) : null;
}

/**
 * The call from its plan on: what its Dials and its end need, read from the request once. A call held in Dial
 * keeps this and its suspended Dial, not the request's header nor the planning's pieces.
 */
interface PlannedCall {
  readonly channel: AgiChannel;
  readonly ctx: CallContext;
  readonly route: RouteEntry;
  readonly number: string;
  readonly prefixGroup: string | null;
  readonly targets: readonly PlannedTarget[];
  readonly rec: CallRecorder;
  readonly log: Logger;
  readonly t0: number;
  readonly now: () => number;
  /** route.callBudget or the AGI arguments' budget (callBudgetMs), and agi_arg_3's ring seconds. */
  readonly budgetMs: number;
  readonly ringOverride: number | null;
  /** Whatever ends the Dials (a return, an exception), no channel of this call stays counted. */
  readonly held: HeldChannels;
}

/** What the Dials came to, with the call they are of (finishCall needs no closure over it). */
interface DialsDone {
  readonly call: PlannedCall;
  readonly ending: Ending;
  readonly dials: number;
  readonly capped: number;
  readonly overBudget: number;
  readonly setWorks: boolean;
}

/** One clock read per clock, not one closure per call (a closure over the call's scope would keep all of it). */
const nowOf = oncePerObject((clock: Clock): (() => number) => () => clock.now());

function callResult(ctx: CallContext, route: string, e: Ending, dials: number, rec: CallRecorder): CallResult {
  const result: CallResult = { route, status: e.status, carrier: e.carrier, dials, records: rec.records };
  ctx.onCall?.(result);
  return result;
}

/**
 * Runs one outbound call: route, number check, plan, then Dials (one carrier at a time, or all legs at once for
 * `simultaneous`) until a verdict says stop. Every Dial that was sent produces a record, whatever happens after
 * it; any doubt after a Dial stops the call, because a second Dial could ring the same person twice.
 * Not an async function: its frame would stay suspended for the whole held call, every local of the planning with
 * it; the planning runs to its end here and only the Dials' frame waits. An exception still comes as a rejection.
 */
export function handleCall(channel: AgiChannel, req: AgiRequest, ctx: CallContext): Promise<CallResult> {
  try {
    const call = planCall(channel, req, ctx);
    if (call instanceof Promise) return call;
    return dialGroups(call);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Route, number check and plan: the call ready to dial, or (no route, a number refused) the call already ending. */
function planCall(channel: AgiChannel, req: AgiRequest, ctx: CallContext): PlannedCall | Promise<CallResult> {
  const rawNumber = req.args[0] !== undefined && req.args[0] !== '' ? req.args[0] : req.extension;
  const t0 = ctx.clock.now();
  const route = findRoute(ctx.routing, req.script, rawNumber, req.params.get('route'));
  // one child logger per call, made once: every line of the call carries its uniqueid
  const log = callLogger(ctx.log, { uniqueid: req.uniqueid, script: req.script, route: route?.name, number: maskNumber(rawNumber, ctx.showNumbers), leadId: req.leadId ?? undefined });
  const rec = new CallRecorder(
    { uniqueid: req.uniqueid, runId: ownString(randomUUID()), serverId: ctx.serverId, route: req.script, strategy: '', number: '', callerCode: req.callerCode ?? '', leadId: req.leadId, campaign: req.args[1] ?? '', prefixGroup: null },
    ctx.sink,
    log,
  );

  if (!route) {
    log.error({ request: req.request }, 'no route for this AGI script and number: FAILOVER_STATUS=NOROUTE, no call placed');
    rec.emit({ verdict: 'invalid', reason: `no route for script "${req.script}"`, startedAt: t0, endedAt: t0, number: maskNumber(rawNumber, false) });
    return refuse(channel, ctx, log, rec, req.script, 'NOROUTE');
  }
  rec.update({ route: route.name, strategy: route.strategy });
  const normalized = normalizeNumber(rawNumber, route);
  if (!normalized.ok) {
    log.error({ reason: normalized.reason }, 'number refused: FAILOVER_STATUS=INVALID, no call placed');
    rec.emit({ verdict: 'invalid', reason: normalized.reason, startedAt: t0, endedAt: t0, number: rawNumber.replace(/[^\x20-\x7e]/g, '?').slice(0, 32) });
    return refuse(channel, ctx, log, rec, route.name, 'INVALID');
  }
  // the destination's group: a carrier ejected for it alone is skipped here and dialed for every other number
  const group = groupOf(normalized.number, ctx.routing.prefixMatcher);
  rec.update({ number: normalized.number, prefixGroup: group });

  const plan = planAttempts({
    route,
    carriers: ctx.routing.carriers,
    health: ctx.health.snapshotFor(group),
    rotation: route.strategy === 'round_robin' ? ctx.rotation(route.name) : 0,
    random: ctx.random(),
  });
  for (const sk of plan.skipped) rec.skip(sk.carrier, sk.health, sk.reason, t0);
  // a carrier over a `demote` budget, or demoted for its quality, goes behind the others (each side keeping its order),
  // still there when nothing else is left; every row of a moved carrier says why it was dialed where it was
  const why = demotions(plan.targets, (name) => {
    const over = ctx.cost.over(name, t0);
    return over?.action === 'demote' ? over.reason : ctx.qualityLedger.demotion(name, group, t0);
  });
  // a copy of its own length (the plan's array was grown by push, with room to spare for the whole held call)
  const targets = demoted(plan.targets, (t) => why.has(t.carrier.name));
  if (why.size > 0) {
    for (const [carrier, note] of orderNotes(plan.targets, targets, why)) rec.note(carrier, note);
    log.info({ demoted: [...why].map(([c, r]) => `${c}: ${r}`) }, 'carriers demoted (over budget or for quality): dialed after the others');
  }
  if (plan.failedOpen) log.warn({ route: route.name }, 'every carrier of the route is down: trying them anyway (whenAllDown=try)');
  return {
    channel,
    ctx,
    route,
    number: normalized.number,
    prefixGroup: group,
    targets,
    rec,
    log,
    t0,
    now: nowOf(ctx.clock),
    budgetMs: callBudgetMs(route.callBudget, req.args),
    ringOverride: secondsArg(req.args[2]),
    held: new HeldChannels(ctx.capacity),
  };
}

/** No call placed (no route, a number refused): the dialplan is told why. */
async function refuse(channel: AgiChannel, ctx: CallContext, log: Logger, rec: CallRecorder, route: string, status: 'NOROUTE' | 'INVALID'): Promise<CallResult> {
  await report(channel, log, { FAILOVER_STATUS: status, FAILOVER_ATTEMPTS: '0' });
  return callResult(ctx, route, { status, carrier: '', dialStatus: '', cause: null }, 0, rec);
}

/** After the last Dial: the call's ending, its closing row when no carrier was found, the dialplan's variables, its log line. */
async function finishCall(groups: DialsDone): Promise<CallResult> {
  const { call } = groups;
  const { rec, log, route, t0 } = call;
  // whatever ended the Dials, no channel of this call stays counted (dialGroups' finally covers an exception)
  call.held.releaseAll();
  const { dials } = groups;
  // no Dial because the carriers that were left are at their caps: congestion for the dialplan, never its static cascade
  // a used-up budget (action skip) ends the same way: a static Dial would spend what the budget forbids
  const ending: Ending = groups.ending.status === 'EXHAUSTED' && dials === 0 && groups.capped + groups.overBudget > 0 ? { status: 'CAPACITY', carrier: '', dialStatus: 'CONGESTION', cause: 34 } : groups.ending;
  if ((ending.status === 'EXHAUSTED' || ending.status === 'CAPACITY') && !rec.records.some((r) => r.verdict === 'exhausted')) {
    // every call that found no carrier ends on an 'exhausted' row, so ops can count them without guessing from skips
    const at = call.now();
    const reason =
      ending.status === 'CAPACITY'
        ? groups.overBudget === 0
          ? 'no carrier could be tried: every carrier left is at its capacity cap (FAILOVER_STATUS=CAPACITY)'
          : groups.capped === 0
            ? 'no carrier could be tried: every carrier left has used up its budget (FAILOVER_STATUS=CAPACITY)'
            : 'no carrier could be tried: every carrier left is at its capacity cap or has used up its budget (FAILOVER_STATUS=CAPACITY)'
        : dials === 0 ? 'no carrier could be tried: every carrier was skipped' : 'no carrier left to try';
    rec.emit({ verdict: 'exhausted', reason, startedAt: at, endedAt: at });
  }
  if (ending.status === 'CAPACITY') log.warn({ route: route.name, capped: groups.capped, overBudget: groups.overBudget }, 'every carrier left for this call is at its capacity cap or over budget: FAILOVER_STATUS=CAPACITY, no Dial placed');
  const dialStatus = ending.dialStatus || (ending.status === 'ERROR' ? '' : 'CHANUNAVAIL');
  const vars: Record<string, string> = {
    FAILOVER_STATUS: ending.status,
    FAILOVER_CARRIER: ending.carrier,
    FAILOVER_ATTEMPTS: String(dials),
    // Hangup(${FAILOVER_CAUSE}) in the dialplan makes h read this attempt's cause with its DIALSTATUS: HANGUPCAUSE
    // itself is a built-in that SET VARIABLE cannot change (h_extension_view_set_hangupcause, fact 14)
    FAILOVER_CAUSE: ending.status === 'ERROR' ? '' : exportedCause(ending.cause, dialStatus),
  };
  // VICIdial's h extension and the dialplan read DIALSTATUS: it must be the deciding attempt's, not a leftover
  if (dialStatus) vars['DIALSTATUS'] = dialStatus;
  await report(call.channel, log, vars, groups.setWorks);
  // the call's one line at info: each record in brief (carrier:verdict:DIALSTATUS:cause:SIP); every record in full at debug
  const attempts = rec.records.map((r) => `${r.carrier || '-'}:${r.verdict}:${r.dialStatus || '-'}:${r.cause ?? '-'}:${r.sipCode ?? '-'}`);
  log.info({ status: ending.status, carrier: ending.carrier, dials, cause: vars['FAILOVER_CAUSE'], attempts, ms: call.now() - t0 }, 'call done');
  return callResult(call.ctx, route.name, ending, dials, rec);
}

/** No suspect claim held: most calls, which then allocate no Set of their own. */
const NO_CLAIMS: ReadonlySet<string> = new Set();

/** The ending before any Dial: shared, never changed (an ending is replaced, not written to). */
const NOT_DIALED: Ending = { status: 'EXHAUSTED', carrier: '', dialStatus: '', cause: null };

/** Where the Dials of one call stand, between one Dial and the next: one object, so the suspended frame stays small. */
class DialState {
  ending: Ending = NOT_DIALED;
  dials = 0;
  legsDialed = 0;
  causeBefore: number | null = null;
  armed = false;
  // the arm's SET() answered with its value: func_logic is loaded, so a lone leg is read with the outcome (IF) and
  // the result variables go in one round trip
  setWorks = false;
  staleKeys = true;
  capped = 0;
  overBudget = 0;
  /** When the Dial in progress was sent. */
  startedAt = 0;
  /** Carriers whose suspect one-call claim this call holds: released with its Dial's result, or when no Dial is placed. */
  private claims: Set<string> | null = null;

  constructor(private readonly call: PlannedCall) {}

  get claimed(): ReadonlySet<string> {
    return this.claims ?? NO_CLAIMS;
  }

  /** The Dial of `next` is sent now. */
  placed(next: NextDial): void {
    this.dials++;
    this.legsDialed += next.usable.length;
    this.startedAt = this.call.now();
  }

  claim(carrier: string): void {
    (this.claims ??= new Set()).add(carrier);
  }

  done(ending: Ending = this.ending): DialsDone {
    return { call: this.call, ending, dials: this.dials, capped: this.capped, overBudget: this.overBudget, setWorks: this.setWorks };
  }
}

/**
 * One Dial about to be placed: its carriers (each holding a channel), its timers, and the progress timeout its
 * record explains (progressTimerNote; null when no carrier of it is adaptive). Kept through the Dial: the least.
 */
interface NextDial {
  readonly usable: readonly PlannedTarget[];
  /** Dial's argument: the legs' channels and the timers. */
  readonly data: string;
  /** The progress timer, seconds (0 = none). */
  readonly progress: number;
  readonly longest: ProgressTimeout | null;
}

/** A group is one carrier for the sequential strategies, every usable carrier (up to maxAttempts legs) for `simultaneous`. */
function groupCount(call: PlannedCall): number {
  return call.route.strategy === 'simultaneous' ? 1 : call.targets.length;
}

function groupAt(call: PlannedCall, g: number): readonly PlannedTarget[] {
  if (call.route.strategy === 'simultaneous') return call.targets;
  const t = call.targets[g];
  return t ? [t] : [];
}

/** The targets of group g and every group after it. */
function groupsFrom(call: PlannedCall, g: number): readonly PlannedTarget[] {
  return call.route.strategy === 'simultaneous' ? call.targets : call.targets.slice(g);
}

function release(call: PlannedCall, s: DialState, ts: readonly PlannedTarget[], reason: string): void {
  releaseTrials(call.ctx.health, ts, reason, call.now(), call.prefixGroup, s.claimed);
}

/**
 * The Dials of one call. A group is what one `EXEC Dial` dials: one carrier for the sequential strategies, every
 * usable carrier (up to maxAttempts legs) for `simultaneous`. Each group is planned, placed, judged, recorded and
 * reported to health the same way. This frame stays suspended for the whole Dial, so what a group needs before and
 * after it is worked out in functions of their own (nextDial, readyChannel, afterDial), and the call ends in
 * finishCall, whose promise this one takes on (no promise of its own per held call).
 */
async function dialGroups(call: PlannedCall): Promise<CallResult> {
  const s = new DialState(call);
  try {
    for (let g = 0; g < groupCount(call); g++) {
      const next = nextDial(call, s, g);
      if (next === null) continue;
      if (next === 'budget spent') break;
      const stopped = await readyChannel(call, s, next.usable);
      if (stopped !== null) return finishCall(stopped);
      s.placed(next);
      const run = await runAttempt(call.channel, next.data, s.causeBefore, call.now, s.setWorks);
      // Dial returned: an answered call was bridged until now, so its channels are free only here
      call.held.releaseAll();
      const ended = afterDial(call, s, next, run, g + 1 < groupCount(call));
      if (ended !== null) return finishCall(ended);
    }
    return finishCall(s.done());
  } finally {
    call.held.releaseAll();
  }
}

/** Group g's usable carriers, each taking its channel, and its timers; null: none usable; 'budget spent': no more Dials. */
function nextDial(call: PlannedCall, s: DialState, g: number): NextDial | null | 'budget spent' {
  const { ctx, route, rec, prefixGroup } = call;
  const usable: PlannedTarget[] = [];
  const group = groupAt(call, g);
  for (const t of group) {
    const at = call.now();
    // a carrier at its cap proves nothing about its health: no breaker signal, and no trial taken from it
    const full = s.legsDialed + usable.length >= route.maxAttempts ? null : ctx.capacity.blocked(t.carrier.name, at);
    // a used-up budget says nothing about health either; checked at the carrier's turn, as an earlier Dial may have used it up
    const spent = full === null ? ctx.cost.over(t.carrier.name, at) : null;
    if (s.legsDialed + usable.length >= route.maxAttempts) rec.skip(t.carrier.name, t.health, `maxAttempts ${route.maxAttempts} reached`, at);
    else if (spent !== null && spent.action === 'skip') {
      s.overBudget++;
      rec.skip(t.carrier.name, t.health, spent.reason, at);
    } else if (full !== null) {
      s.capped++;
      rec.skip(t.carrier.name, t.health, full, at);
    } else if (t.health === 'probing' && !ctx.health.claimProbe(t.carrier.name, prefixGroup)) rec.skip(t.carrier.name, t.health, trialTaken(ctx.health, t.carrier.name, prefixGroup), at);
    // its last INVITE went unanswered: one call dials it, the others go on now instead of paying the same timeout;
    // skipped before this call Dials it at all, so nobody is rung twice
    else if (t.health !== 'probing' && claimSuspect(ctx.health, t.carrier.name, ctx.capacity.inUse(t.carrier.name), s) === 'refused') rec.skip(t.carrier.name, t.health, SUSPECT_REASON, at);
    else {
      // taken in the same tick as the check: no other call can take the last channel in between
      call.held.take(t.carrier.name, at);
      usable.push(t);
    }
  }
  if (usable.length === 0) return null;
  // kept through the Dial: the group itself when all of it is usable, else a copy of its own length (push left room)
  const dialed = usable.length === group.length ? group : usable.slice();
  const carriers = usable.map((t) => t.carrier);
  // the configured progressTimeout, or the one each carrier's own delays taught (adaptiveProgress); legs: the longest
  const progress = carriers.map((c) => ctx.progress.get(c, prefixGroup, call.now()));
  const timers = timersWithin(
    call.ringOverride ?? Math.max(...carriers.map((c) => c.ringTimeout)),
    dialProgressSeconds(progress),
    call.budgetMs,
    call.now() - call.t0,
  );
  if (!timers) {
    release(call, s, usable, 'call budget spent');
    for (const t of groupsFrom(call, g)) rec.skip(t.carrier.name, t.health, `call budget of ${call.budgetMs / 1000} s spent`, call.now());
    return 'budget spent';
  }
  const data = buildDialData(carriers.map((c) => buildChannel(c, call.number)), timers.ring, timers.progress, carriers[0]?.dialOptions ?? '');
  return { usable: dialed, data, progress: timers.progress, longest: carriers.some((c) => c.adaptiveProgress !== null) ? longestOf(progress) : null };
}

/** The channel made ready for the Dial (armed before the first, its keys cleared); the Dials' end when it cannot be. */
async function readyChannel(call: PlannedCall, s: DialState, usable: readonly PlannedTarget[]): Promise<DialsDone | null> {
  const { channel } = call;
  if (channel.hungUp || channel.closed) {
    release(call, s, usable, 'caller gone before the Dial');
    return s.done({ ...s.ending, status: 'CANCEL' });
  }
  try {
    if (!s.armed) {
      // one round trip: the cause and keys before any Dial, and DIALING set, since from here on a Dial may have
      // rung someone and the dialplan must never fall back to its static cascade
      const before = await armChannel(channel);
      s.causeBefore = before.cause;
      s.staleKeys = before.hasKeys;
      s.setWorks = before.armed;
      s.armed = true;
    }
    // the keys must be this attempt's only; a table with none has nothing to clear (one round trip less): a channel
    // no Dial has touched, or one whose last Dial got no SIP response: the outcome read's HANGUPCAUSE_KEYS() is the
    // whole table (func_hangupcause.c:178-197), and only a Dial adds to it, forwarding its legs' cause frames to
    // this channel (app_dial.c:1809-1810 → channel.c:4647). It cannot go into a read: no dialplan function clears the
    // table (func_hangupcause.c registers HANGUPCAUSE and HANGUPCAUSE_KEYS, both read-only), and without it the next
    // outcome read would list the earlier Dial's keys too, in hash order (channel_internal_api.c:1281), not Dial order
    if (s.staleKeys) {
      const clear = await channel.exec('HangupCauseClear', '');
      if (clear.resultInt === -2) call.log.warn('HangupCauseClear is missing (func_hangupcause not loaded): SIP codes may be wrong');
    }
    // a Dial cut short may have left keys nobody read
    s.staleKeys = true;
  } catch (err) {
    release(call, s, usable, 'AGI error before the Dial');
    call.log.warn({ err: (err as Error).message }, 'AGI command before the Dial failed; no Dial placed');
    return s.done({ ...s.ending, status: channel.hungUp ? 'CANCEL' : 'ERROR' });
  }
  if (channel.hungUp) {
    release(call, s, usable, 'caller gone before the Dial');
    return s.done({ ...s.ending, status: 'CANCEL' });
  }
  return null;
}

/** One Dial judged, recorded, reported to health and charged; the Dials' end when its verdict says stop, else null. */
function afterDial(call: PlannedCall, s: DialState, next: NextDial, run: AttemptRun, more: boolean): DialsDone | null {
  const { ctx, rec, log, prefixGroup } = call;
  const { usable, data } = next;
  const { startedAt } = s;
  const claimed = s.claimed;
  const label = usable.map((t) => t.carrier.name).join('&');
  if (!run.ok) {
    // the Dial may have rung someone: record it and never dial again
    for (const t of usable) reportAttempt(ctx.health, t.carrier.name, null, 'AGI error', run.endedAt, prefixGroup, 'unknown', claimed.has(t.carrier.name));
    // the daemon gave up on it (shutdown, maxCallDuration): what Asterisk did with the call is unknown
    const interrupted = run.error instanceof AgiInterruptedError;
    const reason = run.error instanceof AgiInterruptedError ? run.error.reason : `AGI error during attempt: ${run.error.message}`;
    for (const t of usable) {
      rec.emit({ verdict: interrupted ? 'interrupted' : 'stop', carrier: t.carrier.name, dialString: data, healthState: t.health, reason, startedAt, endedAt: run.endedAt, ringMs: run.endedAt - startedAt });
    }
    log.error({ err: run.error.message, carrier: label }, 'attempt cut short by an AGI error: stopping');
    return s.done({ status: call.channel.hungUp ? 'CANCEL' : 'ERROR', carrier: label, dialStatus: '', cause: null });
  }
  const o = run.outcome;
  s.staleKeys = o.keys.length > 0;
  s.causeBefore = o.channelCause;
  const moreDials = more && s.legsDialed < call.route.maxAttempts;
  const legs = usable.map((t) => legOf(o, t, usable));
  const judged = judgeGroup(o, usable, legs);
  const timerNote = progressTimerNote(o, next.longest, next.progress, run.endedAt - startedAt);
  usable.forEach((t, i) => {
    const v = judged.legs[i] ?? null;
    const leg = legs[i] ?? null;
    // one leg of several: the Dial's ringing may be another leg's, so only a one-carrier Dial says whether it responded
    reportAttempt(ctx.health, t.carrier.name, v, 'another leg answered', run.endedAt, prefixGroup, usable.length === 1 ? dialResponse(o, leg) : 'unknown', claimed.has(t.carrier.name));
    const answeredHere = judged.verdict.answered && judged.deciding === i;
    const r = rec.emit(
      dialRecordFields(
        o,
        leg,
        {
          label: answeredHere ? 'answered' : judged.verdict.kind === 'stop' ? 'stop' : verdictLabel(v ?? judged.verdict, moreDials),
          reason: (v === null ? (judged.verdict.answered ? 'another leg answered' : judged.verdict.reason) : v.reason) + timerNote,
          answered: answeredHere,
          ...(usable.length > 1 ? { dialStatus: answeredHere ? 'ANSWER' : o.dialStatus === 'ANSWER' ? 'CANCEL' : o.dialStatus } : {}),
        },
        { carrier: t.carrier.name, dialString: data, health: t.health, startedAt, endedAt: run.endedAt },
      ),
    );
    // the talk time of the answered leg is what the carrier bills
    if (answeredHere) {
      for (const x of ctx.cost.charge(t.carrier.name, r.talkMs, run.endedAt)) {
        const msg = x.level === 'used' ? 'carrier budget used up: it is skipped or demoted for the rest of the window' : 'carrier budget near its limit';
        log.warn({ carrier: t.carrier.name, window: x.window, unit: x.unit, spent: x.spent, limit: x.limit }, msg);
      }
    }
  });
  const decider = judged.deciding >= 0 ? usable[judged.deciding] : undefined;
  const cause = attemptCause(o, judged.deciding >= 0 ? (legs[judged.deciding] ?? null) : legs.length === 1 ? (legs[0] ?? null) : null);
  s.ending = { status: 'EXHAUSTED', carrier: decider?.carrier.name ?? label, dialStatus: o.dialStatus, cause };
  if (judged.verdict.kind === 'stop') return s.done({ ...s.ending, status: statusAfterStop(o.dialStatus, judged.verdict, o.callerLeft) });
  return null;
}

/**
 * For `explain`: a Dial the progress timer ended (CHANUNAVAIL, nothing rang, as long as the timer) of a carrier in
 * adaptive mode says where its timeout came from then (`; progress timeout 1.3 s learned (p99 850 ms × 1.5 over 60
 * delays)`): `plan` and `status` show only today's value. Empty otherwise, so fixed carriers' rows read as before.
 */
function progressTimerNote(o: AttemptOutcome, longest: ProgressTimeout | null, timerS: number, tookMs: number): string {
  if (longest === null || timerS <= 0) return '';
  if (o.dialStatus !== 'CHANUNAVAIL' || alerted(o) || tookMs < timerS * 1000 - 100) return '';
  return `; progress timeout ${progressText(longest)}`;
}

/** The longest of the legs' progress timeouts, the one the Dial's timer ran (dialProgressSeconds). */
function longestOf(progress: readonly ProgressTimeout[]): ProgressTimeout | null {
  return progress.reduce<ProgressTimeout | null>((a, t) => (a === null || t.seconds > a.seconds ? t : a), null);
}

/** One verdict per leg and one for the Dial, the same shape for one carrier and for `A&B&…`. */
function judgeGroup(o: AttemptOutcome, usable: readonly PlannedTarget[], legs: readonly (LegOutcome | null)[]): { verdict: Verdict; legs: readonly (Verdict | null)[]; deciding: number } {
  if (usable.length === 1) {
    const t = usable[0] as PlannedTarget;
    const v = judgeAttempt(o, legs[0] ?? null, policyFor(t.carrier));
    return { verdict: v, legs: [v], deciding: 0 };
  }
  const j = judgeTogether(
    o,
    usable.map((t, i) => ({ carrier: t.carrier.name, leg: legs[i] ?? null, policy: policyFor(t.carrier) })),
  );
  return { verdict: j.verdict, legs: j.legs, deciding: j.decidingLeg };
}
