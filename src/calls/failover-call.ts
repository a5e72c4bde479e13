import type { AgiChannel } from '../agi/channel.js';
import type { AgiRequest } from '../agi/request.js';
import type { Clock } from '../clock.js';
import { findRoute, type RouteEntry, type ValidatedRouting } from '../config/carriers.js';
import type { CarrierConfig } from '../config/types.js';
import type { HealthView } from '../health/types.js';
import { maskNumber, type Logger } from '../log.js';
import { classify, policyFor, type Verdict } from '../routing/classify.js';
import { buildChannel, buildDialData } from '../routing/dial-string.js';
import { normalizeNumber } from '../routing/number.js';
import { OUTCOME_EXPRESSION, parseOutcome, parseTechCause, type Outcome } from '../routing/outcome.js';
import { planAttempts, type PlannedTarget } from '../routing/plan.js';
import { statusAfterStop, type FailoverStatus } from './final-status.js';
import { carrierOfChannel } from './leg-resolver.js';
import type { AttemptRecord, AttemptVerdict, RecordSink } from './records.js';

export interface CallContext {
  readonly routing: ValidatedRouting;
  readonly health: HealthView;
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

/** Per-call state that every record shares. */
interface CallState {
  readonly req: AgiRequest;
  readonly ctx: CallContext;
  log: Logger;
  route: RouteEntry | null;
  number: string;
  readonly campaign: string;
  /** agi_arg_3: a ring timeout in seconds that wins over the carrier's (VICIdial's campaign dial timeout, ${CAMPDTO}). */
  readonly ringOverride: number | null;
  readonly records: AttemptRecord[];
}

function ringOverride(arg: string | undefined): number | null {
  if (arg === undefined || !/^\d{1,4}$/.test(arg.trim())) return null;
  const n = Number(arg.trim());
  return n >= 1 && n <= 3600 ? n : null;
}

type RecordFields = Partial<AttemptRecord> & Pick<AttemptRecord, 'verdict' | 'reason' | 'startedAt' | 'endedAt'>;

function emit(s: CallState, f: RecordFields): AttemptRecord {
  const r: AttemptRecord = {
    uniqueid: s.req.uniqueid,
    attempt: s.records.length + 1,
    serverId: s.ctx.serverId,
    route: s.route?.name ?? s.req.script,
    strategy: s.route?.strategy ?? '',
    carrier: '',
    dialString: '',
    number: s.number,
    callerCode: s.req.callerCode ?? '',
    leadId: s.req.leadId,
    campaign: s.campaign,
    answeredAt: null,
    ringMs: 0,
    talkMs: 0,
    dialStatus: '',
    cause: null,
    sipCode: null,
    sipReason: '',
    healthState: '',
    ...f,
  };
  s.records.push(r);
  try {
    s.ctx.sink.attempt(r);
  } catch (err) {
    s.log.error({ err }, 'attempt sink threw; record kept in the call log line only');
  }
  s.log.info(
    { attempt: r.attempt, carrier: r.carrier, verdict: r.verdict, reason: r.reason, dialStatus: r.dialStatus, cause: r.cause, sipCode: r.sipCode, ringMs: r.ringMs, talkMs: r.talkMs },
    'attempt',
  );
  return r;
}

/** Sets the result variables; a closed socket makes this a no-op, never an error. */
async function report(channel: AgiChannel, log: Logger, vars: Record<string, string>): Promise<void> {
  for (const [name, value] of Object.entries(vars)) {
    if (channel.closed) return;
    try {
      await channel.setVariable(name, value);
    } catch (err) {
      log.warn({ err: (err as Error).message, name }, 'could not set result variable');
      return;
    }
  }
}

function timings(o: Outcome | null, startedAt: number, endedAt: number): Pick<AttemptRecord, 'answeredAt' | 'ringMs' | 'talkMs'> {
  if (o && o.dialStatus === 'ANSWER') {
    const talkMs = o.answeredTime !== null ? Math.min(o.answeredTime * 1000, endedAt - startedAt) : 0;
    const answeredAt = endedAt - talkMs;
    return { answeredAt, ringMs: answeredAt - startedAt, talkMs };
  }
  return { answeredAt: null, ringMs: endedAt - startedAt, talkMs: 0 };
}

/**
 * Runs one outbound call: route, number check, plan, then Dials one carrier at a time until a verdict says stop.
 * Every Dial that was sent produces a record, whatever happens after it; any doubt after a Dial stops the call,
 * because a second Dial could ring the same person twice.
 */
export async function handleCall(channel: AgiChannel, req: AgiRequest, ctx: CallContext): Promise<CallResult> {
  const rawNumber = req.args[0] !== undefined && req.args[0] !== '' ? req.args[0] : req.extension;
  const s: CallState = {
    req,
    ctx,
    log: ctx.log.child({ uniqueid: req.uniqueid, script: req.script, number: maskNumber(rawNumber, ctx.showNumbers), leadId: req.leadId ?? undefined }),
    route: null,
    number: '',
    campaign: req.args[1] ?? '',
    ringOverride: ringOverride(req.args[2]),
    records: [],
  };
  const now = (): number => ctx.clock.now();
  const t0 = now();

  const route = findRoute(ctx.routing, req.script, rawNumber, req.params.get('route'));
  if (!route) {
    s.log.error({ request: req.request }, 'no route for this AGI script and number: FAILOVER_STATUS=NOROUTE, no call placed');
    emit(s, { verdict: 'invalid', reason: `no route for script "${req.script}"`, startedAt: t0, endedAt: t0, number: maskNumber(rawNumber, false) });
    await report(channel, s.log, { FAILOVER_STATUS: 'NOROUTE', FAILOVER_ATTEMPTS: '0' });
    return { route: req.script, status: 'NOROUTE', carrier: '', dials: 0, records: s.records };
  }
  s.route = route;
  s.log = s.log.child({ route: route.name });
  const normalized = normalizeNumber(rawNumber, route);
  if (!normalized.ok) {
    s.log.error({ reason: normalized.reason }, 'number refused: FAILOVER_STATUS=INVALID, no call placed');
    emit(s, { verdict: 'invalid', reason: normalized.reason, startedAt: t0, endedAt: t0, number: rawNumber.replace(/[^\x20-\x7e]/g, '?').slice(0, 32) });
    await report(channel, s.log, { FAILOVER_STATUS: 'INVALID', FAILOVER_ATTEMPTS: '0' });
    return { route: route.name, status: 'INVALID', carrier: '', dials: 0, records: s.records };
  }
  s.number = normalized.number;

  const plan = planAttempts({
    route,
    carriers: ctx.routing.carriers,
    health: ctx.health.snapshot(),
    rotation: route.strategy === 'round_robin' ? ctx.rotation(route.name) : 0,
    random: ctx.random(),
  });
  for (const sk of plan.skipped) {
    emit(s, { verdict: 'skipped', carrier: sk.carrier, reason: sk.reason, healthState: sk.health, startedAt: t0, endedAt: t0 });
  }
  if (plan.failedOpen) s.log.warn({ route: route.name }, 'every carrier of the route is down: trying them anyway (whenAllDown=try)');

  const result =
    route.strategy === 'simultaneous' ? await dialTogether(channel, s, plan.targets) : await dialInTurn(channel, s, plan.targets);
  if (result.status === 'EXHAUSTED' && !s.records.some((r) => r.verdict === 'exhausted')) {
    // every call that found no carrier ends on an 'exhausted' row, so ops can count them without guessing from skips
    const at = ctx.clock.now();
    emit(s, { verdict: 'exhausted', reason: result.dials === 0 ? 'no carrier could be tried: every carrier was skipped' : 'no carrier left to try', startedAt: at, endedAt: at });
  }
  const vars: Record<string, string> = {
    FAILOVER_STATUS: result.status,
    FAILOVER_CARRIER: result.carrier,
    FAILOVER_ATTEMPTS: String(result.dials),
  };
  // VICIdial's h extension and the dialplan read DIALSTATUS: it must be the last attempt's, not a leftover
  vars['DIALSTATUS'] = result.dialStatus || 'CHANUNAVAIL';
  await report(channel, s.log, vars);
  s.log.info({ status: result.status, carrier: result.carrier, dials: result.dials, ms: now() - t0 }, 'call done');
  return { route: route.name, status: result.status, carrier: result.carrier, dials: result.dials, records: s.records };
}

interface LoopResult {
  status: FailoverStatus;
  carrier: string;
  dials: number;
  dialStatus: string;
}

/** What happened to one Dial: an outcome when Asterisk answered every command, or the error that cut it short. */
type DialRun = { ok: true; outcome: Outcome; endedAt: number } | { ok: false; error: Error; endedAt: number };

async function runDial(channel: AgiChannel, s: CallState, data: string): Promise<DialRun> {
  const clock = s.ctx.clock;
  let dialReply;
  try {
    dialReply = await channel.exec('Dial', data, null);
  } catch (err) {
    return { ok: false, error: err as Error, endedAt: clock.now() };
  }
  const endedAt = clock.now();
  const dialResult = dialReply.resultInt ?? 0;
  try {
    const vars = await channel.getFullVariable(OUTCOME_EXPRESSION);
    return { ok: true, outcome: parseOutcome(vars.data ?? '', dialResult, channel.hungUp), endedAt };
  } catch (err) {
    return { ok: false, error: err as Error, endedAt };
  }
}

async function clearCauses(channel: AgiChannel, s: CallState): Promise<boolean> {
  try {
    const r = await channel.exec('HangupCauseClear', '');
    if (r.resultInt === -2) s.log.warn('HangupCauseClear is missing (func_hangupcause not loaded): SIP codes may be wrong');
    return true;
  } catch (err) {
    s.log.warn({ err: (err as Error).message }, 'HangupCauseClear failed; no Dial placed');
    return false;
  }
}

function verdictLabel(v: Verdict, more: boolean): AttemptVerdict {
  if (v.kind === 'stop') return v.answered ? 'answered' : 'stop';
  return more ? 'next' : 'exhausted';
}

async function dialInTurn(channel: AgiChannel, s: CallState, targets: readonly PlannedTarget[]): Promise<LoopResult> {
  const route = s.route as RouteEntry;
  const { ctx } = s;
  let dials = 0;
  let last: LoopResult = { status: 'EXHAUSTED', carrier: '', dials: 0, dialStatus: '' };
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i] as PlannedTarget;
    const c = t.carrier;
    if (dials >= route.maxAttempts) {
      emit(s, { verdict: 'skipped', carrier: c.name, healthState: t.health, reason: `maxAttempts ${route.maxAttempts} reached`, startedAt: ctx.clock.now(), endedAt: ctx.clock.now() });
      continue;
    }
    if (t.health === 'probing' && !ctx.health.claimProbe(c.name)) {
      emit(s, { verdict: 'skipped', carrier: c.name, healthState: t.health, reason: 'half-open: another call holds the trial', startedAt: ctx.clock.now(), endedAt: ctx.clock.now() });
      continue;
    }
    if (channel.hungUp || channel.closed) {
      return { ...last, status: 'CANCEL', dials };
    }
    if (!(await clearCauses(channel, s))) return { ...last, status: channel.hungUp ? 'CANCEL' : 'ERROR', dials };
    const dialString = buildChannel(c, s.number);
    const data = buildDialData([dialString], s.ringOverride ?? c.ringTimeout, c.progressTimeout, c.dialOptions);
    const startedAt = ctx.clock.now();
    dials++;
    const run = await runDial(channel, s, data);
    const more = dials < route.maxAttempts && i + 1 < targets.length;
    if (!run.ok) {
      // proves nothing about the carrier, but frees a half-open trial at once
      ctx.health.recordAttempt({ carrier: c.name, carrierFailure: false, carrierSuccess: false, reason: 'AGI error', at: run.endedAt });
      // the Dial may have rung someone: record it and never dial again
      emit(s, { verdict: 'stop', carrier: c.name, dialString: data, healthState: t.health, reason: `AGI error during attempt: ${run.error.message}`, startedAt, endedAt: run.endedAt, ringMs: run.endedAt - startedAt });
      s.log.error({ err: run.error.message, carrier: c.name }, 'attempt cut short by an AGI error: stopping');
      return { status: channel.hungUp ? 'CANCEL' : 'ERROR', carrier: c.name, dials, dialStatus: '' };
    }
    const o = run.outcome;
    const verdict = classify(o, policyFor(c));
    ctx.health.recordAttempt({ carrier: c.name, carrierFailure: verdict.carrierFault, carrierSuccess: verdict.carrierProven, reason: verdict.reason, at: run.endedAt });
    emit(s, {
      verdict: verdictLabel(verdict, more),
      carrier: c.name,
      dialString: data,
      healthState: t.health,
      reason: verdict.reason,
      startedAt,
      endedAt: run.endedAt,
      ...timings(o, startedAt, run.endedAt),
      dialStatus: o.dialStatus,
      cause: o.cause,
      sipCode: o.sipCode,
      sipReason: o.sipReason,
    });
    last = { status: 'EXHAUSTED', carrier: c.name, dials, dialStatus: o.dialStatus };
    if (verdict.kind === 'stop') return { status: statusAfterStop(o, verdict), carrier: c.name, dials, dialStatus: o.dialStatus };
  }
  return { ...last, dials };
}

/** One Dial of A&B&C: the first to answer wins; each leg's own SIP code is read back for its record and breaker. */
async function dialTogether(channel: AgiChannel, s: CallState, targets: readonly PlannedTarget[]): Promise<LoopResult> {
  const { ctx } = s;
  const usable: PlannedTarget[] = [];
  for (const t of targets) {
    if (t.health === 'probing' && !ctx.health.claimProbe(t.carrier.name)) {
      emit(s, { verdict: 'skipped', carrier: t.carrier.name, healthState: t.health, reason: 'half-open: another call holds the trial', startedAt: ctx.clock.now(), endedAt: ctx.clock.now() });
      continue;
    }
    usable.push(t);
  }
  if (usable.length === 0) return { status: 'EXHAUSTED', carrier: '', dials: 0, dialStatus: '' };
  if (channel.hungUp || channel.closed) return { status: 'CANCEL', carrier: '', dials: 0, dialStatus: '' };
  if (!(await clearCauses(channel, s))) return { status: channel.hungUp ? 'CANCEL' : 'ERROR', carrier: '', dials: 0, dialStatus: '' };
  const carriers = usable.map((t) => t.carrier);
  const data = buildDialData(
    carriers.map((c) => buildChannel(c, s.number)),
    s.ringOverride ?? Math.max(...carriers.map((c) => c.ringTimeout)),
    Math.max(...carriers.map((c) => c.progressTimeout)),
    carriers[0]?.dialOptions ?? '',
  );
  const startedAt = ctx.clock.now();
  const run = await runDial(channel, s, data);
  const names = carriers.map((c) => c.name).join('&');
  if (!run.ok) {
    emit(s, { verdict: 'stop', carrier: names, dialString: data, reason: `AGI error during attempt: ${run.error.message}`, startedAt, endedAt: run.endedAt, ringMs: run.endedAt - startedAt });
    return { status: channel.hungUp ? 'CANCEL' : 'ERROR', carrier: names, dials: 1, dialStatus: '' };
  }
  const o = run.outcome;
  const verdict = classify(o);
  // per-leg tech causes: HANGUPCAUSE(key,tech) for every dialed channel
  const legs = new Map<string, { channel: string; tech: string }>();
  for (const key of o.channels) {
    const c = carrierOfChannel(key, carriers);
    if (!c || channel.closed) continue;
    try {
      const r = await channel.getFullVariable(`\${HANGUPCAUSE(${key},tech)}`);
      legs.set(c.name, { channel: key, tech: r.data ?? '' });
    } catch {
      break;
    }
  }
  let winner = '';
  for (const t of usable) {
    const c = t.carrier;
    const leg = legs.get(c.name);
    const { sipCode, sipReason } = parseTechCause(leg?.tech ?? '');
    const answeredHere = verdict.kind === 'stop' && verdict.answered && sipCode !== null && sipCode >= 200 && sipCode < 300;
    if (answeredHere) winner = c.name;
    const legOutcome: Outcome = { ...o, sipCode, sipReason, tech: leg?.tech ?? '', dialStatus: answeredHere ? 'ANSWER' : o.dialStatus === 'ANSWER' ? 'CANCEL' : o.dialStatus };
    const legVerdict = answeredHere ? verdict : o.dialStatus === 'ANSWER' ? null : classify(legOutcome, policyFor(c));
    if (legVerdict) {
      ctx.health.recordAttempt({ carrier: c.name, carrierFailure: legVerdict.carrierFault, carrierSuccess: legVerdict.carrierProven, reason: legVerdict.reason, at: run.endedAt });
    }
    emit(s, {
      verdict: answeredHere ? 'answered' : verdict.kind === 'stop' ? 'stop' : 'exhausted',
      carrier: c.name,
      dialString: data,
      healthState: t.health,
      reason: answeredHere ? 'answered' : o.dialStatus === 'ANSWER' ? 'another leg answered' : (legVerdict?.reason ?? verdict.reason),
      startedAt,
      endedAt: run.endedAt,
      ...timings(answeredHere ? o : null, startedAt, run.endedAt),
      dialStatus: legOutcome.dialStatus,
      cause: o.cause,
      sipCode,
      sipReason,
    });
  }
  if (verdict.kind === 'stop') return { status: statusAfterStop(o, verdict), carrier: winner || names, dials: 1, dialStatus: o.dialStatus };
  return { status: 'EXHAUSTED', carrier: names, dials: 1, dialStatus: o.dialStatus };
}

