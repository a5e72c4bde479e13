/**
 * The parts of Asterisk 20.20.1's expression substitution both simulators share (agi-sim.ts and
 * conformance/channel-state.ts), for what the daemon sends: `${...}` and `$[...]` spans, IF() and `=~`.
 *
 * Substitution (ast_str_substitute_variables_full2, main/pbx_variables.c:407-649): text up to the next `$` is copied;
 * `${` scans to its matching `}` counting every `{` and `}` (:487-502), `$[` to its `]` counting `[` and `]`
 * (:592-607). A span holding a `${` or `$[` is substituted first, once (:519-531, :622-634), and that result is
 * what names the variable or function (:534-545) or is the expression (:637): the result of the inner substitution,
 * and the value a function or variable returns, are appended as they are (:582, :640), never scanned again. So a
 * channel name put into `HANGUPCAUSE(<name>,…)` by `${HANGUPCAUSE_KEYS()}` is an argument, never an expression.
 * A real Asterisk 20 read of the nested form with one key: captures/multi/answer_callee_bye.agi.raw:7-8
 * (`${HANGUPCAUSE(${HANGUPCAUSE_KEYS()},tech)}` → `SIP 200 OK`, `…,ast)}` → `Normal Clearing`).
 */

export interface Span {
  readonly kind: '{' | '[';
  readonly start: number;
  /** Index just past the closing `}` or `]`. */
  readonly end: number;
  readonly inner: string;
}

/** The `${...}` and `$[...]` spans at the top level of `text`, left to right. */
export function* spans(text: string): Generator<Span> {
  let i = 0;
  while (i < text.length) {
    const kind = text[i] === '$' ? text[i + 1] : undefined;
    if (kind !== '{' && kind !== '[') {
      i++;
      continue;
    }
    const close = kind === '{' ? '}' : ']';
    let depth = 1;
    let j = i + 2;
    while (j < text.length && depth > 0) {
      if (text[j] === kind) depth++;
      else if (text[j] === close) depth--;
      j++;
    }
    yield { kind, start: i, end: j, inner: text.slice(i + 2, depth === 0 ? j - 1 : j) };
    i = j;
  }
}

/**
 * __ast_app_separate_args() (main/app.c): split at `delim` outside `()`, `[]` and double quotes, at most `max`
 * fields. With removeChars (AST_STANDARD_APP_ARGS, AST_NONSTANDARD_APP_ARGS) quotes are dropped and a backslash makes
 * the next character literal, in every field but the last of `max`, which is the rest as it stands.
 */
export function separateArgs(buf: string, delim: string, max: number): string[] {
  const out: string[] = [];
  let cur = '';
  let paren = 0;
  let bracket = 0;
  let quote = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i] as string;
    if (c === delim && paren === 0 && bracket === 0 && !quote) {
      out.push(cur);
      if (out.length === max - 1) {
        out.push(buf.slice(i + 1));
        return out;
      }
      cur = '';
      continue;
    }
    if (c === '(') paren++;
    else if (c === ')') paren = Math.max(0, paren - 1);
    else if (c === '[') bracket++;
    else if (c === ']') bracket = Math.max(0, bracket - 1);
    else if (c === '"') {
      quote = !quote;
      continue;
    } else if (c === '\\') {
      i++;
      cur += buf[i] ?? '';
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

/** pbx_checkcondition() (main/pbx.c:8372-8382): empty is false, a leading number is its truth, any other text true. */
export function checkCondition(s: string): boolean {
  if (s === '') return false;
  const n = /^\s*[+-]?\d+/.exec(s);
  return n ? Number(n[0]) !== 0 : true;
}

/**
 * IF(<expr>?<true>:<false>) (funcs/func_logic.c:229-263): split at the first `?`, then the rest at the first `:`,
 * both outside parentheses; both sides stripped. No expression, or neither branch: the read fails (-1), logged at
 * debug level only (:250-253).
 */
export function ifFunction(args: string): string | null {
  const [expr = '', rest] = separateArgs(args, '?', 2);
  // nothing after the `?` leaves both branches NULL (:240-248): the read fails
  if (rest === undefined || rest === '' || expr.trim() === '') return null;
  const [iftrue = '', iffalse = ''] = separateArgs(rest, ':', 2);
  return checkCondition(expr.trim()) ? iftrue.trim() : iffalse.trim();
}

/**
 * A `$[...]` expression (main/ast_expr2.y), for the one form the daemon sends: `"<text>" =~ "<regex>"`. op_eqtilde
 * (:1598-1645): quotes stripped, POSIX extended regex, the number of characters matched, 0 without a match. Null for
 * any other form: the caller reports it as not simulated.
 */
export function evalExpression(text: string): string | null {
  const m = /^\s*"([^"]*)"\s*=~\s*"([^"]*)"\s*$/.exec(text);
  if (!m) return null;
  const found = new RegExp(m[2] ?? '').exec(m[1] ?? '');
  // the match is anchored at the start only by the pattern's own `^`; the length is that of the whole match
  return String(found ? found[0].length : 0);
}
