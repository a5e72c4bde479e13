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
  serverId: 64, uniqueid: 32, route: 64, strategy: 16, carrier: 255, dialString: 512, number: 32, callerCode: 30,
  campaign: 64, dialStatus: 16, sipReason: 64, reason: 255, healthState: 16,
} as const;
const EVENT_LIMITS = { serverId: 64, carrier: 64, from: 16, to: 16, reason: 255 } as const;

export interface Truncation {
  readonly field: string;
  readonly length: number;
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

const clampInt = (n: number | null, max: number): number | null => (n === null || !Number.isFinite(n) ? null : Math.max(0, Math.min(Math.round(n), max)));

export const ATTEMPT_COLUMNS = [
  'server_id', 'uniqueid', 'attempt', 'route', 'strategy', 'carrier', 'dial_string', 'number_dialed', 'caller_code', 'lead_id', 'campaign',
  'started_at', 'answered_at', 'ended_at', 'ring_ms', 'talk_ms', 'dialstatus', 'cause', 'sip_code', 'sip_reason', 'verdict', 'reason', 'health_state',
] as const;

export function attemptRow(raw: AttemptRecord, truncated: Truncation[]): unknown[] {
  const r = cut(raw, ATTEMPT_LIMITS, truncated);
  return [
    r.serverId, r.uniqueid, clampInt(r.attempt, 65535), r.route, r.strategy, r.carrier, r.dialString, r.number, r.callerCode,
    clampInt(r.leadId, 4294967295), r.campaign, new Date(r.startedAt), r.answeredAt === null ? null : new Date(r.answeredAt), new Date(r.endedAt),
    clampInt(r.ringMs, 4294967295), clampInt(r.talkMs, 4294967295), r.dialStatus, clampInt(r.cause, 65535), clampInt(r.sipCode, 65535), r.sipReason,
    r.verdict, r.reason, r.healthState,
  ];
}

export const EVENT_COLUMNS = ['event_key', 'at', 'server_id', 'carrier', 'from_state', 'to_state', 'source', 'reason'] as const;

export function eventRow(raw: KeyedEvent, truncated: Truncation[]): unknown[] {
  const e = cut(raw, EVENT_LIMITS, truncated);
  return [e.key, new Date(e.at), e.serverId, e.carrier, e.from, e.to, e.source, e.reason];
}
