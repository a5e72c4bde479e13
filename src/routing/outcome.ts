/** What one Dial produced, as read back from the channel in a single GET FULL VARIABLE. */
export interface Outcome {
  /** Dial's return value: 0 = not answered and the caller is still here; -1 = caller gone or call completed. */
  readonly dialResult: number;
  /** A `HANGUP` line arrived during or right after the Dial. */
  readonly hangupSeen: boolean;
  readonly dialStatus: string;
  /** Q.850 cause from HANGUPCAUSE; null when empty. */
  readonly cause: number | null;
  /** The raw tech cause string, e.g. `SIP 503 Service Unavailable`; empty when no SIP response came back. */
  readonly tech: string;
  readonly sipCode: number | null;
  readonly sipReason: string;
  /** Seconds from DIALEDTIME / ANSWEREDTIME; null when empty. */
  readonly dialedTime: number | null;
  readonly answeredTime: number | null;
  /** Names of the dialed channels that left a cause record (HANGUPCAUSE_KEYS()). */
  readonly channels: readonly string[];
}

/** `SIP 503 Service Unavailable` → {503, 'Service Unavailable'}; anything else → nulls. */
export function parseTechCause(tech: string): { sipCode: number | null; sipReason: string } {
  const m = /^SIP (\d{3})(?: (.*))?$/.exec(tech.trim());
  if (!m) return { sipCode: null, sipReason: '' };
  return { sipCode: Number(m[1]), sipReason: (m[2] ?? '').trim() };
}

export const OUTCOME_SEPARATOR = '|';

/**
 * The expression read after each Dial, in one round trip. The tech string goes last, so a `|` inside
 * a SIP reason phrase cannot shift the other fields. HangupCauseClear before each Dial keeps
 * HANGUPCAUSE_KEYS() down to this attempt's one channel, which HANGUPCAUSE(keys,tech) needs.
 */
export const OUTCOME_EXPRESSION =
  '${DIALSTATUS}|${HANGUPCAUSE}|${DIALEDTIME}|${ANSWEREDTIME}|${HANGUPCAUSE_KEYS()}|${HANGUPCAUSE(${HANGUPCAUSE_KEYS()},tech)}';

function intOrNull(s: string | undefined): number | null {
  if (s === undefined || !/^-?\d+$/.test(s.trim())) return null;
  return Number(s.trim());
}

export function parseOutcome(expanded: string, dialResult: number, hangupSeen: boolean): Outcome {
  const parts = expanded.split(OUTCOME_SEPARATOR);
  const [status = '', cause, dialed, answered, keys = ''] = parts;
  const tech = parts.slice(5).join(OUTCOME_SEPARATOR);
  const { sipCode, sipReason } = parseTechCause(tech);
  return {
    dialResult,
    hangupSeen,
    dialStatus: status.trim().toUpperCase(),
    cause: intOrNull(cause),
    tech: tech.trim(),
    sipCode,
    sipReason,
    dialedTime: intOrNull(dialed),
    answeredTime: intOrNull(answered),
    channels: keys.split(',').map((k) => k.trim()).filter((k) => k !== ''),
  };
}
