/**
 * A small interpreter for the subset of extensions.conf the shipped dialplans use, so their decision table can be
 * tested rather than read. Anything outside the subset throws: a file that uses more fails its tests instead of
 * being half-understood. What each piece follows in Asterisk 20 is named where it is done.
 */

/** Applications of Asterisk 20 the interpreter runs (pbx_builtins.c, app_exec.c ExecIf, app_dial.c, res_agi.c). */
export const APPLICATIONS = ['NoOp', 'Set', 'AGI', 'GotoIf', 'ExecIf', 'Goto', 'Dial', 'Hangup'] as const;
/** Dialplan functions it evaluates (funcs/func_strings.c REGEX). */
export const FUNCTIONS = ['REGEX'] as const;

export interface Priority {
  readonly priority: number;
  readonly label: string | null;
  readonly app: string;
  readonly data: string;
}

export interface Extension {
  readonly pattern: string;
  readonly priorities: Priority[];
}

export type Dialplan = ReadonlyMap<string, Extension[]>;

/** `;` starts a comment unless escaped (pbx_config.c: config.c strips unescaped `;`). */
function stripComment(line: string): string {
  let out = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '\\' && line[i + 1] === ';') {
      out += ';';
      i++;
    } else if (ch === ';') break;
    else out += ch;
  }
  return out.trim();
}

/** `app(data)`: the name up to the first `(`, the data up to the last `)` (pbx_config.c pbx_load_config). */
function splitApp(text: string): { app: string; data: string } {
  const open = text.indexOf('(');
  if (open < 0) return { app: text.trim(), data: '' };
  const close = text.lastIndexOf(')');
  if (close < open) throw new Error(`unbalanced application call: ${text}`);
  return { app: text.slice(0, open).trim(), data: text.slice(open + 1, close) };
}

/** Parses contexts, `exten =>` and `same =>` lines; lines before any `[context]` go to `defaultContext` (a VICIdial entry). */
export function parseDialplan(text: string, defaultContext = 'default'): Dialplan {
  const contexts = new Map<string, Extension[]>();
  let context = defaultContext;
  let last: Extension | null = null;
  const ext = (pattern: string): Extension => {
    const list = contexts.get(context) ?? [];
    contexts.set(context, list);
    let e = list.find((x) => x.pattern === pattern);
    if (!e) {
      e = { pattern, priorities: [] };
      list.push(e);
    }
    return e;
  };
  for (const raw of text.split('\n')) {
    const line = stripComment(raw);
    if (line === '') continue;
    const ctx = /^\[([^\]]+)\]$/.exec(line);
    if (ctx) {
      context = ctx[1]!;
      last = null;
      continue;
    }
    const m = /^(exten|same)\s*=>?\s*(.*)$/.exec(line);
    if (!m) throw new Error(`not in the interpreter's subset: ${line}`);
    let rest = m[2]!;
    let e: Extension;
    if (m[1] === 'exten') {
      const comma = rest.indexOf(',');
      e = ext(rest.slice(0, comma).trim());
      rest = rest.slice(comma + 1);
    } else {
      if (!last) throw new Error(`same => with no extension before it: ${line}`);
      e = last;
    }
    const comma = rest.indexOf(',');
    const prio = rest.slice(0, comma).trim();
    const { app, data } = splitApp(rest.slice(comma + 1));
    const pm = /^(?:(\d+)|n)(?:\(([A-Za-z0-9_-]+)\))?$/.exec(prio);
    if (!pm) throw new Error(`priority ${prio} is not in the interpreter's subset`);
    const prev = e.priorities[e.priorities.length - 1];
    const number = pm[1] !== undefined ? Number(pm[1]) : prev ? prev.priority + 1 : NaN;
    if (!Number.isInteger(number)) throw new Error(`priority n with nothing before it: ${line}`);
    e.priorities.push({ priority: number, label: pm[2] ?? null, app, data });
    last = e;
  }
  return contexts;
}

/** Every application a dialplan calls, for the "would Asterisk load it" check. */
export function applicationsOf(plan: Dialplan): string[] {
  return [...new Set([...plan.values()].flatMap((exts) => exts.flatMap((e) => e.priorities.map((p) => p.app))))];
}

/** `_` patterns: X 0-9, Z 1-9, N 2-9, [..] a set, `.` one or more of anything (a newline too), `!` zero or more (pbx.c ext_cmp / _extension_match_core). */
export function extensionMatches(pattern: string, exten: string): boolean {
  if (!pattern.startsWith('_')) return pattern === exten;
  let re = '';
  const p = pattern.slice(1);
  for (let i = 0; i < p.length; i++) {
    const ch = p[i]!;
    if (ch === 'X' || ch === 'x') re += '[0-9]';
    else if (ch === 'Z' || ch === 'z') re += '[1-9]';
    else if (ch === 'N' || ch === 'n') re += '[2-9]';
    else if (ch === '.') re += '.+';
    else if (ch === '!') re += '.*';
    else if (ch === '[') {
      const end = p.indexOf(']', i);
      re += `[${p.slice(i + 1, end).replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += ch.replace(/[.*+?^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's').test(exten);
}

// ---- expressions: the operators of main/ast_expr2.y the files use ----

type Tok = { readonly kind: 'str'; readonly v: string } | { readonly kind: 'op'; readonly v: string };

function tokenize(expr: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < expr.length) {
    const ch = expr[i]!;
    if (/\s/.test(ch)) i++;
    else if (ch === '"') {
      const end = expr.indexOf('"', i + 1);
      if (end < 0) throw new Error(`unterminated string in $[${expr}]`);
      out.push({ kind: 'str', v: expr.slice(i + 1, end) });
      i = end + 1;
    } else if (expr.startsWith('!=', i) || expr.startsWith('<=', i) || expr.startsWith('>=', i)) {
      out.push({ kind: 'op', v: expr.slice(i, i + 2) });
      i += 2;
    } else if ('|&=<>()'.includes(ch)) {
      out.push({ kind: 'op', v: ch });
      i++;
    } else if ('+-*/%:?!~'.includes(ch)) throw new Error(`operator ${ch} in $[${expr}] is not in the interpreter's subset`);
    else {
      let j = i;
      while (j < expr.length && !/\s/.test(expr[j]!) && !'|&=<>()!"'.includes(expr[j]!)) j++;
      out.push({ kind: 'str', v: expr.slice(i, j) });
      i = j;
    }
  }
  return out;
}

const isInt = (s: string): boolean => /^[-+]?\d+$/.test(s);
/** Null or zero, the "false" of `|` and `&` (ast_expr2.y is_zero_or_null). */
const falsy = (s: string): boolean => s === '' || (isInt(s) && Number(s) === 0);

/** Evaluates `$[...]` after substitution: `|` < `&` < comparisons; numbers compare as numbers, other values as strings (op_eq …). */
export function evaluateExpression(expr: string): string {
  const toks = tokenize(expr);
  let pos = 0;
  const peek = (): Tok | undefined => toks[pos];
  const primary = (): string => {
    const t = toks[pos++];
    if (!t) throw new Error(`$[${expr}] ends early`);
    if (t.kind === 'str') return t.v;
    if (t.v === '(') {
      const v = or();
      if (toks[pos++]?.v !== ')') throw new Error(`$[${expr}]: missing )`);
      return v;
    }
    throw new Error(`$[${expr}]: unexpected ${t.v}`);
  };
  const cmp = (): string => {
    const a = primary();
    const t = peek();
    if (t?.kind !== 'op' || !['=', '!=', '<', '>', '<=', '>='].includes(t.v)) return a;
    pos++;
    const b = primary();
    const c = isInt(a) && isInt(b) ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0;
    const r = { '=': c === 0, '!=': c !== 0, '<': c < 0, '>': c > 0, '<=': c <= 0, '>=': c >= 0 }[t.v as '='];
    return r ? '1' : '0';
  };
  const and = (): string => {
    let a = cmp();
    while (peek()?.v === '&') {
      pos++;
      const b = cmp();
      a = falsy(a) || falsy(b) ? '0' : a;
    }
    return a;
  };
  const or = (): string => {
    let a = and();
    while (peek()?.v === '|') {
      pos++;
      const b = and();
      a = falsy(a) ? b : a;
    }
    return a;
  };
  const v = or();
  if (pos !== toks.length) throw new Error(`$[${expr}]: trailing ${toks[pos]?.v}`);
  return v;
}

/** pbx_checkcondition (pbx.c): empty is false, an integer is its value, any other text is true. */
export function checkCondition(s: string): boolean {
  const t = s.trim();
  if (t === '') return false;
  if (isInt(t)) return Number(t) !== 0;
  return true;
}

// ---- the channel ----

export interface DaemonRun {
  /** AGISTATUS after AGI() returns; HANGUP = the caller left, the dialplan stops (res_agi.c, REFERENCE.md §1.5). */
  readonly agiStatus: 'SUCCESS' | 'FAILURE' | 'HANGUP';
  /** Variables the daemon set with SET VARIABLE, in order (possibly none: it died, or never ran). */
  readonly set?: Readonly<Record<string, string>>;
  /** The channel's cause after the daemon's own Dials (sticky: multi/SUMMARY.md fact 1); absent = unchanged. */
  readonly cause?: number;
}

export interface DialResult {
  readonly status: string;
  /** The cause the Dial leaves on the caller channel; absent = unchanged (a ring timeout sets none, fact 1). */
  readonly cause?: number;
}

export interface Scenario {
  readonly exten: string;
  readonly context: string;
  /** Variables already on the channel, e.g. from an earlier AGI run (fact 12). */
  readonly vars?: Readonly<Record<string, string>>;
  readonly cause?: number;
  readonly daemon: DaemonRun;
  /** What VICIdial's call_log on 4577 sets (REFERENCE.md §4: _CAMPCUST, and _CAMPDTO for manual dials). */
  readonly callLog?: Readonly<Record<string, string>>;
  /** Results of the static Dials, in order; a Dial beyond them throws. */
  readonly dials?: readonly DialResult[];
}

export interface Run {
  readonly dials: string[];
  readonly agi: { readonly url: string; readonly args: string[] }[];
  /** The cause Hangup() left (what `h` reads as HANGUPCAUSE), or null when no Hangup ran. */
  readonly hangupCause: number | null;
  readonly end: 'hangup' | 'caller-gone' | 'fell-through';
  readonly vars: ReadonlyMap<string, string>;
}

class Channel {
  readonly vars = new Map<string, string>();
  cause = 0;
  constructor(
    public context: string,
    public exten: string,
  ) {}

  /** EXTEN and HANGUPCAUSE are built-ins, looked up before channel variables (pbx_variables.c:330, fact 14). */
  variable(name: string): string {
    if (name === 'EXTEN') return this.exten;
    if (name === 'CONTEXT') return this.context;
    if (name === 'HANGUPCAUSE') return String(this.cause);
    return this.vars.get(name) ?? '';
  }

  private lookup(inner: string): string {
    const fn = /^([A-Z_]+)\((.*)\)$/s.exec(inner);
    if (fn) return this.func(fn[1]!, fn[2]!);
    // ${VAR:offset[:length]} (pbx_variables.c substring())
    const m = /^([A-Za-z0-9_]+)(?::(-?\d+)(?::(-?\d+))?)?$/.exec(inner);
    if (!m) throw new Error(`\${${inner}} is not in the interpreter's subset`);
    const v = this.variable(m[1]!);
    if (m[2] === undefined) return v;
    const off = Number(m[2]);
    const start = off < 0 ? Math.max(0, v.length + off) : Math.min(off, v.length);
    if (m[3] === undefined) return v.slice(start);
    const len = Number(m[3]);
    return len < 0 ? v.slice(start, Math.max(start, v.length + len)) : v.slice(start, start + len);
  }

  private func(name: string, args: string): string {
    if (name === 'REGEX') {
      // REGEX("regex" string) (func_strings.c regex()): split on '"' into 3 at most, so a quote in the string stays
      // in it; one leading space or tab is dropped; POSIX ERE, which [0-9], ^, $ and + read the same as here
      const m = /^"([^"]*)"(.*)$/s.exec(args);
      if (!m) throw new Error(`REGEX(${args}): needs "regex" string`);
      return new RegExp(m[1]!).test(m[2]!.replace(/^[ \t]/, '')) ? '1' : '0';
    }
    throw new Error(`function ${name} is not in the interpreter's subset`);
  }

  /** `${...}` and `$[...]`, innermost first; the end is found by counting braces/brackets in the template (pbx_substitute_variables_helper_full). */
  substitute(s: string): string {
    let out = '';
    let i = 0;
    while (i < s.length) {
      if (s[i] === '$' && (s[i + 1] === '{' || s[i + 1] === '[')) {
        const open = s[i + 1]!;
        const close = open === '{' ? '}' : ']';
        let depth = 1;
        let j = i + 2;
        for (; j < s.length && depth > 0; j++) {
          if (s[j] === open) depth++;
          else if (s[j] === close) depth--;
        }
        if (depth > 0) throw new Error(`unterminated $${open} in ${s}`);
        const inner = this.substitute(s.slice(i + 2, j - 1));
        out += open === '{' ? this.lookup(inner) : evaluateExpression(inner);
        i = j;
      } else out += s[i++];
    }
    return out;
  }
}

class Stop {
  constructor(
    readonly end: Run['end'],
    readonly cause: number | null,
  ) {}
}

/** Runs a call through the dialplan from `exten`, priority 1, playing AGI and Dial as the scenario says. */
export function runCall(plan: Dialplan, sc: Scenario): Run {
  const ch = new Channel(sc.context, sc.exten);
  for (const [k, v] of Object.entries(sc.vars ?? {})) ch.vars.set(k, v);
  ch.cause = sc.cause ?? 0;
  const dials: string[] = [];
  const agi: Run['agi'] = [];
  const results = [...(sc.dials ?? [])];

  const find = (context: string, exten: string): Extension => {
    const e = (plan.get(context) ?? []).find((x) => extensionMatches(x.pattern, exten));
    if (!e) throw new Error(`no extension ${exten} in [${context}]`);
    return e;
  };
  let ext = find(ch.context, ch.exten);
  let prio = 1;

  const goto = (target: string): void => {
    const parts = target.split(',').map((p) => p.trim());
    const where = parts.pop()!;
    if (parts.length === 2) ch.context = parts.shift()!;
    if (parts.length === 1) ch.exten = parts.shift()!;
    ext = find(ch.context, ch.exten);
    const byLabel = ext.priorities.find((p) => p.label === where);
    if (byLabel) prio = byLabel.priority;
    else if (/^\d+$/.test(where)) prio = Number(where);
    else throw new Error(`no label ${where} in ${ext.pattern}`);
  };

  // returns true when it jumped
  const exec = (app: string, data: string): boolean => {
    switch (app) {
      case 'NoOp':
        return false;
      case 'Set': {
        // Set(name=value); an empty value deletes the variable (pbx_builtin_setvar)
        const eq = data.indexOf('=');
        if (eq <= 0) throw new Error(`Set(${data}): needs name=value`);
        const name = data.slice(0, eq).trim();
        const value = data.slice(eq + 1);
        if (value === '') ch.vars.delete(name);
        else ch.vars.set(name, value);
        return false;
      }
      case 'AGI': {
        const [url = '', ...args] = data.split(',');
        agi.push({ url, args });
        if (/^agi:\/\/[^/]*:4577\//.test(url)) {
          for (const [k, v] of Object.entries(sc.callLog ?? {})) ch.vars.set(k, v);
          ch.vars.set('AGISTATUS', 'SUCCESS');
          return false;
        }
        for (const [k, v] of Object.entries(sc.daemon.set ?? {})) ch.vars.set(k, v);
        if (sc.daemon.cause !== undefined) ch.cause = sc.daemon.cause;
        ch.vars.set('AGISTATUS', sc.daemon.agiStatus);
        if (sc.daemon.agiStatus === 'HANGUP') throw new Stop('caller-gone', null);
        return false;
      }
      case 'GotoIf': {
        const q = data.indexOf('?');
        if (q < 0) throw new Error(`GotoIf(${data}): needs condition?label`);
        const [yes = '', no = ''] = data.slice(q + 1).split(':');
        const target = checkCondition(data.slice(0, q)) ? yes : no;
        if (target.trim() === '') return false;
        goto(target);
        return true;
      }
      case 'ExecIf': {
        // ExecIf(cond?app(args)[:app(args)]) (app_exec.c execif_exec)
        const q = data.indexOf('?');
        if (q < 0) throw new Error(`ExecIf(${data}): needs condition?app(args)`);
        const branches = data.slice(q + 1);
        const colon = branches.search(/\):|:(?=[A-Za-z]+\()/);
        const yes = colon < 0 ? branches : branches.slice(0, branches[colon] === ')' ? colon + 1 : colon);
        const no = colon < 0 ? '' : branches.slice(branches[colon] === ')' ? colon + 2 : colon + 1);
        const pick = checkCondition(data.slice(0, q)) ? yes : no;
        if (pick.trim() === '') return false;
        const { app: a, data: d } = splitApp(pick);
        return exec(a, d);
      }
      case 'Goto':
        goto(data);
        return true;
      case 'Dial': {
        const [channels = ''] = data.split(',');
        if (channels.includes('&')) throw new Error(`Dial(${data}): more than one channel in a static Dial`);
        dials.push(data);
        const r = results.shift();
        if (!r) throw new Error(`unexpected Dial #${dials.length}: ${data}`);
        ch.vars.set('DIALSTATUS', r.status);
        if (r.cause !== undefined) ch.cause = r.cause;
        return false;
      }
      case 'Hangup': {
        // pbx_builtin_hangup: a cause sets it; empty (or unreadable) keeps the channel's, 16 when it has none
        const t = data.trim();
        const n = /^\d+$/.test(t) ? Number(t) : 0;
        if (n > 0) ch.cause = n;
        else if (ch.cause <= 0) ch.cause = 16;
        throw new Stop('hangup', ch.cause);
      }
      default:
        throw new Error(`application ${app} is not in the interpreter's subset`);
    }
  };

  for (let steps = 0; steps < 1000; steps++) {
    const p = ext.priorities.find((x) => x.priority === prio);
    if (!p) return { dials, agi, hangupCause: null, end: 'fell-through', vars: ch.vars };
    try {
      if (!exec(p.app, ch.substitute(p.data))) prio++;
    } catch (e) {
      if (e instanceof Stop) return { dials, agi, hangupCause: e.cause, end: e.end, vars: ch.vars };
      throw e;
    }
  }
  throw new Error('more than 1000 priorities: a loop');
}
