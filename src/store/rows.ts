import type { AttemptRecord } from '../calls/records.js';
import type { CarrierEvent } from '../health/types.js';

/** A carrier event with the key that makes its INSERT idempotent across spool replays. */
export interface KeyedEvent extends CarrierEvent {
  readonly key: string;
  readonly serverId: string;
}

/** What sits in the queue and in the spool: one line of JSON each. */
export type StoreItem = { readonly t: 'a'; readonly r: AttemptRecord } | { readonly t: 'e'; readonly r: KeyedEvent };

/** Column sizes of sql/migrations (characters), so an over-long value is cut, never rejected. */
const ATTEMPT_LIMITS = {
  serverId: 64, uniqueid: 32, runId: 36, route: 64, strategy: 16, carrier: 255, dialString: 512, number: 32, callerCode: 30,
  campaign: 64, dialStatus: 16, sipReason: 64, reason: 255, healthState: 16, prefixGroup: 64, orderReason: 255,
} as const;
const EVENT_LIMITS = { serverId: 64, carrier: 64, from: 16, to: 16, reason: 255 } as const;

const SMALLINT_UNSIGNED = 65535;
const INT_UNSIGNED = 4294967295;

export interface Truncation {
  readonly field: string;
  readonly length: number;
}

/** A number its column cannot hold: stored as NULL (the log line carries the value), never clamped. */
export interface OutOfRange {
  readonly field: string;
  readonly value: number | string;
}

function cut<T extends object>(rec: T, limits: Record<string, number>, out: Truncation[]): T {
  let copy: T | null = null;
  for (const [field, max] of Object.entries(limits)) {
    const v = (rec as Record<string, unknown>)[field];
    if (typeof v === 'string' && v.length > max) {
      copy ??= { ...rec };
      (copy as Record<string, unknown>)[field] = v.slice(0, max);
      out.push({ field, length: v.length });
    }
  }
  return copy ?? rec;
}

/** An unsigned integer column's value, or null when it does not fit (reported in out). Fractions round. */
export function fitUnsigned(field: string, n: number | null | undefined, max: number, out: OutOfRange[]): number | null {
  if (n === null || n === undefined) return null;
  const v = typeof n === 'number' && Number.isFinite(n) ? Math.round(n) : NaN;
  if (Number.isNaN(v) || v < 0 || v > max || !Number.isSafeInteger(v)) {
    out.push({ field, value: typeof n === 'number' && Number.isFinite(n) ? n : String(n) });
    return null;
  }
  return v;
}

export const ATTEMPT_COLUMNS = [
  'server_id', 'uniqueid', 'run_id', 'attempt', 'route', 'strategy', 'carrier', 'dial_string', 'number_dialed', 'caller_code', 'lead_id', 'campaign',
  'started_at', 'answered_at', 'ended_at', 'ring_ms', 'talk_ms', 'pdd_ms', 'ringtime_ms', 'progresstime_ms', 'dialstatus', 'cause', 'sip_code', 'sip_reason', 'verdict', 'reason', 'health_state', 'prefix_group', 'order_reason',
] as const;

/**
 * The row of one attempt record, or null when it cannot be stored at all (its attempt number, part of the key,
 * does not fit). Nullable numbers that do not fit become NULL and are listed in outOfRange.
 */
export function attemptRow(raw: AttemptRecord, truncated: Truncation[], outOfRange: OutOfRange[] = []): unknown[] | null {
  const r = cut(raw, ATTEMPT_LIMITS, truncated);
  const attempt = fitUnsigned('attempt', r.attempt, SMALLINT_UNSIGNED, outOfRange);
  if (attempt === null) return null;
  return [
    r.serverId, r.uniqueid, r.runId ?? '', attempt, r.route, r.strategy, r.carrier, r.dialString, r.number, r.callerCode,
    fitUnsigned('leadId', r.leadId, INT_UNSIGNED, outOfRange), r.campaign, new Date(r.startedAt), r.answeredAt === null ? null : new Date(r.answeredAt), new Date(r.endedAt),
    fitUnsigned('ringMs', r.ringMs, INT_UNSIGNED, outOfRange), fitUnsigned('talkMs', r.talkMs, INT_UNSIGNED, outOfRange),
    // absent in a record spooled before schema 4: NULL, unknown
    fitUnsigned('pddMs', r.pddMs, INT_UNSIGNED, outOfRange), fitUnsigned('ringtimeMs', r.ringtimeMs, INT_UNSIGNED, outOfRange),
    fitUnsigned('progresstimeMs', r.progresstimeMs, INT_UNSIGNED, outOfRange), r.dialStatus,
    fitUnsigned('cause', r.cause, SMALLINT_UNSIGNED, outOfRange), fitUnsigned('sipCode', r.sipCode, SMALLINT_UNSIGNED, outOfRange), r.sipReason,
    // absent in a record spooled before schema 6 (prefixGroup) or 9 (orderReason): NULL
    r.verdict, r.reason, r.healthState, r.prefixGroup ?? null, r.orderReason ?? null,
  ];
}

export const EVENT_COLUMNS = ['event_key', 'at', 'server_id', 'carrier', 'from_state', 'to_state', 'source', 'reason'] as const;

export function eventRow(raw: KeyedEvent, truncated: Truncation[]): unknown[] {
  const e = cut(raw, EVENT_LIMITS, truncated);
  return [e.key, new Date(e.at), e.serverId, e.carrier, e.from, e.to, e.source, e.reason];
}
