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
import { ownString } from '../own-string.js';
import { buildChannel, buildDialData } from '../routing/dial-string.js';
import { normalizeNumber } from '../routing/number.js';
import { groupOf } from '../routing/prefix-group.js';
import type { AttemptOutcome, LegOutcome } from '../routing/outcome.js';
import { planAttempts, type PlannedTarget } from '../routing/plan.js';
import { dialProgressSeconds, progressText, type ProgressTimeout } from '../routing/progress-timeout.js';
import type { CarrierConfig } from '../config/types.js';
import { alerted, attemptCause, dialResponse, judgeAttempt, judgeTogether, policyFor, type Verdict } from '../routing/verdict.js';
import { SUSPECT_REASON } from '../health/suspect.js';
import { armChannel, runAttempt } from './attempt-io.js';
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
function claimSuspect(health: HealthView, carrier: string, inFlight: number, claimed: Set<string>): 'free' | 'claimed' | 'refused' {
  const c = health.claimSuspect(carrier, inFlight);
  if (c === 'claimed') claimed.add(carrier);
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
 * Runs one outbound call: route, number check, plan, then Dials (one carrier at a time, or all legs at once for
 * `simultaneous`) until a verdict says stop. Every Dial that was sent produces a record, whatever happens after
 * it; any doubt after a Dial stops the call, because a second Dial could ring the same person twice.
 */
export async function handleCall(channel: AgiChannel, req: AgiRequest, ctx: CallContext): Promise<CallResult> {
  const rawNumber = req.args[0] !== undefined && req.args[0] !== '' ? req.args[0] : req.extension;
  const now = (): number => ctx.clock.now();
  const t0 = now();
  const route = findRoute(ctx.routing, req.script, rawNumber, req.params.get('route'));
  // one child logger per call, made once: every line of the call carries its uniqueid
  const log = callLogger(ctx.log, { uniqueid: req.uniqueid, script: req.script, route: route?.name, number: maskNumber(rawNumber, ctx.showNumbers), leadId: req.leadId ?? undefined });
  const rec = new CallRecorder(
    { uniqueid: req.uniqueid, runId: ownString(randomUUID()), serverId: ctx.serverId, route: req.script, strategy: '', number: '', callerCode: req.callerCode ?? '', leadId: req.leadId, campaign: req.args[1] ?? '', prefixGroup: null },
    ctx.sink,
    log,
  );
  const done = (route: string, e: Ending, dials: number): CallResult => ({ route, status: e.status, carrier: e.carrier, dials, records: rec.records });

  if (!route) {
    log.error({ request: req.request }, 'no route for this AGI script and number: FAILOVER_STATUS=NOROUTE, no call placed');
    rec.emit({ verdict: 'invalid', reason: `no route for script "${req.script}"`, startedAt: t0, endedAt: t0, number: maskNumber(rawNumber, false) });
    await report(channel, log, { FAILOVER_STATUS: 'NOROUTE', FAILOVER_ATTEMPTS: '0' });
    return done(req.script, { status: 'NOROUTE', carrier: '', dialStatus: '', cause: null }, 0);
  }
  rec.update({ route: route.name, strategy: route.strategy });
  const normalized = normalizeNumber(rawNumber, route);
  if (!normalized.ok) {
    log.error({ reason: normalized.reason }, 'number refused: FAILOVER_STATUS=INVALID, no call placed');
    rec.emit({ verdict: 'invalid', reason: normalized.reason, startedAt: t0, endedAt: t0, number: rawNumber.replace(/[^\x20-\x7e]/g, '?').slice(0, 32) });
    await report(channel, log, { FAILOVER_STATUS: 'INVALID', FAILOVER_ATTEMPTS: '0' });
    return done(route.name, { status: 'INVALID', carrier: '', dialStatus: '', cause: null }, 0);
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
  const targets = demoted(plan.targets, (t) => why.has(t.carrier.name));
  if (why.size > 0) {
    for (const [carrier, note] of orderNotes(plan.targets, targets, why)) rec.note(carrier, note);
    log.info({ demoted: [...why].map(([c, r]) => `${c}: ${r}`) }, 'carriers demoted (over budget or for quality): dialed after the others');
  }
  if (plan.failedOpen) log.warn({ route: route.name }, 'every carrier of the route is down: trying them anyway (whenAllDown=try)');

  // whatever ends the Dials (a return, an exception), no channel of this call stays counted
  const held = new HeldChannels(ctx.capacity);
  const groups = await dialGroups(channel, req, ctx, route, normalized.number, group, targets, rec, log, t0, held).finally(() => held.releaseAll());
  const { dials } = groups;
  // no Dial because the carriers that were left are at their caps: congestion for the dialplan, never its static cascade
  // a used-up budget (action skip) ends the same way: a static Dial would spend what the budget forbids
  const ending: Ending = groups.ending.status === 'EXHAUSTED' && dials === 0 && groups.capped + groups.overBudget > 0 ? { status: 'CAPACITY', carrier: '', dialStatus: 'CONGESTION', cause: 34 } : groups.ending;
  if ((ending.status === 'EXHAUSTED' || ending.status === 'CAPACITY') && !rec.records.some((r) => r.verdict === 'exhausted')) {
    // every call that found no carrier ends on an 'exhausted' row, so ops can count them without guessing from skips
    const at = now();
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
  await report(channel, log, vars, groups.setWorks);
  // the call's one line at info: each record in brief (carrier:verdict:DIALSTATUS:cause:SIP); every record in full at debug
  const attempts = rec.records.map((r) => `${r.carrier || '-'}:${r.verdict}:${r.dialStatus || '-'}:${r.cause ?? '-'}:${r.sipCode ?? '-'}`);
  log.info({ status: ending.status, carrier: ending.carrier, dials, cause: vars['FAILOVER_CAUSE'], attempts, ms: now() - t0 }, 'call done');
  return done(route.name, ending, dials);
}

/**
 * The Dials of one call. A group is what one `EXEC Dial` dials: one carrier for the sequential strategies, every
 * usable carrier (up to maxAttempts legs) for `simultaneous`. Each group is planned, placed, judged, recorded and
 * reported to health the same way.
 */
async function dialGroups(
  channel: AgiChannel,
  req: AgiRequest,
  ctx: CallContext,
  route: RouteEntry,
  number: string,
  prefixGroup: string | null,
  targets: readonly PlannedTarget[],
  rec: CallRecorder,
  log: Logger,
  t0: number,
  held: HeldChannels,
): Promise<{ ending: Ending; dials: number; capped: number; overBudget: number; setWorks: boolean }> {
  const now = (): number => ctx.clock.now();
  const groups = route.strategy === 'simultaneous' ? [targets] : targets.map((t) => [t]);
  const budgetMs = callBudgetMs(route.callBudget, req.args);
  const ringOverride = secondsArg(req.args[2]);
  // carriers whose suspect one-call claim this call holds: released with its Dial's result, or when no Dial is placed
  const claimed = new Set<string>();
  const release = (ts: readonly PlannedTarget[], reason: string): void => releaseTrials(ctx.health, ts, reason, now(), prefixGroup, claimed);
  let ending: Ending = { status: 'EXHAUSTED', carrier: '', dialStatus: '', cause: null };
  let dials = 0;
  let legsDialed = 0;
  let causeBefore: number | null = null;
  let armed = false;
  // the arm's SET() answered with its value: func_logic is loaded, so a lone leg is read with the outcome (IF) and
  // the result variables go in one round trip
  let setWorks = false;
  let staleKeys = true;
  let capped = 0;
  let overBudget = 0;

  for (let g = 0; g < groups.length; g++) {
    const usable: PlannedTarget[] = [];
    for (const t of groups[g] as PlannedTarget[]) {
      const at = now();
      // a carrier at its cap proves nothing about its health: no breaker signal, and no trial taken from it
      const full = legsDialed + usable.length >= route.maxAttempts ? null : ctx.capacity.blocked(t.carrier.name, at);
      // a used-up budget says nothing about health either; checked at the carrier's turn, as an earlier Dial may have used it up
      const spent = full === null ? ctx.cost.over(t.carrier.name, at) : null;
      if (legsDialed + usable.length >= route.maxAttempts) rec.skip(t.carrier.name, t.health, `maxAttempts ${route.maxAttempts} reached`, at);
      else if (spent !== null && spent.action === 'skip') {
        overBudget++;
        rec.skip(t.carrier.name, t.health, spent.reason, at);
      } else if (full !== null) {
        capped++;
        rec.skip(t.carrier.name, t.health, full, at);
      } else if (t.health === 'probing' && !ctx.health.claimProbe(t.carrier.name, prefixGroup)) rec.skip(t.carrier.name, t.health, trialTaken(ctx.health, t.carrier.name, prefixGroup), at);
      // its last INVITE went unanswered: one call dials it, the others go on now instead of paying the same timeout;
      // skipped before this call Dials it at all, so nobody is rung twice
      else if (t.health !== 'probing' && claimSuspect(ctx.health, t.carrier.name, ctx.capacity.inUse(t.carrier.name), claimed) === 'refused') rec.skip(t.carrier.name, t.health, SUSPECT_REASON, at);
      else {
        // taken in the same tick as the check: no other call can take the last channel in between
        held.take(t.carrier.name, at);
        usable.push(t);
      }
    }
    if (usable.length === 0) continue;
    const carriers = usable.map((t) => t.carrier);
    // the configured progressTimeout, or the one each carrier's own delays taught (adaptiveProgress); legs: the longest
    const progress = carriers.map((c) => ctx.progress.get(c, prefixGroup, now()));
    const timers = timersWithin(
      ringOverride ?? Math.max(...carriers.map((c) => c.ringTimeout)),
      dialProgressSeconds(progress),
      budgetMs,
      now() - t0,
    );
    if (!timers) {
      release(usable, 'call budget spent');
      for (const t of groups.slice(g).flat()) rec.skip(t.carrier.name, t.health, `call budget of ${budgetMs / 1000} s spent`, now());
      break;
    }
    if (channel.hungUp || channel.closed) {
      release(usable, 'caller gone before the Dial');
      return { ending: { ...ending, status: 'CANCEL' }, dials, capped, overBudget, setWorks };
    }
    try {
      if (!armed) {
        // one round trip: the cause and keys before any Dial, and DIALING set, since from here on a Dial may have
        // rung someone and the dialplan must never fall back to its static cascade
        const before = await armChannel(channel);
        causeBefore = before.cause;
        staleKeys = before.hasKeys;
        setWorks = before.armed;
        armed = true;
      }
      // the keys must be this attempt's only; a table with none has nothing to clear (one round trip less): a channel
      // no Dial has touched, or one whose last Dial got no SIP response: the outcome read's HANGUPCAUSE_KEYS() is the
      // whole table (func_hangupcause.c:178-197), and only a Dial adds to it, forwarding its legs' cause frames to
      // this channel (app_dial.c:1809-1810 → channel.c:4647). It cannot go into a read: no dialplan function clears the
      // table (func_hangupcause.c registers HANGUPCAUSE and HANGUPCAUSE_KEYS, both read-only), and without it the next
      // outcome read would list the earlier Dial's keys too, in hash order (channel_internal_api.c:1281), not Dial order
      if (staleKeys) {
        const clear = await channel.exec('HangupCauseClear', '');
        if (clear.resultInt === -2) log.warn('HangupCauseClear is missing (func_hangupcause not loaded): SIP codes may be wrong');
      }
      // a Dial cut short may have left keys nobody read
      staleKeys = true;
    } catch (err) {
      release(usable, 'AGI error before the Dial');
      log.warn({ err: (err as Error).message }, 'AGI command before the Dial failed; no Dial placed');
      return { ending: { ...ending, status: channel.hungUp ? 'CANCEL' : 'ERROR' }, dials, capped, overBudget, setWorks };
    }
    if (channel.hungUp) {
      release(usable, 'caller gone before the Dial');
      return { ending: { ...ending, status: 'CANCEL' }, dials, capped, overBudget, setWorks };
    }

    const data = buildDialData(carriers.map((c) => buildChannel(c, number)), timers.ring, timers.progress, carriers[0]?.dialOptions ?? '');
    const startedAt = now();
    dials++;
    legsDialed += usable.length;
    const run = await runAttempt(channel, data, causeBefore, now, setWorks);
    // Dial returned: an answered call was bridged until now, so its channels are free only here
    held.releaseAll();
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
      return { ending: { status: channel.hungUp ? 'CANCEL' : 'ERROR', carrier: label, dialStatus: '', cause: null }, dials, capped, overBudget, setWorks };
    }
    const o = run.outcome;
    staleKeys = o.keys.length > 0;
    causeBefore = o.channelCause;
    const more = g + 1 < groups.length && legsDialed < route.maxAttempts;
    const legs = usable.map((t) => legOf(o, t, usable));
    const judged = judgeGroup(o, usable, legs);
    const timerNote = progressTimerNote(o, carriers, progress, timers.progress, run.endedAt - startedAt);
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
            label: answeredHere ? 'answered' : judged.verdict.kind === 'stop' ? 'stop' : verdictLabel(v ?? judged.verdict, more),
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
    ending = { status: 'EXHAUSTED', carrier: decider?.carrier.name ?? label, dialStatus: o.dialStatus, cause };
    if (judged.verdict.kind === 'stop') {
      return { ending: { ...ending, status: statusAfterStop(o.dialStatus, judged.verdict, o.callerLeft) }, dials, capped, overBudget, setWorks };
    }
  }
  return { ending, dials, capped, overBudget, setWorks };
}

/**
 * For `explain`: a Dial the progress timer ended (CHANUNAVAIL, nothing rang, as long as the timer) of a carrier in
 * adaptive mode says where its timeout came from then (`; progress timeout 1.3 s learned (p99 850 ms × 1.5 over 60
 * delays)`): `plan` and `status` show only today's value. Empty otherwise, so fixed carriers' rows read as before.
 */
function progressTimerNote(o: AttemptOutcome, carriers: readonly CarrierConfig[], progress: readonly ProgressTimeout[], timerS: number, tookMs: number): string {
  if (!carriers.some((c) => c.adaptiveProgress !== null) || timerS <= 0) return '';
  if (o.dialStatus !== 'CHANUNAVAIL' || alerted(o) || tookMs < timerS * 1000 - 100) return '';
  const longest = progress.reduce<ProgressTimeout | null>((a, t) => (a === null || t.seconds > a.seconds ? t : a), null);
  return longest ? `; progress timeout ${progressText(longest)}` : '';
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
