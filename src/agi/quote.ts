import { AgiUnsafeArgumentError } from './errors.js';

/**
 * Quotes one AGI argument the way res_agi.c's parse_args() reads it back: inside double quotes,
 * with `\` escaping the next character. CR/LF/NUL are refused, never stripped: a newline would
 * end the command and start another one chosen by whoever controls the value.
 */
export function quoteArg(value: string): string {
  if (/[\r\n\0]/.test(value)) {
    throw new AgiUnsafeArgumentError(`argument contains CR, LF or NUL: ${JSON.stringify(value)}`);
  }
  if (value.indexOf('"') < 0 && value.indexOf('\\') < 0) return `"${value}"`;
  // what holds a quote is, in practice, one of the daemon's own read expressions, sent after every Dial: a global
  // regex replace costs some 10,000 instructions, so each is escaped once (a bounded cache, for the odd other value)
  const known = ESCAPED.get(value);
  if (known !== undefined) return known;
  const quoted = `"${value.replace(/[\\"]/g, '\\$&')}"`;
  if (ESCAPED.size < ESCAPED_MAX) ESCAPED.set(value, quoted);
  return quoted;
}

const ESCAPED = new Map<string, string>();
const ESCAPED_MAX = 64;

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,79}$/;

/** Channel variable names we set are our own constants, but a bad one must never reach the wire. */
export function checkVariableName(name: string): string {
  if (!VARIABLE_NAME.test(name)) {
    throw new AgiUnsafeArgumentError(`not a channel variable name: ${JSON.stringify(name)}`);
  }
  return name;
}
