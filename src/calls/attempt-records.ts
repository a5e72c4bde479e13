import type { HealthState } from '../health/types.js';
import type { Logger } from '../log.js';
import type { AttemptOutcome, LegOutcome } from '../routing/outcome.js';
import { attemptCause, type Verdict } from '../routing/verdict.js';
import type { AttemptRecord, AttemptVerdict, RecordSink } from './records.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What every record of one call shares. */
export type RecordBase = Pick<AttemptRecord, 'uniqueid' | 'runId' | 'serverId' | 'route' | 'strategy' | 'number' | 'callerCode' | 'leadId' | 'campaign' | 'prefixGroup'>;

export type RecordFields = Partial<AttemptRecord> & Pick<AttemptRecord, 'verdict' | 'reason' | 'startedAt' | 'endedAt'>;

/** `k in f`, typed: the key was given (its value may be undefined, which a spread would have kept too). */
function has<K extends keyof AttemptRecord>(f: RecordFields, k: K): f is RecordFields & Pick<AttemptRecord, K> {
  return k in f;
}

/**
 * Numbers and hands over the records of one call. The sink must never throw; if it does, the record is still in
 * the call's log line and the call goes on.
 */
export class CallRecorder {
  readonly records: AttemptRecord[] = [];
  /** Carrier → why it is dialed where it is (demoted, moved ahead of a demoted one): on each of its rows. Made on the first note: most calls have none. */
  private notes: Map<string, string> | null = null;

  constructor(
    private base: RecordBase,
    private readonly sink: RecordSink,
    private readonly log: Logger,
  ) {}

  /** Every later row of this carrier carries `note` as its orderReason. */
  note(carrier: string, note: string): void {
    (this.notes ??= new Map()).set(carrier, note);
  }

  update(base: Partial<RecordBase>): void {
    this.base = { ...this.base, ...base };
  }

  /**
   * One literal of one shape per record, every key written out: spreading the base and `f` (whose shape differs at
   * each call site) took V8's slow generic path, the daemon's top JS function per call. A key present in `f` wins,
   * as in a spread, also when its value is undefined.
   */
  emit(f: RecordFields): AttemptRecord {
    const b = this.base;
    const r: Mutable<AttemptRecord> = {
      uniqueid: has(f, 'uniqueid') ? f.uniqueid : b.uniqueid,
      runId: has(f, 'runId') ? f.runId : b.runId,
      serverId: has(f, 'serverId') ? f.serverId : b.serverId,
      route: has(f, 'route') ? f.route : b.route,
      strategy: has(f, 'strategy') ? f.strategy : b.strategy,
      number: has(f, 'number') ? f.number : b.number,
      callerCode: has(f, 'callerCode') ? f.callerCode : b.callerCode,
      leadId: has(f, 'leadId') ? f.leadId : b.leadId,
      campaign: has(f, 'campaign') ? f.campaign : b.campaign,
      prefixGroup: has(f, 'prefixGroup') ? f.prefixGroup : b.prefixGroup,
      attempt: has(f, 'attempt') ? f.attempt : this.records.length + 1,
      carrier: has(f, 'carrier') ? f.carrier : '',
      dialString: has(f, 'dialString') ? f.dialString : '',
      answeredAt: has(f, 'answeredAt') ? f.answeredAt : null,
      ringMs: has(f, 'ringMs') ? f.ringMs : 0,
      talkMs: has(f, 'talkMs') ? f.talkMs : 0,
      pddMs: has(f, 'pddMs') ? f.pddMs : null,
      ringtimeMs: has(f, 'ringtimeMs') ? f.ringtimeMs : null,
      progresstimeMs: has(f, 'progresstimeMs') ? f.progresstimeMs : null,
      dialStatus: has(f, 'dialStatus') ? f.dialStatus : '',
      cause: has(f, 'cause') ? f.cause : null,
      sipCode: has(f, 'sipCode') ? f.sipCode : null,
      sipReason: has(f, 'sipReason') ? f.sipReason : '',
      healthState: has(f, 'healthState') ? f.healthState : '',
      orderReason: has(f, 'orderReason') ? f.orderReason : null,
      verdict: f.verdict,
      reason: f.reason,
      startedAt: f.startedAt,
      endedAt: f.endedAt,
    };
    const note = this.notes?.get(r.carrier);
    if (note !== undefined) r.orderReason = note;
    this.records.push(r);
    try {
      this.sink.attempt(r);
    } catch (err) {
      this.log.error({ err }, 'attempt sink threw; record kept in the call log line only');
    }
    if (this.log.isLevelEnabled('debug')) {
      this.log.debug(
        { attempt: r.attempt, carrier: r.carrier, verdict: r.verdict, reason: r.reason, dialStatus: r.dialStatus, cause: r.cause, sipCode: r.sipCode, pddMs: r.pddMs, ringMs: r.ringMs, talkMs: r.talkMs },
        'attempt',
      );
    }
    return r;
  }

  skip(carrier: string, health: HealthState, reason: string, at: number): void {
    this.emit({ verdict: 'skipped', carrier, healthState: health, reason, startedAt: at, endedAt: at });
  }
}

/**
 * Time to answer and talk time. Talk time is ANSWEREDTIME_MS, Asterisk's own measure (set_duration_var(),
 * app_dial.c:1253), kept as it is; time to answer is what is left of the Dial on our clock (never below 0).
 * DIALEDTIME is the caller channel's age, so it is not used.
 */
export function attemptTimings(answered: boolean, answeredMs: number | null, startedAt: number, endedAt: number): Pick<AttemptRecord, 'answeredAt' | 'ringMs' | 'talkMs'> {
  if (!answered) return { answeredAt: null, ringMs: endedAt - startedAt, talkMs: 0 };
  const talkMs = Math.max(0, answeredMs ?? 0);
  const answeredAt = Math.max(startedAt, endedAt - talkMs);
  return { answeredAt, ringMs: answeredAt - startedAt, talkMs };
}

/**
 * Post-dial delay: RINGTIME_MS and PROGRESSTIME_MS are each set once per Dial, at its first 180 / first 183 with
 * SDP, as ms since the dialed channel was created (app_dial.c:1600, :1634); the earlier one is when the caller
 * first heard something. Null when neither came (a 503 without ringing, a swallowed INVITE).
 */
export function postDialDelay(o: Pick<AttemptOutcome, 'ringMs' | 'progressMs'>): Pick<AttemptRecord, 'pddMs' | 'ringtimeMs' | 'progresstimeMs'> {
  const ring = o.ringMs !== null && o.ringMs >= 0 ? o.ringMs : null;
  const progress = o.progressMs !== null && o.progressMs >= 0 ? o.progressMs : null;
  const pddMs = ring === null ? progress : progress === null ? ring : Math.min(ring, progress);
  return { pddMs, ringtimeMs: o.ringMs, progresstimeMs: o.progressMs };
}

export function verdictLabel(v: Verdict, more: boolean): AttemptVerdict {
  if (v.kind === 'stop') return v.answered ? 'answered' : 'stop';
  return more ? 'next' : 'exhausted';
}

/** The record of one carrier's part in a Dial: its own leg's SIP response and cause, the Dial's status and timers. */
export function dialRecordFields(
  o: AttemptOutcome,
  leg: LegOutcome | null,
  v: { label: AttemptVerdict; reason: string; answered: boolean; dialStatus?: string },
  at: { carrier: string; dialString: string; health: HealthState; startedAt: number; endedAt: number },
): RecordFields {
  const times = attemptTimings(v.answered, o.answeredMs, at.startedAt, at.endedAt);
  const pdd = postDialDelay(o);
  return {
    verdict: v.label,
    reason: v.reason,
    carrier: at.carrier,
    dialString: at.dialString,
    healthState: at.health,
    startedAt: at.startedAt,
    endedAt: at.endedAt,
    // written out, not spread: keys after a spread are defined through V8's runtime, on every Dial
    answeredAt: times.answeredAt,
    ringMs: times.ringMs,
    talkMs: times.talkMs,
    pddMs: pdd.pddMs,
    ringtimeMs: pdd.ringtimeMs,
    progresstimeMs: pdd.progresstimeMs,
    dialStatus: v.dialStatus ?? o.dialStatus,
    cause: attemptCause(o, leg),
    sipCode: leg?.sipCode ?? null,
    sipReason: leg?.sipReason ?? '',
  };
}
