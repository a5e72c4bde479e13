import type { CarrierEvent, HealthState } from '../health/types.js';
import type { Strategy } from '../config/types.js';

/** `interrupted`: a Dial the daemon gave up on (shutdown grace over, agi.maxCallDuration): its outcome is unknown. */
export type AttemptVerdict = 'answered' | 'stop' | 'next' | 'skipped' | 'exhausted' | 'invalid' | 'interrupted';

/** One row per Dial, per skipped carrier, or per refused call: what ops query to learn what happened. */
export interface AttemptRecord {
  readonly uniqueid: string;
  /**
   * One AGI run of the call, drawn when the run starts: two runs on one channel share uniqueid (a dialplan that
   * calls the daemon twice, a retry context), so (serverId, uniqueid, runId, attempt) is what makes a row unique.
   * Absent in records spooled by a version before it (they are stored with run_id '').
   */
  readonly runId?: string;
  /** 1-based sequence within the call; skips and refusals are numbered too, so (uniqueid, runId, attempt) is unique. */
  readonly attempt: number;
  readonly serverId: string;
  readonly route: string;
  readonly strategy: Strategy | '';
  /** Carrier name; several joined by `&` for a simultaneous Dial; empty when no carrier was involved. */
  readonly carrier: string;
  readonly dialString: string;
  readonly number: string;
  readonly callerCode: string;
  readonly leadId: number | null;
  readonly campaign: string;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  readonly answeredAt: number | null;
  readonly endedAt: number;
  /** Dial start to answer (answered) or to Dial's end (not answered), on the daemon's clock. */
  readonly ringMs: number;
  /** ANSWEREDTIME_MS: Asterisk's talk time of an answered Dial; 0 otherwise. */
  readonly talkMs: number;
  /**
   * Post-dial delay: the earlier of RINGTIME_MS and PROGRESSTIME_MS, ms from the dialed channel's creation to the
   * first 180 / 183 (app_dial.c wait_for_answer()); null when neither came. Absent in records spooled before schema 4.
   */
  readonly pddMs?: number | null;
  /** RINGTIME_MS / PROGRESSTIME_MS as Dial left them; null when unset. Absent in records spooled before schema 4. */
  readonly ringtimeMs?: number | null;
  readonly progresstimeMs?: number | null;
  readonly dialStatus: string;
  readonly cause: number | null;
  readonly sipCode: number | null;
  readonly sipReason: string;
  readonly verdict: AttemptVerdict;
  readonly reason: string;
  readonly healthState: HealthState | '';
  /** The prefix group (prefixGroups) the dialed number fell in; null = none. Absent in records spooled before schema 6. */
  readonly prefixGroup?: string | null;
  /**
   * Why this carrier was dialed (or skipped) out of the route's order: `demoted: <why>` (quality ordering, a
   * `demote` budget), `moved ahead of demoted <carriers>`; null = in its place. Absent in records spooled before schema 9.
   */
  readonly orderReason?: string | null;
}

/** Where attempt records and carrier state changes go. Implementations must not block or throw: the call path only hands records over. */
export interface RecordSink {
  attempt(record: AttemptRecord): void;
  carrierEvent(event: CarrierEvent): void;
}
