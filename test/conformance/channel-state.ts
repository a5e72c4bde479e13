import { evalExpression, ifFunction, spans } from '../sim/dialplan-eval.js';
import type { CapturedAttempt, LegCause } from './capture-reader.js';

/**
 * The caller channel as Asterisk holds it between AGI commands, and the dialplan expressions the daemon reads
 * from it. Pure: every function returns a new state or a value plus the log lines Asterisk would write.
 */
export interface ChannelState {
  /** Channel variables that are set (an empty string is set; absent is unset). */
  readonly vars: ReadonlyMap<string, string>;
  /** The channel's own cause field, read by the built-in `${HANGUPCAUSE}` (pbx_variables.c:330). */
  readonly hangupCause: number;
  /** The dialed-causes container behind HANGUPCAUSE_KEYS() / HANGUPCAUSE(key,type), in container order. */
  readonly causes: ReadonlyMap<string, LegCause>;
  /** A `HANGUP` line was sent: the caller is gone and res_agi serves only the dead-channel commands. */
  readonly hungUp: boolean;
}

/** A channel no Dial has touched: HANGUPCAUSE 0, no variables, no cause records (multi/SUMMARY.md fact 1). */
export function freshChannel(): ChannelState {
  return { vars: new Map(), hangupCause: 0, causes: new Map(), hungUp: false };
}

/** HangupCauseClear empties the dialed-causes container only (func_hangupcause.c:211; fact 1). */
export function clearCauses(s: ChannelState): ChannelState {
  return { ...s, causes: new Map() };
}

export function setVariable(s: ChannelState, name: string, value: string): ChannelState {
  const vars = new Map(s.vars);
  vars.set(name, value);
  return { ...s, vars };
}

export function hangUp(s: ChannelState): ChannelState {
  return { ...s, hungUp: true };
}

/**
 * The channel after one captured Dial: the Dial variables as captured (app_dial resets and sets them every Dial,
 * app_dial.c:2466-2476), the cause field as captured, and this Dial's legs added to the container. A leg replaces
 * an entry of the same channel name (ast_channel_dialed_causes_add, channel_internal_api.c:1226-1240); entries of
 * earlier Dials stay unless HangupCauseClear ran, which the capture's probe always did.
 */
export function afterDial(s: ChannelState, a: CapturedAttempt): ChannelState {
  const vars = new Map(s.vars);
  for (const [k, v] of Object.entries(a.vars)) vars.set(k, v);
  const causes = new Map(s.causes);
  for (const k of a.keys) {
    causes.delete(k);
    causes.set(k, a.perKey.get(k) as LegCause);
  }
  return { vars, hangupCause: a.hangupCause, causes, hungUp: s.hungUp || a.hangupAfterDial };
}

/** A line Asterisk would write to its log while evaluating: the daemon must cause none. */
export interface AsteriskLogLine {
  readonly level: 'WARNING' | 'ERROR';
  readonly text: string;
}

export interface Evaluation {
  readonly value: string;
  readonly log: readonly AsteriskLogLine[];
  /** False when a function failed (its read returned -1): GET VARIABLE then answers `200 result=0`. */
  readonly ok: boolean;
  /** Variables SET() wrote while evaluating, in order, as [name, value]: the caller applies them to its state. */
  readonly sets?: readonly (readonly [string, string])[];
}

/** The state after an evaluation's SET() writes. */
export function withSets(s: ChannelState, e: Evaluation): ChannelState {
  return (e.sets ?? []).reduce((st, [name, value]) => setVariable(st, name, value), s);
}

/**
 * Expands an expression as GET FULL VARIABLE does (ast_str_substitute_variables): inner `${...}` first, then the
 * variable or function named by the result. Empty for anything unset.
 */
export function expand(expr: string, s: ChannelState): Evaluation {
  const log: AsteriskLogLine[] = [];
  const sets: (readonly [string, string])[] = [];
  // left to right (pbx_variables.c:407-583): what a SET() wrote is what a later `${VAR}` of the same expression reads
  let cur = s;
  let out = '';
  let last = 0;
  for (const sp of spans(expr)) {
    out += expr.slice(last, sp.start);
    const inner = expand(sp.inner, cur);
    log.push(...inner.log);
    sets.push(...(inner.sets ?? []));
    cur = withSets(cur, inner);
    const r = sp.kind === '{' ? lookup(inner.value, cur) : expression(inner.value);
    log.push(...r.log);
    sets.push(...(r.sets ?? []));
    cur = withSets(cur, r);
    out += r.value;
    last = sp.end;
  }
  out += expr.slice(last);
  return { value: out, log, ok: true, sets };
}

/** A `$[...]` (ast_str_expr, pbx_variables.c:637): only the form the daemon sends is simulated; any other is reported. */
function expression(text: string): Evaluation {
  const v = evalExpression(text);
  return v === null ? { value: '', log: [{ level: 'ERROR', text: `replay: expression not simulated: $[${text}]` }], ok: false } : { value: v, log: [], ok: true };
}

/** One variable or function read by name (pbx_retrieve_variable / ast_func_read). */
export function lookup(name: string, s: ChannelState): Evaluation {
  const fn = /^([A-Za-z_][A-Za-z0-9_]*)\(([\s\S]*)\)$/.exec(name);
  if (!fn) {
    // the built-in is looked up before channel variables, so SET VARIABLE HANGUPCAUSE changes nothing (fact 14)
    if (name === 'HANGUPCAUSE') return { value: String(s.hangupCause), log: [], ok: true };
    return { value: s.vars.get(name) ?? '', log: [], ok: true };
  }
  const [, f = '', args = ''] = fn;
  if (f === 'HANGUPCAUSE_KEYS') return { value: [...s.causes.keys()].join(','), log: [], ok: true };
  if (f === 'IF') {
    // func_logic.c:229-263: the chosen branch as it is; a failed read is logged at debug level only
    const v = ifFunction(args);
    return v === null ? { value: '', log: [], ok: false } : { value: v, log: [], ok: true };
  }
  if (f === 'HANGUPCAUSE') return hangupCause(args, s);
  if (f === 'SET') return setFunction(args);
  return { value: '', log: [{ level: 'ERROR', text: `pbx_functions.c: Function ${f} not registered` }], ok: false };
}

/**
 * SET(name=value) (func_logic.c:266-286): the name up to the first `=`, both sides stripped, set as SET VARIABLE
 * sets it (pbx_builtin_setvar_helper); the result is the value. No `=`: a WARNING, and the read fails.
 */
function setFunction(args: string): Evaluation {
  const eq = args.indexOf('=');
  const name = eq >= 0 ? args.slice(0, eq).trim() : args.trim();
  if (eq < 0 || name === '') return { value: '', log: [{ level: 'WARNING', text: 'func_logic.c: Syntax SET(<varname>=[<value>])' }], ok: false };
  const value = args.slice(eq + 1).trim();
  return { value, log: [], ok: true, sets: [[name, value]] };
}

/**
 * hangupcause_read() (func_hangupcause.c:117-160): the argument splits into channel and type at the first comma
 * (AST_STANDARD_APP_ARGS with two fields), so `HANGUPCAUSE(A,B,tech)` asks channel A for type `B,tech` and fails
 * (fact 9); an empty or unknown channel fails with a WARNING (fact 2).
 */
function hangupCause(args: string, s: ChannelState): Evaluation {
  const comma = args.indexOf(',');
  if (comma < 0) return { value: '', log: [{ level: 'WARNING', text: 'func_hangupcause.c: The HANGUPCAUSE function must have 2 parameters, not 1' }], ok: false };
  const channel = args.slice(0, comma);
  const type = args.slice(comma + 1);
  const c = s.causes.get(channel);
  if (!c) return { value: '', log: [{ level: 'WARNING', text: `func_hangupcause.c: Unable to find information for channel ${channel}` }], ok: false };
  if (type === 'tech') return { value: c.tech, log: [], ok: true };
  if (type === 'ast') return { value: c.ast, log: [], ok: true };
  return { value: '', log: [{ level: 'WARNING', text: `func_hangupcause.c: Information type not recognized (${type})` }], ok: false };
}
