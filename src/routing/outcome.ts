import { causeFromText } from './q850.js';

/**
 * What one leg of a Dial left in the channel's per-leg cause table (func_hangupcause.c): read by key, never through
 * `HANGUPCAUSE(${HANGUPCAUSE_KEYS()},…)`, which is empty as soon as there are two keys (captures/multi, fact 9).
 */
export interface LegOutcome {
  /** The dialed channel, e.g. `SIP/carrier-primary-00000000`. */
  readonly key: string;
  /** The last SIP response on that leg, provisional ones included: `SIP 180 Ringing`, `SIP 200 OK`, `SIP 503 …` (fact 3). */
  readonly tech: string;
  readonly sipCode: number | null;
  readonly sipReason: string;
  /** The leg's own Q.850 cause, from the `ast` text (`Circuit/channel congestion` → 34); null when the text is unknown. */
  readonly cause: number | null;
}

/** What one attempt produced, as read back right after its Dial. Nothing in here comes from an earlier attempt. */
export interface AttemptOutcome {
  /** Dial's `result=`: -1 follows an answered call and INVALIDARGS with the caller still up, so it says nothing about who left (fact 7). */
  readonly dialResult: number | null;
  /** A `HANGUP` line arrived before the reply to the read after Dial: the only sign that the caller left (fact 7). */
  readonly callerLeft: boolean;
  readonly dialStatus: string;
  /** `${HANGUPCAUSE}`: the caller channel's cause, which survives ring-outs and progress timeouts (fact 1). */
  readonly channelCause: number | null;
  /** The same, read before this Dial; null when unknown. Only a change between the two belongs to this attempt. */
  readonly channelCauseBefore: number | null;
  /** RINGTIME_MS / PROGRESSTIME_MS: set by this Dial at the first 180 / 183 (app_dial.c:1600, :1634), reset by every Dial (:2466-2476). */
  readonly ringMs: number | null;
  readonly progressMs: number | null;
  /** ANSWEREDTIME_MS: talk time of an answered attempt. DIALEDTIME is the caller channel's age, so it is not read. */
  readonly answeredMs: number | null;
  /** HANGUPCAUSE_KEYS(): the legs that got any SIP response (none for a swallowed INVITE or an unreachable peer). */
  readonly keys: readonly string[];
  readonly legs: readonly LegOutcome[];
}

export const OUTCOME_SEPARATOR = '|';

/**
 * Read in one round trip after every Dial. The keys go last: channel names hold no `|`. Without func_logic the
 * per-leg tech and ast are read by name afterwards, and only when there is a key: with none, `HANGUPCAUSE(,tech)`
 * makes Asterisk log a WARNING (fact 2). With it, OUTCOME_WITH_LEG_EXPRESSION reads a lone leg in the same trip.
 */
export const OUTCOME_EXPRESSION = '${DIALSTATUS}|${HANGUPCAUSE}|${RINGTIME_MS}|${PROGRESSTIME_MS}|${ANSWEREDTIME_MS}|${HANGUPCAUSE_KEYS()}';

/**
 * One leg's `ast` or `tech` in the outcome read, for the common Dial whose keys are exactly one channel; for none or
 * several it reads a variable that is not set, so Asterisk logs nothing (fact 2, fact 9).
 *
 * `$[… =~ "^[^,]+$"]` is the length of the key list when it holds no comma, else 0 (ast_expr2.y:1598-1645);
 * IF() then yields the text `HANGUPCAUSE(<key>,ast)` or `FAILOVER_NO_LEG` (func_logic.c:229-263; its `:` split
 * skips what is inside parentheses, main/app.c __ast_app_separate_args), and the outer `${…}` reads what that text
 * names. Substitution is done once: the inner result names the function or variable and is never scanned for `${`
 * again, nor is the value a function returns (pbx_variables.c:519-545, :582), so a key is an argument, never an
 * expression. HANGUPCAUSE(key,type) is `ast_cause2str()` of the leg's cause or its last SIP response; a key not in
 * the table, or an empty one, is a WARNING and no value (func_hangupcause.c:117-162).
 *
 * IF is func_logic's, like SET(): only sent where the arming read showed SET() works.
 */
const ONE_KEY = '$["${HANGUPCAUSE_KEYS()}" =~ "^[^,]+$"]';
const oneLeg = (type: 'ast' | 'tech'): string => `\${\${IF(${ONE_KEY}?HANGUPCAUSE(\${HANGUPCAUSE_KEYS()},${type}):FAILOVER_NO_LEG)}}`;

/** OUTCOME_EXPRESSION and the one leg's ast and tech: the tech last, so a `|` in a SIP reason phrase shifts nothing. */
export const OUTCOME_WITH_LEG_EXPRESSION = `${OUTCOME_EXPRESSION}${OUTCOME_SEPARATOR}${oneLeg('ast')}${OUTCOME_SEPARATOR}${oneLeg('tech')}`;

/**
 * Read once before the first Dial, and the channel armed in the same round trip: the cause, so a change during the
 * Dial can be proven; `FAILOVER_STATUS=DIALING`, set by `SET()` as the expression is expanded, so from here on a
 * daemon that dies can never make the dialplan read "no Dial was placed"; and the per-leg table, which is empty on
 * a channel no Dial has touched, so HangupCauseClear can be left out then (a second AGI run on the channel inherits
 * the first one's keys: fact 12). The keys go last: channel names hold no `|`.
 *
 * SET() sets the variable as SET VARIABLE does (func_logic.c:266-286 and res_agi.c:3405-3416 both call
 * pbx_builtin_setvar_helper) and expands to the value; GET FULL VARIABLE expands left to right
 * (pbx_variables.c:407-583). Without func_logic it expands to nothing (pbx_variables.c:537-583, "Function SET not
 * registered"), which the reply shows: the daemon then sets the variable by SET VARIABLE.
 */
export const ARMED_STATUS = 'DIALING';
export const ARM_EXPRESSION = `\${HANGUPCAUSE}|\${SET(FAILOVER_STATUS=${ARMED_STATUS})}|\${HANGUPCAUSE_KEYS()}`;

export interface ChannelBefore {
  readonly cause: number | null;
  /** The read set FAILOVER_STATUS itself (SET() answered with the value). */
  readonly armed: boolean;
  readonly hasKeys: boolean;
}

export function parseChannelBefore(expanded: string): ChannelBefore {
  const [cause, armed = '', keys = ''] = expanded.split(OUTCOME_SEPARATOR);
  return { cause: intOrNull(cause), armed: armed === ARMED_STATUS, hasKeys: keys.trim() !== '' };
}

/**
 * A key is put inside a dialplan function call: it may hold nothing that ends an argument or opens an expression.
 * Channel names are `TECH/<peer>-<8 hex>` (peer names are validated in the config) or `Local/…@ctx-…;1`.
 */
const SAFE_KEY = /^[A-Za-z0-9_.@:/+;-]{1,200}$/;

export function isSafeKey(key: string): boolean {
  return SAFE_KEY.test(key);
}

/** The ast text first: it never holds `|`, so a `|` in a SIP reason phrase cannot shift it. */
export function legExpression(key: string): string {
  if (!isSafeKey(key)) throw new Error(`refusing to read the cause of channel ${JSON.stringify(key)}`);
  return `\${HANGUPCAUSE(${key},ast)}${OUTCOME_SEPARATOR}\${HANGUPCAUSE(${key},tech)}`;
}

/** `SIP 503 Service Unavailable` → {503, 'Service Unavailable'}; anything else → nulls. */
export function parseTechCause(tech: string): { sipCode: number | null; sipReason: string } {
  const m = /^SIP (\d{3})(?: (.*))?$/.exec(tech.trim());
  if (!m) return { sipCode: null, sipReason: '' };
  return { sipCode: Number(m[1]), sipReason: (m[2] ?? '').trim() };
}

/** An optional `-`, then 1 to 12 digits, blanks around it allowed; anything else is null. A loop, not a regex: four per Dial. */
export function intOrNull(s: string | undefined): number | null {
  if (s === undefined) return null;
  const t = s.trim();
  const from = t.charCodeAt(0) === 0x2d ? 1 : 0;
  const digits = t.length - from;
  if (digits < 1 || digits > 12) return null;
  for (let i = from; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return null;
  }
  return Number(t);
}

export interface OutcomeFields {
  readonly dialStatus: string;
  readonly channelCause: number | null;
  readonly ringMs: number | null;
  readonly progressMs: number | null;
  readonly answeredMs: number | null;
  readonly keys: readonly string[];
}

export function parseOutcomeFields(expanded: string): OutcomeFields {
  const [status = '', cause, ring, progress, answered, keys = ''] = expanded.split(OUTCOME_SEPARATOR);
  return {
    dialStatus: status.trim().toUpperCase(),
    channelCause: intOrNull(cause),
    ringMs: intOrNull(ring),
    progressMs: intOrNull(progress),
    answeredMs: intOrNull(answered),
    keys: keys.split(',').map((k) => k.trim()).filter((k) => k !== ''),
  };
}

/**
 * The reply to OUTCOME_WITH_LEG_EXPRESSION: the outcome, and the leg when the same reply lists exactly one key, a safe
 * one, with both texts there (a cause table entry always has both); otherwise null, and the legs are read by key.
 */
export function parseOutcomeWithLeg(expanded: string): { fields: OutcomeFields; leg: LegOutcome | null } {
  const parts = expanded.split(OUTCOME_SEPARATOR);
  const fields = parseOutcomeFields(parts.slice(0, 6).join(OUTCOME_SEPARATOR));
  const key = fields.keys.length === 1 ? (fields.keys[0] as string) : null;
  const ast = (parts[6] ?? '').trim();
  const tech = parts.slice(7).join(OUTCOME_SEPARATOR).trim();
  if (key === null || !isSafeKey(key) || ast === '' || tech === '') return { fields, leg: null };
  return { fields, leg: parseLeg(key, `${ast}${OUTCOME_SEPARATOR}${tech}`) };
}

export function parseLeg(key: string, expanded: string): LegOutcome {
  const cut = expanded.indexOf(OUTCOME_SEPARATOR);
  const ast = cut >= 0 ? expanded.slice(0, cut) : expanded;
  const tech = cut >= 0 ? expanded.slice(cut + 1).trim() : '';
  const sip = parseTechCause(tech);
  return { key, tech, sipCode: sip.sipCode, sipReason: sip.sipReason, cause: causeFromText(ast) };
}
