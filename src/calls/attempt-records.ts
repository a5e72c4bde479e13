import type { HealthState } from '../health/types.js';
import type { Logger } from '../log.js';
import type { AttemptOutcome, LegOutcome } from '../routing/outcome.js';
import { attemptCause, type Verdict } from '../routing/verdict.js';
import type { AttemptRecord, AttemptVerdict, RecordSink } from './records.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What every record of one call shares. */
export type RecordBase = Pick<AttemptRecord, 'uniqueid' | 'runId' | 'serverId' | 'route' | 'strategy' | 'number' | 'callerCode' | 'leadId' | 'campaign' | 'prefixGroup'>;

export type RecordFields = Partial<AttemptRecord> & Pick<AttemptRecord, 'verdict' | 'reason' | 'startedAt' | 'endedAt'>;

/**
 * Numbers and hands over the records of one call. The sink must never throw; if it does, the record is still in
 * the call's log line and the call goes on.
 */
export class CallRecorder {
  readonly records: AttemptRecord[] = [];
  /** Carrier → why it is dialed where it is (demoted, moved ahead of a demoted one): on each of its rows. */
  private readonly notes = new Map<string, string>();

  constructor(
    private base: RecordBase,
    private readonly sink: RecordSink,
    private readonly log: Logger,
  ) {}

  /** Every later row of this carrier carries `note` as its orderReason. */
  note(carrier: string, note: string): void {
    this.notes.set(carrier, note);
  }

  update(base: Partial<RecordBase>): void {
    this.base = { ...this.base, ...base };
  }

  emit(f: RecordFields): AttemptRecord {
    const r: Mutable<AttemptRecord> = {
      ...this.base,
      attempt: this.records.length + 1,
      carrier: '',
      dialString: '',
      answeredAt: null,
      ringMs: 0,
      talkMs: 0,
      pddMs: null,
      ringtimeMs: null,
      progresstimeMs: null,
      dialStatus: '',
      cause: null,
      sipCode: null,
      sipReason: '',
      healthState: '',
      orderReason: null,
      ...f,
    };
    const note = this.notes.size > 0 ? this.notes.get(r.carrier) : undefined;
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
  const alerts = [o.ringMs, o.progressMs].filter((v): v is number => v !== null && v >= 0);
  return { pddMs: alerts.length > 0 ? Math.min(...alerts) : null, ringtimeMs: o.ringMs, progresstimeMs: o.progressMs };
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
  return {
    verdict: v.label,
    reason: v.reason,
    carrier: at.carrier,
    dialString: at.dialString,
    healthState: at.health,
    startedAt: at.startedAt,
    endedAt: at.endedAt,
    ...attemptTimings(v.answered, o.answeredMs, at.startedAt, at.endedAt),
    ...postDialDelay(o),
    dialStatus: v.dialStatus ?? o.dialStatus,
    cause: attemptCause(o, leg),
    sipCode: leg?.sipCode ?? null,
    sipReason: leg?.sipReason ?? '',
  };
}
