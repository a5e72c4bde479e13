import { connect, type Socket } from 'node:net';
import { causeText } from '../../src/routing/q850.js';
import { evalExpression, ifFunction, spans } from './dialplan-eval.js';
import { dialStatusFor, reasonPhrase, type Driver } from './sip-tables.js';

/**
 * Plays Asterisk 20's side of a FastAGI call: connects like res_agi.c's launch_netscript, sends the header block of
 * the captures, and answers commands as res_agi.c and app_dial.c do. Carriers are scripted per leg.
 *
 * What a Dial leaves on the channel follows ../shared/asterisk/captures/multi (SUMMARY.md "facts"):
 * - HANGUPCAUSE is the caller channel's own cause and persists across Dials; only an answer, a final response, an
 *   uncreatable destination or timer B set it, never a ring-out or a progress timeout (fact 1; app_dial.c
 *   wait_for_answer() :1454/:1528/:1533/:1542, dial_exec_full() :2807, wait_over :2021-2033).
 * - Every Dial resets DIALSTATUS and the eight timing variables, not HANGUPCAUSE (app_dial.c:2466-2476).
 * - HANGUPCAUSE_KEYS() lists legs that got any SIP response; the tech is the last one, provisional included
 *   (fact 3); HangupCauseClear empties only that table (func_hangupcause.c:211).
 * - Dial returns -1 after an answered call whoever hung up; only a HANGUP line says the caller left (fact 7).
 * - After the daemon half-closes, one more HANGUP, then the socket closes (fact 13, res_agi.c:4478-4489).
 */

export type Early = '180' | '183';

/**
 * alertMs: what RINGTIME_MS / PROGRESSTIME_MS report for a leg that rang or made progress: the ms from the dialed
 * channel's creation to its first RINGING / PROGRESS (app_dial.c:1600, :1634). The captures, against a local SIPp,
 * show 2-3 ms (captures/multi/SUMMARY.md), the default here; a real carrier takes seconds, which is what a test of
 * post-dial delay sets. Only the variable changes: the simulated call does not wait that long.
 */
interface Alerting {
  readonly alertMs?: number;
}

export type Behaviour =
  /** 180, 200 OK; Dial returns -1 when the call ends after talkMs (callee BYE: no HANGUP line); callerHangsUp ends it from our side with a HANGUP line (answer_callee_bye, answer_caller_hangup). */
  | ({ readonly kind: 'answer'; readonly talkMs?: number; readonly callerHangsUp?: boolean } & Alerting)
  /** A final SIP response, optionally after 180 or 183+SDP; DIALSTATUS and cause follow the carrier's driver (sip_*, pjsip_*, sip_180_then_503, sip_183_then_503). */
  | ({ readonly kind: 'reject'; readonly sip: number; readonly afterMs?: number; readonly after?: Early } & Alerting)
  /** 180 Ringing, nobody answers: Dial's ring timeout, NOANSWER, channel cause unchanged, tech `SIP 180 Ringing` (seq_503_then_ringout). */
  | ({ readonly kind: 'ring-no-answer'; readonly afterMs?: number } & Alerting)
  /** Swallows the INVITE; Dial's progress timer fires first: CHANUNAVAIL, cause unchanged, no key (seq_503_then_progress_timeout, pjsip_blackhole). */
  | { readonly kind: 'blackhole'; readonly afterMs?: number }
  /** Swallows the INVITE with no progress timer: timer B (6.4 s there) ends it with CHANUNAVAIL/18, no key (timeout_blackhole). */
  | { readonly kind: 'timer-b'; readonly afterMs?: number }
  /** 100 Trying, then silence until the progress timer: CHANUNAVAIL, cause unchanged, tech `SIP 100 Trying` (progress_after_100_trying). */
  | { readonly kind: 'no-progress'; readonly afterMs?: number }
  /** Qualify says unreachable: CHANUNAVAIL at once, cause 20 (chan_sip) or 3 (PJSIP), no INVITE, no key (timeout_no_sipp, pjsip_unreachable). */
  | { readonly kind: 'unreachable' }
  /** Dead carrier with qualify=no where the CONGESTION timer wins the race: CONGESTION, cause unchanged, no key (captures/SUMMARY.md notes). */
  | { readonly kind: 'congestion-no-code'; readonly afterMs?: number }
  /** 180 Ringing, then the caller hangs up: `200 result=-1`, then `HANGUP`; CANCEL, cause unchanged (seq_ringout_then_cancel). */
  | ({ readonly kind: 'caller-hangup'; readonly afterMs?: number } & Alerting)
  /** 180, then a 200 OK whose SDP has no usable codec: Dial 0, CHANUNAVAIL, channel cause 58, tech `SIP 200 OK` (codec_mismatch). */
  | ({ readonly kind: 'codec-mismatch'; readonly afterMs?: number } & Alerting);

export interface SimCallOptions {
  readonly port: number;
  readonly host?: string;
  readonly script?: string;
  readonly args?: readonly string[];
  readonly extension?: string;
  readonly uniqueid?: string;
  readonly callerId?: string;
  readonly callerIdName?: string;
  /** Keyed by the carrier's Asterisk name in the Dial string (`...@carrier-primary`, `IAX2/carrier-c/...`). A list plays in turn per Dial. */
  readonly carriers: Readonly<Record<string, Behaviour | readonly Behaviour[]>>;
  /** Channel variables already set when the AGI starts: a second AGI() on a channel inherits the first's (fact 12). */
  readonly initialVars?: Readonly<Record<string, string>>;
  /** An Asterisk without func_logic: `${SET(...)}` expands to nothing and sets nothing. */
  readonly withoutFuncLogic?: boolean;
  /** The per-leg cause table left by an earlier run: key → tech. */
  readonly initialKeys?: Readonly<Record<string, string>>;
  /** Send `HANGUP` after the reply to the Nth command (0 = right after the header block). */
  readonly hangupAfterCommand?: number;
  /** Reply to the Nth command (1-based) with these raw bytes instead of the real reply. */
  readonly rawReplies?: Readonly<Record<number, string>>;
  /** Split every reply into two TCP segments. */
  readonly splitReplies?: boolean;
  /** Close the socket from Asterisk's side after the reply to the Nth command (as if Asterisk died). */
  readonly dropAfterCommand?: number;
  /** Close the socket from Asterisk's side after this many ms, whatever is pending. */
  readonly maxCallMs?: number;
  /**
   * Play Dial's progress timer and the legs' post-dial delays in time, as wait_for_answer() does: the timer of
   * `ring^progress` runs from the Dial and only a RINGING, PROGRESS or answer on some leg stops it (a 100 Trying does
   * not: capture progress_after_100_trying, CHANUNAVAIL at 5.010 s with `60^5`); when it runs out first, the Dial
   * ends CHANUNAVAIL (REFERENCE.md 2.1 "Timeouts", app_dial.c:2020-2032). So a swallowed INVITE (blackhole,
   * no-progress) ends exactly at the timer the daemon wrote (seq_503_then_progress_timeout: 3.018 s with `60^3`),
   * and a leg whose alertMs is past the timer is cut with the `SIP 100 Trying` a carrier sends first. The value is the
   * time scale: 1 = real time, 0.1 plays a 6 s delay in 0.6 s (RINGTIME_MS still says 6000). Absent: alertMs only
   * sets the variables, and blackhole / no-progress end after their afterMs.
   */
  readonly playTimers?: number;
}

export interface SimCallResult {
  readonly commands: string[];
  /** The data of every EXEC Dial that placed a call, as Asterisk's parse_args() read it. */
  readonly dials: string[];
  /** When each of `dials` was placed and when its EXEC Dial answered (epoch ms): what was in flight when. */
  readonly dialSpans: { readonly data: string; readonly startedAt: number; readonly endedAt: number }[];
  /** EXEC Dial received after the caller hung up: app_dial places no call for these (fact 8). */
  readonly deadDials: string[];
  readonly vars: Map<string, string>;
  /** Every SET VARIABLE and every SET() in a GET FULL VARIABLE, in order, as [name, value]. */
  readonly sets: [string, string][];
  /** func_hangupcause WARNINGs the daemon's reads would have made Asterisk log (fact 2, fact 9). */
  readonly warnings: string[];
  readonly hangupSent: boolean;
  readonly durationMs: number;
  /** ms from connect until the daemon's side closed the socket (Asterisk would see the AGI end here). */
  readonly closedAfterMs: number;
}

/** The header block of the multi captures (seq_503_then_ringout.txt), in res_agi.c's order. */
export function header(opts: Pick<SimCallOptions, 'script' | 'args' | 'extension' | 'uniqueid' | 'callerId' | 'callerIdName' | 'port'>): string {
  const script = opts.script ?? 'outbound-failover';
  const ext = opts.extension ?? '15552345678';
  const lines = [
    'agi_network: yes',
    ...(script ? [`agi_network_script: ${script}`] : []),
    `agi_request: agi://127.0.0.1:${opts.port}/${script}`,
    `agi_channel: Local/${ext}@outbound-failover-00000000;2`,
    'agi_language: en',
    'agi_type: Local',
    `agi_uniqueid: ${opts.uniqueid ?? '1796152709.1'}`,
    'agi_version: 20.20.1',
    `agi_callerid: ${opts.callerId ?? '5550000'}`,
    `agi_calleridname: ${opts.callerIdName ?? 'Lab'}`,
    'agi_callingpres: 0',
    'agi_callingani2: 0',
    'agi_callington: 0',
    'agi_callingtns: 0',
    'agi_dnid: unknown',
    'agi_rdnis: unknown',
    'agi_context: outbound-failover',
    `agi_extension: ${ext}`,
    'agi_priority: 2',
    'agi_enhanced: 0.0',
    'agi_accountcode: ',
    'agi_threadid: 140092220208832',
    ...(opts.args ?? []).map((a, i) => `agi_arg_${i + 1}: ${a}`),
  ];
  return `${lines.join('\n')}\n\n`;
}

/** res_agi.c parse_args(): split on space/tab, double quotes group, backslash escapes the next character. */
export function parseArgs(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  let escaped = false;
  let have = false;
  for (const ch of line) {
    if (escaped) {
      cur += ch;
      escaped = false;
      have = true;
    } else if (ch === '\\') {
      escaped = true;
    } else if (ch === '"') {
      inQuote = !inQuote;
      have = true;
    } else if (!inQuote && (ch === ' ' || ch === '\t')) {
      if (have) out.push(cur);
      cur = '';
      have = false;
    } else {
      cur += ch;
      have = true;
    }
  }
  if (have) out.push(cur);
  return out;
}

/** One leg's entry in the channel's dialed-causes table. */
export interface CauseEntry {
  readonly tech: string;
  readonly ast: string;
}

/** What an expansion may change besides its result: the variables SET() wrote, and whether func_logic is loaded. */
export interface ExpandOptions {
  /** SET() appends here, as SET VARIABLE does to SimCallResult.sets. */
  readonly sets?: [string, string][];
  /** func_logic not loaded: SET() is an unregistered function and expands to nothing (pbx_variables.c:537-583). */
  readonly withoutFuncLogic?: boolean;
}

/**
 * Expands `${VAR}`, `${FUNC(args)}` and `$[expr]` with nesting, left to right, as GET FULL VARIABLE does, for the
 * functions the daemon uses: an inner span first, once, and its result names what is read; no result is scanned
 * again (pbx_variables.c:519-545, :582; see dialplan-eval.ts).
 */
export function expand(expr: string, vars: Map<string, string>, causes: Map<string, CauseEntry>, warnings: string[] = [], opts: ExpandOptions = {}): string {
  let out = '';
  let last = 0;
  for (const sp of spans(expr)) {
    out += expr.slice(last, sp.start);
    const inner = expand(sp.inner, vars, causes, warnings, opts);
    if (sp.kind === '{') out += evaluate(inner, vars, causes, warnings, opts);
    else {
      const v = evalExpression(inner);
      if (v === null) warnings.push(`agi-sim: expression not simulated: $[${inner}]`);
      out += v ?? '';
    }
    last = sp.end;
  }
  return out + expr.slice(last);
}

function evaluate(name: string, vars: Map<string, string>, causes: Map<string, CauseEntry>, warnings: string[], opts: ExpandOptions): string {
  const fn = /^([A-Z_]+)\((.*)\)$/.exec(name);
  if (!fn) return vars.get(name) ?? '';
  const [, f, argText = ''] = fn;
  if (f === 'SET') {
    if (opts.withoutFuncLogic) return '';
    // func_logic.c:266-286: name up to the first '=', both stripped; set like SET VARIABLE, and the value is the result
    const eq = argText.indexOf('=');
    if (eq <= 0) return '';
    const varName = argText.slice(0, eq).trim();
    const value = argText.slice(eq + 1).trim();
    opts.sets?.push([varName, value]);
    // HANGUPCAUSE is a built-in looked up before channel variables: setting it changes nothing read back (fact 14)
    if (varName !== 'HANGUPCAUSE') vars.set(varName, value);
    return value;
  }
  if (f === 'IF') {
    // func_logic.c:229-263: missing with the rest of func_logic; the chosen branch is returned as it is
    if (opts.withoutFuncLogic) {
      warnings.push('pbx_functions.c: Function IF not registered');
      return '';
    }
    return ifFunction(argText) ?? '';
  }
  if (f === 'HANGUPCAUSE_KEYS') return [...causes.keys()].join(',');
  if (f === 'HANGUPCAUSE') {
    // hangupcause_read(): channel = first argument, type = the rest; several keys make the type unrecognizable (fact 9)
    const comma = argText.indexOf(',');
    const chan = comma >= 0 ? argText.slice(0, comma) : argText;
    const type = comma >= 0 ? argText.slice(comma + 1) : '';
    const entry = causes.get(chan);
    if (!entry) {
      warnings.push(`func_hangupcause.c: Unable to find information for channel ${chan}`);
      return '';
    }
    if (type === 'tech') return entry.tech;
    if (type === 'ast') return entry.ast;
    warnings.push(`func_hangupcause.c: Information type not recognized (${type})`);
    return '';
  }
  return '';
}

interface Leg {
  readonly channel: string;
  readonly carrier: string;
  readonly driver: Driver;
}

function parseLegs(dialData: string, counter: { n: number }): Leg[] | null {
  const chans = (dialData.split(',')[0] ?? '').split('&');
  const legs: Leg[] = [];
  for (const ch of chans) {
    const slash = ch.indexOf('/');
    if (slash < 0) return null; // no tech/: INVALIDARGS (dial_invalid_tech a2)
    const tech = ch.slice(0, slash);
    const rest = ch.slice(slash + 1);
    const at = rest.lastIndexOf('@');
    const carrier = at >= 0 ? rest.slice(at + 1) : (rest.split('/')[0] ?? '');
    const driver: Driver = tech === 'PJSIP' ? 'pjsip' : tech === 'IAX2' ? 'iax2' : 'chan_sip';
    legs.push({ channel: `${tech}/${carrier}-${(counter.n++).toString(16).padStart(8, '0')}`, carrier, driver });
  }
  return legs;
}

/** What one leg did, in the terms app_dial aggregates. */
interface LegResult {
  /** BUSY / CONGESTION / CHANUNAVAIL / NOANSWER as the leg alone would make DIALSTATUS. */
  readonly status: string;
  /** The cause app_dial copies to the caller channel when this leg ends; null when it sets none. */
  readonly cause: number | null;
  /** The leg's entry in the cause table; null when no SIP response came. */
  readonly entry: CauseEntry | null;
  readonly delay: number;
  readonly ring: boolean;
  readonly progress: boolean;
  /** RINGTIME_MS / PROGRESSTIME_MS this leg would set when it rings or makes progress. */
  readonly alertMs: number;
  readonly answered: boolean;
  readonly talkMs: number;
  readonly callerHangsUp: boolean;
  readonly callerHangupDuringDial: boolean;
  /** No 180/183 and no final response ever: only Dial's progress timer (or timer B) ends it. */
  readonly swallowed: boolean;
}

const entry = (code: number): CauseEntry => ({
  tech: `SIP ${code} ${reasonPhrase(code)}`,
  // hangup_sip2cause() of the last response; 1xx/2xx give Normal Clearing (fact 3)
  ast: code < 300 ? 'Normal Clearing' : '',
});

function playLeg(leg: Leg, b: Behaviour): LegResult {
  const base = { ring: false, progress: false, alertMs: 'alertMs' in b && b.alertMs !== undefined ? b.alertMs : 2, answered: false, talkMs: 0, callerHangsUp: false, callerHangupDuringDial: false, swallowed: false };
  // IAX2 carries no SIP responses: no cause table entry
  const sip = (code: number, ast?: string): CauseEntry | null => (leg.driver === 'iax2' ? null : { ...entry(code), ...(ast ? { ast } : {}) });
  switch (b.kind) {
    case 'answer':
      return { ...base, status: 'ANSWER', cause: 16, entry: sip(200), delay: 0, ring: true, answered: true, talkMs: b.talkMs ?? 0, callerHangsUp: b.callerHangsUp ?? false };
    case 'reject': {
      const { dialStatus, cause } = dialStatusFor(b.sip, leg.driver);
      return { ...base, status: dialStatus, cause, entry: sip(b.sip, causeText(cause)), delay: b.afterMs ?? 0, ring: b.after === '180', progress: b.after === '183' };
    }
    case 'ring-no-answer':
      return { ...base, status: 'NOANSWER', cause: null, entry: sip(180), delay: b.afterMs ?? 0, ring: true };
    case 'blackhole':
      return { ...base, status: 'CHANUNAVAIL', cause: null, entry: null, delay: b.afterMs ?? 0, swallowed: true };
    case 'timer-b':
      return { ...base, status: 'CHANUNAVAIL', cause: 18, entry: null, delay: b.afterMs ?? 0 };
    case 'no-progress':
      return { ...base, status: 'CHANUNAVAIL', cause: null, entry: sip(100), delay: b.afterMs ?? 0, swallowed: true };
    case 'unreachable':
      return { ...base, status: 'CHANUNAVAIL', cause: leg.driver === 'pjsip' ? 3 : 20, entry: null, delay: 0 };
    case 'congestion-no-code':
      return { ...base, status: 'CONGESTION', cause: null, entry: null, delay: b.afterMs ?? 0 };
    case 'caller-hangup':
      return { ...base, status: 'CANCEL', cause: null, entry: sip(180), delay: b.afterMs ?? 0, ring: true, callerHangupDuringDial: true };
    case 'codec-mismatch':
      return { ...base, status: 'CHANUNAVAIL', cause: 58, entry: sip(200), delay: b.afterMs ?? 0, ring: true };
  }
}

/** The progress timer of Dial data `<channels>,<ring>^<progress>,<options>` in ms; null without one (`60`, `60^0`). */
export function progressTimerMs(data: string): number | null {
  const t = /\^([0-9.]+)/.exec(data.split(',')[1] ?? '');
  const s = t ? Number(t[1]) : 0;
  return s > 0 ? Math.round(s * 1000) : null;
}

/**
 * SimCallOptions.playTimers: the legs as the progress timer leaves them, and how long the Dial lasts in real time.
 * Nothing rang, progressed or answered within the timer: every leg without a final response by then ends with the
 * Dial (CHANUNAVAIL, cause unchanged); one that would have rung later had sent its 100 Trying.
 */
function playProgressTimer(results: readonly LegResult[], legs: readonly Leg[], timerMs: number | null, scale: number): { results: LegResult[]; waitMs: number } {
  const alerting = (r: LegResult): boolean => r.ring || r.progress || r.answered;
  const first = Math.min(...results.filter(alerting).map((r) => r.alertMs));
  if (timerMs !== null && !(first <= timerMs)) {
    const ends = (r: LegResult): boolean => r.swallowed || alerting(r) || r.delay > timerMs;
    const cut = results.map((r, i): LegResult => {
      if (ends(r)) {
        const trying = r.swallowed ? r.entry : legs[i]?.driver === 'iax2' ? null : entry(100);
        return { ...r, status: 'CHANUNAVAIL', cause: null, entry: trying, delay: timerMs, ring: false, progress: false, answered: false, talkMs: 0, callerHangsUp: false, callerHangupDuringDial: false };
      }
      return r;
    });
    // a final response before the timer keeps its own (real-time) delay, as without playTimers
    return { results: cut, waitMs: Math.max(timerMs * scale, ...results.filter((r) => !ends(r)).map((r) => r.delay)) };
  }
  const winner = results.find((r) => r.answered);
  if (winner) return { results: [...results], waitMs: winner.alertMs * scale + winner.talkMs };
  // another leg rang in time: a swallowed leg waits with the Dial, the others end as scripted after their delay;
  // with no progress timer and nothing ringing, a swallowed leg ends after its afterMs (timer B's stand-in)
  const rang = Number.isFinite(first);
  return { results: [...results], waitMs: Math.max(0, ...results.filter((r) => !r.swallowed || !rang).map((r) => (alerting(r) ? r.alertMs * scale : 0) + r.delay)) };
}

/** wait_for_answer(): busy wins over congestion, congestion over nochan; else NOANSWER (app_dial.c:1337-1356). */
function aggregate(results: readonly LegResult[]): string {
  if (results.some((r) => r.callerHangupDuringDial)) return 'CANCEL';
  for (const s of ['BUSY', 'CONGESTION', 'CHANUNAVAIL']) if (results.some((r) => r.status === s)) return s;
  return 'NOANSWER';
}

const TIMING_VARS = ['DIALEDTIME', 'DIALEDTIME_MS', 'ANSWEREDTIME', 'ANSWEREDTIME_MS', 'RINGTIME', 'RINGTIME_MS', 'PROGRESSTIME', 'PROGRESSTIME_MS'];

const DEAD_OK = /^(exec|get full variable|get variable|set variable|noop|verbose|database)\b/i;
const KNOWN = /^(exec|get full variable|get variable|set variable|noop|verbose|answer|hangup|database|channel status)\b/i;

/** One simulated call against the daemon; resolves when the socket has closed. */
export function simulateCall(opts: SimCallOptions): Promise<SimCallResult> {
  const started = Date.now();
  const vars = new Map<string, string>(Object.entries(opts.initialVars ?? {}));
  if (!vars.has('HANGUPCAUSE')) vars.set('HANGUPCAUSE', '0');
  const causes = new Map<string, CauseEntry>(Object.entries(opts.initialKeys ?? {}).map(([k, tech]) => [k, { tech, ast: '' }]));
  const commands: string[] = [];
  const dials: string[] = [];
  const dialSpans: { data: string; startedAt: number; endedAt: number }[] = [];
  const deadDials: string[] = [];
  const sets: [string, string][] = [];
  const warnings: string[] = [];
  const perCarrier = new Map<string, number>();
  const counter = { n: 0 };
  let hungUp = false;
  let hangupSent = false;
  return new Promise((resolve, reject) => {
    // allowHalfOpen: Asterisk keeps writing after the daemon's FIN (the closing HANGUP)
    const sock: Socket = connect({ port: opts.port, host: opts.host ?? '127.0.0.1', allowHalfOpen: true });
    let buf = '';
    let busy = Promise.resolve();
    const write = async (text: string): Promise<void> => {
      if (sock.destroyed || !sock.writable) return;
      if (opts.splitReplies && text.length > 3) {
        const cut = Math.floor(text.length / 2);
        sock.write(text.slice(0, cut));
        await new Promise((r) => setTimeout(r, 5));
        if (!sock.destroyed && sock.writable) sock.write(text.slice(cut));
      } else sock.write(text);
    };
    const sendHangup = async (): Promise<void> => {
      hungUp = true;
      hangupSent = true;
      await write('HANGUP\n');
    };
    const behaviourFor = (carrier: string): Behaviour => {
      const b = opts.carriers[carrier];
      if (!b) return { kind: 'unreachable' };
      if (!Array.isArray(b)) return b as Behaviour;
      const n = perCarrier.get(carrier) ?? 0;
      perCarrier.set(carrier, n + 1);
      return (b as readonly Behaviour[])[Math.min(n, (b as readonly Behaviour[]).length - 1)] as Behaviour;
    };
    const setMs = (name: string, ms: number): void => {
      // set_duration_var(): seconds truncated and _MS (app_dial.c:1253)
      vars.set(name, String(Math.floor(ms / 1000)));
      vars.set(`${name}_MS`, String(ms));
    };
    const runDial = async (data: string): Promise<string> => {
      vars.set('DIALSTATUS', '');
      for (const v of TIMING_VARS) vars.set(v, '');
      if (hungUp) {
        // dial_exec_full(): "Caller hung up before dial." CANCEL, -1, no channel is requested (fact 8, app_dial.c:2488-2503)
        deadDials.push(data);
        vars.set('DIALSTATUS', 'CANCEL');
        return '200 result=-1\n';
      }
      const legs = parseLegs(data, counter);
      if (!legs) {
        // dial_invalid_tech a2: INVALIDARGS, -1, the caller still up, HANGUPCAUSE untouched
        vars.set('DIALSTATUS', 'INVALIDARGS');
        return '200 result=-1\n';
      }
      dials.push(data);
      const span = { data, startedAt: Date.now(), endedAt: 0 };
      dialSpans.push(span);
      const scripted = legs.map((leg) => ({ leg, r: playLeg(leg, behaviourFor(leg.carrier)) }));
      const timed = opts.playTimers === undefined ? null : playProgressTimer(scripted.map((x) => x.r), legs, progressTimerMs(data), opts.playTimers);
      const results = timed === null ? scripted : scripted.map((x, i) => ({ leg: x.leg, r: timed.results[i] as LegResult }));
      const winner = results.find((x) => x.r.answered);
      const delay = timed !== null ? timed.waitMs : winner ? winner.r.talkMs : Math.max(0, ...results.map((x) => x.r.delay));
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      span.endedAt = Date.now();
      for (const { leg, r } of results) {
        // on an answer the other legs are hung up before they answer; only what they already sent stays
        if (r.entry && (!winner || winner.leg === leg || r.delay === 0)) causes.set(leg.channel, { tech: r.entry.tech, ast: r.entry.ast || 'Normal Clearing' });
      }
      // wait_for_answer() at the first RINGING / PROGRESS: ms since the callee channel was created (app_dial.c:1600, :1634)
      // set once, at the first leg to ring (or make progress): the earliest alertMs among them
      const ringing = results.filter((x) => x.r.ring).map((x) => x.r.alertMs);
      const progressing = results.filter((x) => x.r.progress).map((x) => x.r.alertMs);
      if (ringing.length > 0) setMs('RINGTIME', Math.min(...ringing));
      if (progressing.length > 0) setMs('PROGRESSTIME', Math.min(...progressing));
      if (winner) {
        vars.set('DIALSTATUS', 'ANSWER');
        vars.set('HANGUPCAUSE', '16');
        // end_bridge_callback(): DIALEDTIME is the caller channel's age, ANSWEREDTIME the talk time (app_dial.c:2318)
        setMs('DIALEDTIME', Date.now() - started);
        setMs('ANSWEREDTIME', winner.r.talkMs);
        vars.set('DIALEDPEERNAME', winner.leg.channel);
      } else {
        vars.set('DIALSTATUS', aggregate(results.map((x) => x.r)));
        // the caller's cause is that of the leg that ended last, among those that set one (fact 9)
        const setters = results.filter((x) => x.r.cause !== null).sort((a, b) => a.r.delay - b.r.delay);
        const lastCause = setters[setters.length - 1]?.r.cause;
        if (lastCause !== undefined && lastCause !== null) vars.set('HANGUPCAUSE', String(lastCause));
      }
      const callerGone = results.some((x) => x.r.callerHangupDuringDial) || (winner?.r.callerHangsUp ?? false);
      if (callerGone) {
        await write('200 result=-1\n');
        await sendHangup();
        return '';
      }
      return winner ? '200 result=-1\n' : '200 result=0\n';
    };
    const answer = async (line: string): Promise<string> => {
      const argv = parseArgs(line);
      const verb = (argv[0] ?? '').toLowerCase();
      if (!KNOWN.test(line)) return '510 Invalid or unknown command\n';
      if (hungUp && !DEAD_OK.test(line)) return '511 Command Not Permitted on a dead channel or intercept routine\n';
      if (verb === 'exec') {
        const app = argv[1] ?? '';
        if (app.toLowerCase() === 'dial') return runDial(argv[2] ?? '');
        if (app.toLowerCase() === 'hangupcauseclear') {
          causes.clear();
          return '200 result=0\n';
        }
        return '200 result=-2\n';
      }
      const words = argv.map((a) => a.toLowerCase());
      if (words[0] === 'get' && words[1] === 'full' && words[2] === 'variable') {
        if (argv.length < 4) return '520-Invalid command syntax.  Proper usage follows:\nUsage: GET FULL VARIABLE <variablename> [<channel name>]\n520 End of proper usage.\n';
        return `200 result=1 (${expand(argv[3] ?? '', vars, causes, warnings, { sets, withoutFuncLogic: opts.withoutFuncLogic ?? false })})\n`;
      }
      if (words[0] === 'get' && words[1] === 'variable') {
        const v = vars.get(argv[2] ?? '');
        return v === undefined ? '200 result=0\n' : `200 result=1 (${v})\n`;
      }
      if (words[0] === 'set' && words[1] === 'variable') {
        if (argv.length !== 4) return '520-Invalid command syntax.  Proper usage follows:\nUsage: SET VARIABLE <variablename> <value>\n520 End of proper usage.\n';
        const name = argv[2] ?? '';
        sets.push([name, argv[3] ?? '']);
        // HANGUPCAUSE is a built-in looked up before channel variables: setting it changes nothing read back (fact 14)
        if (name !== 'HANGUPCAUSE') vars.set(name, argv[3] ?? '');
        return '200 result=1\n';
      }
      return '200 result=0\n';
    };
    const onLine = async (line: string): Promise<void> => {
      commands.push(line);
      const n = commands.length;
      const raw = opts.rawReplies?.[n];
      const reply = raw !== undefined ? raw : await answer(line);
      if (reply) await write(reply);
      if (opts.hangupAfterCommand === n && !hungUp) await sendHangup();
      if (opts.dropAfterCommand === n) sock.destroy();
    };
    sock.setEncoding('utf8');
    if (opts.maxCallMs !== undefined) setTimeout(() => sock.destroy(), opts.maxCallMs).unref();
    sock.on('connect', () => {
      void (async () => {
        await write(header({ ...opts, port: opts.port }));
        if (opts.hangupAfterCommand === 0) await sendHangup();
      })();
    });
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        busy = busy.then(() => onLine(line));
      }
    });
    sock.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') reject(err);
    });
    let closedAfterMs = -1;
    sock.on('end', () => {
      if (closedAfterMs < 0) closedAfterMs = Date.now() - started;
      // run_agi() ends: one more HANGUP whatever the channel's state, then the socket closes (fact 13)
      void busy.then(async () => {
        await write('HANGUP\n');
        sock.end();
      });
    });
    sock.on('close', () => {
      if (closedAfterMs < 0) closedAfterMs = Date.now() - started;
      void busy.then(() => resolve({ commands, dials, dialSpans, deadDials, vars, sets, warnings, hangupSent, durationMs: Date.now() - started, closedAfterMs }));
    });
  });
}
