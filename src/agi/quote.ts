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
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,79}$/;

/** Channel variable names we set are our own constants, but a bad one must never reach the wire. */
export function checkVariableName(name: string): string {
  if (!VARIABLE_NAME.test(name)) {
    throw new AgiUnsafeArgumentError(`not a channel variable name: ${JSON.stringify(name)}`);
  }
  return name;
}
