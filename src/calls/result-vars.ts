import { checkVariableName } from '../agi/quote.js';
import { OUTCOME_SEPARATOR } from '../routing/outcome.js';

/** The variables that tell the dialplan how the call ended, in the order they are set: FAILOVER_STATUS first. */
export type ResultVars = readonly (readonly [name: string, value: string])[];

/**
 * What a value put inside `${SET(NAME=value)}` must not hold: `$ { }` would open or end an expression, `( ) ,` end
 * the function's argument, `|` shift the pieces of the reply, `\ "` are the AGI quoting's, and control characters
 * have no business in a result. Our values are status words, carrier names, digits and DIALSTATUS words; anything
 * else is set by SET VARIABLE, which takes every value.
 */
const UNSAFE_IN_SET = /[${}(),|\\"\x00-\x1f\x7f]/;

/**
 * The result variables set in one round trip: one `${SET(NAME=value)}` per variable, left to right, so FAILOVER_STATUS
 * is set first as by the SET VARIABLEs (GET FULL VARIABLE expands left to right, pbx_variables.c:407-583). SET() sets
 * the variable as SET VARIABLE does and expands to the value (func_logic.c:266-286, res_agi.c:3405-3416: both call
 * pbx_builtin_setvar_helper), and GET FULL VARIABLE is allowed on a dead channel like SET VARIABLE (res_agi.c:3921).
 * Null when a value could break the expression: the caller sets them one by one instead.
 */
export function setExpression(vars: ResultVars): string | null {
  if (vars.length === 0 || vars.some(([, value]) => UNSAFE_IN_SET.test(value))) return null;
  return vars.map(([name, value]) => `\${SET(${checkVariableName(name)}=${value})}`).join(OUTCOME_SEPARATOR);
}

/**
 * The reply shows every value SET() returned, so it proves each was set. SET() strips the value (ast_strip,
 * func_logic.c:280) and expands to nothing where func_logic is missing (pbx_variables.c:537-583): either makes the
 * reply differ, and the caller falls back to SET VARIABLE.
 */
export function setsConfirmed(vars: ResultVars, expanded: string): boolean {
  return expanded === vars.map(([, value]) => value).join(OUTCOME_SEPARATOR);
}
