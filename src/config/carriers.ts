import { checkDialTemplate, SAFE_DIAL_OPTIONS } from '../routing/dial-string.js';
import { prefixMatcher, type PrefixGroup, type PrefixMatcher } from '../routing/prefix-group.js';
import { STRATEGIES, type AdaptiveProgress, type BudgetLimit, type CarrierBudget, type CarrierConfig, type RouteConfig, type RoutingConfig, type Strategy } from './types.js';

export type RouteEntry = RouteConfig & { readonly script: string };

export interface ValidatedRouting extends RoutingConfig {
  readonly routes: ReadonlyMap<string, RouteEntry>;
  /** `prefixGroups`: destinations whose health the breaker follows per carrier (issue 15). */
  readonly prefixGroups: readonly PrefixGroup[];
  readonly prefixMatcher: PrefixMatcher;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Collects every problem with a key path and the bad value, so one check-config run shows them all. */
class Problems {
  readonly list: string[] = [];
  add(path: string, value: unknown, why: string): void {
    this.list.push(`${path} = ${JSON.stringify(value)}: ${why}`);
  }
}

function str(p: Problems, o: Obj, key: string, path: string, def?: string): string {
  const v = o[key];
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== 'string') {
    p.add(`${path}.${key}`, v, 'must be a string');
    return def ?? '';
  }
  return v;
}

function int(p: Problems, o: Obj, key: string, path: string, def: number, min: number, max: number): number {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    p.add(`${path}.${key}`, v, `must be a whole number from ${min} to ${max}`);
    return def;
  }
  return v;
}

/** A JSON number (fractions allowed) from min to max; a string such as "10" is refused, never read as 10. */
function num(p: Problems, o: Obj, key: string, path: string, def: number, min: number, max: number, why: string): number {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    p.add(`${path}.${key}`, v, why);
    return def;
  }
  return v;
}

function codes(p: Problems, o: Obj, key: string, path: string, def: readonly number[]): number[] {
  const v = o[key];
  if (v === undefined) return [...def];
  if (!Array.isArray(v) || !v.every((c) => typeof c === 'number' && Number.isInteger(c) && c >= 300 && c <= 699)) {
    p.add(`${path}.${key}`, v, 'must be a list of SIP response codes (300-699)');
    return [];
  }
  return v as number[];
}

/** Every key a carrier accepts (other keys are refused); docs/configuration.md documents each of them. */
export const CARRIER_KEYS: readonly string[] = [
  'name',
  'dial',
  'peer',
  'ringTimeout',
  'progressTimeout',
  'adaptiveProgress',
  'dialOptions',
  'weight',
  'enabled',
  'retrySipCodes',
  'finalSipCodes',
  'retryAfterRinging',
  'maxChannels',
  'maxCps',
  'clusterShare',
  'pricePerMinute',
  'pricePerCall',
  'billingIncrement',
  'budget',
];
/** Every key a carrier's `budget` accepts. */
export const BUDGET_KEYS: readonly string[] = ['perHour', 'perDay', 'action', 'alertShare'];
/** Every key of a budget window (`perHour`, `perDay`). */
export const BUDGET_LIMIT_KEYS: readonly string[] = ['minutes', 'money'];
/** The defaults of a budget's keys; a budget sets perHour, perDay or both. */
export const BUDGET_DEFAULTS = { action: 'skip', alertShare: 0.8 } as const;
/** Every key a carrier's `adaptiveProgress` accepts; each has a default, so `{}` turns the mode on as documented. */
export const ADAPTIVE_PROGRESS_KEYS: readonly string[] = ['percentile', 'factor', 'minSeconds', 'maxSeconds', 'minSamples', 'windowMinutes'];
/**
 * The defaults of adaptiveProgress: a carrier whose delays have a p99 of 1 s gets 1.5 s; one whose p99 is 6 s gets
 * 9 s; never under 1.5 s (a 1.0 s p99 from a quiet hour must not cut the next slow-but-normal call) nor over 10 s.
 * 50 delays before the carrier's own figures are trusted; the whole hour the quality window keeps.
 */
export const ADAPTIVE_PROGRESS_DEFAULTS: AdaptiveProgress = { percentile: 99, factor: 1.5, minSeconds: 1.5, maxSeconds: 10, minSamples: 50, windowMinutes: 60 };
/** The quality window keeps this many minutes (src/health/quality-window.ts: 60 one-minute buckets). */
const QUALITY_WINDOW_MINUTES = 60;
/** Every key a route accepts. */
export const ROUTE_KEYS: readonly string[] = ['name', 'script', 'pattern', 'strategy', 'carriers', 'maxAttempts', 'stripDigits', 'prefix', 'whenAllDown', 'callBudget'];

/** Every key a prefix group accepts; both are required. */
export const PREFIX_GROUP_KEYS: readonly string[] = ['name', 'prefixes'];

/** The fixed defaults of carrier keys; name and dial are required, peer defaults to the name. */
export const CARRIER_DEFAULTS = {
  ringTimeout: 60,
  progressTimeout: 5,
  /** Off: the configured progressTimeout on every Dial, as before issue 16. */
  adaptiveProgress: null as AdaptiveProgress | null,
  dialOptions: 'T',
  weight: 1,
  enabled: true,
  retrySipCodes: [] as readonly number[],
  finalSipCodes: [] as readonly number[],
  retryAfterRinging: false,
  maxChannels: 0,
  maxCps: 0,
  clusterShare: 1,
  pricePerMinute: 0,
  pricePerCall: 0,
  billingIncrement: 1,
} as const;

/** The fixed defaults of route keys; name and carriers are required, script defaults to the name, maxAttempts to the number of carriers, pattern to none. */
export const ROUTE_DEFAULTS = { strategy: 'failover', stripDigits: 0, prefix: '', whenAllDown: 'try', callBudget: 0 } as const;

function unknownKeys(p: Problems, o: Obj, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) p.add(`${path}.${k}`, o[k], `unknown key (allowed: ${allowed.join(', ')})`);
}

function parseLimit(p: Problems, raw: unknown, path: string, priced: boolean): BudgetLimit | null {
  if (raw === undefined) return null;
  if (!isObj(raw)) {
    p.add(path, raw, 'must be an object such as { "minutes": 600 } or { "money": 50 }');
    return null;
  }
  unknownKeys(p, raw, BUDGET_LIMIT_KEYS, path);
  const one = (key: 'minutes' | 'money'): number | null => {
    const v = raw[key];
    if (v === undefined) return null;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 1e9) {
      p.add(`${path}.${key}`, v, key === 'minutes' ? 'must be a number of talk minutes above 0, e.g. 600 or 0.5' : 'must be an amount above 0 in the units of pricePerMinute, e.g. 50');
      return null;
    }
    return v;
  };
  const minutes = one('minutes');
  const money = one('money');
  if (raw['minutes'] === undefined && raw['money'] === undefined) p.add(path, raw, 'must set minutes, money or both');
  if (money !== null && !priced) p.add(`${path}.money`, money, 'a money budget needs pricePerMinute or pricePerCall on the carrier: without a price nothing is ever spent');
  return { minutes, money };
}

function parseBudget(p: Problems, raw: unknown, path: string, priced: boolean): CarrierBudget | null {
  if (raw === undefined || raw === null) return null;
  if (!isObj(raw)) {
    p.add(path, raw, 'must be an object such as { "perHour": { "minutes": 600 } }');
    return null;
  }
  unknownKeys(p, raw, BUDGET_KEYS, path);
  const perHour = parseLimit(p, raw['perHour'], `${path}.perHour`, priced);
  const perDay = parseLimit(p, raw['perDay'], `${path}.perDay`, priced);
  if (raw['perHour'] === undefined && raw['perDay'] === undefined) p.add(path, raw, 'must set perHour, perDay or both');
  const action = str(p, raw, 'action', path, BUDGET_DEFAULTS.action);
  if (action !== 'skip' && action !== 'demote') p.add(`${path}.action`, action, 'must be skip (the carrier is not dialed for the rest of the window) or demote (it is dialed after the carriers within budget)');
  const alertShare = num(p, raw, 'alertShare', path, BUDGET_DEFAULTS.alertShare, 0, 1, 'must be a share above 0 and at most 1, e.g. 0.8 for 80 %');
  if (alertShare === 0) p.add(`${path}.alertShare`, 0, 'must be above 0, e.g. 0.8 for 80 %');
  return { perHour, perDay, action: action === 'demote' ? 'demote' : 'skip', alertShare };
}

/** A number of seconds Dial can be given: tenths at most (Dial reads `%lf`, the daemon writes tenths). */
function tenths(v: number): boolean {
  return Math.abs(v * 10 - Math.round(v * 10)) < 1e-9;
}

/**
 * `adaptiveProgress`: absent or null = off. Every value is checked, none is read as another (a string "99" is
 * refused, not taken as 99), and the bounds must make sense together and with the configured progressTimeout.
 */
function parseAdaptive(p: Problems, raw: unknown, path: string, progressTimeout: number): AdaptiveProgress | null {
  if (raw === undefined || raw === null) return null;
  if (!isObj(raw)) {
    p.add(path, raw, 'must be an object such as {} (the defaults) or { "percentile": 99, "factor": 1.5, "minSeconds": 1.5, "maxSeconds": 10, "minSamples": 50, "windowMinutes": 60 }; leave it out (or null) to keep progressTimeout fixed');
    return null;
  }
  unknownKeys(p, raw, ADAPTIVE_PROGRESS_KEYS, path);
  const d = ADAPTIVE_PROGRESS_DEFAULTS;
  const percentile = num(p, raw, 'percentile', path, d.percentile, 50, 100, 'must be a percentile from 50 to 100, e.g. 99 or 99.5');
  const factor = num(p, raw, 'factor', path, d.factor, 1, 10, 'must be a factor from 1 to 10 (below 1 would cut the carrier\'s normal delays by design), e.g. 1.5');
  const minSeconds = num(p, raw, 'minSeconds', path, d.minSeconds, 0.5, 3600, 'must be seconds from 0.5 to 3600, e.g. 1.5');
  const maxSeconds = num(p, raw, 'maxSeconds', path, d.maxSeconds, 0.5, 3600, 'must be seconds from 0.5 to 3600, e.g. 10');
  for (const [k, v] of [['minSeconds', minSeconds], ['maxSeconds', maxSeconds]] as const) {
    if (raw[k] !== undefined && !tenths(v)) p.add(`${path}.${k}`, v, 'must be whole tenths of a second (Dial\'s timer is written in tenths), e.g. 1.5');
  }
  if (minSeconds > maxSeconds) p.add(`${path}.minSeconds`, minSeconds, `must not be above maxSeconds (${maxSeconds})`);
  const minSamples = int(p, raw, 'minSamples', path, d.minSamples, 1, 1_000_000);
  const windowMinutes = int(p, raw, 'windowMinutes', path, d.windowMinutes, 1, QUALITY_WINDOW_MINUTES);
  if (progressTimeout === 0) p.add(path, raw, 'needs a progressTimeout above 0: it is the value used until the carrier has minSamples delays (0 turns Dial\'s progress timer off)');
  return { percentile, factor, minSeconds, maxSeconds, minSamples, windowMinutes };
}

function parseCarrier(p: Problems, raw: unknown, path: string): CarrierConfig | null {
  if (!isObj(raw)) {
    p.add(path, raw, 'must be an object');
    return null;
  }
  unknownKeys(p, raw, CARRIER_KEYS, path);
  const name = str(p, raw, 'name', path);
  if (!NAME.test(name)) p.add(`${path}.name`, name, 'must be 1-64 letters, digits, _ . - (starting with a letter or digit)');
  const dial = str(p, raw, 'dial', path);
  const why = checkDialTemplate(dial);
  if (why) p.add(`${path}.dial`, dial, why);
  const peer = str(p, raw, 'peer', path, name);
  if (!/^[A-Za-z0-9_.@:/-]{1,128}$/.test(peer)) p.add(`${path}.peer`, peer, 'must be an Asterisk peer, endpoint or AOR name');
  const dialOptions = str(p, raw, 'dialOptions', path, CARRIER_DEFAULTS.dialOptions);
  if (!SAFE_DIAL_OPTIONS.test(dialOptions)) p.add(`${path}.dialOptions`, dialOptions, 'Dial options may hold letters, digits, ( ) ^ : only');
  const enabled = raw['enabled'] ?? CARRIER_DEFAULTS.enabled;
  if (typeof enabled !== 'boolean') p.add(`${path}.enabled`, enabled, 'must be true or false');
  const retryAfterRinging = raw['retryAfterRinging'] ?? CARRIER_DEFAULTS.retryAfterRinging;
  if (typeof retryAfterRinging !== 'boolean') p.add(`${path}.retryAfterRinging`, retryAfterRinging, 'must be true or false');
  const ringTimeout = int(p, raw, 'ringTimeout', path, CARRIER_DEFAULTS.ringTimeout, 1, 3600);
  const progressTimeout = int(p, raw, 'progressTimeout', path, CARRIER_DEFAULTS.progressTimeout, 0, 3600);
  const maxChannels = int(p, raw, 'maxChannels', path, CARRIER_DEFAULTS.maxChannels, 0, 100000);
  const maxCps = num(p, raw, 'maxCps', path, CARRIER_DEFAULTS.maxCps, 0, 10000, 'must be a number of calls per second from 0 (no cap) to 10000, e.g. 10 or 0.5');
  const clusterShare = num(p, raw, 'clusterShare', path, CARRIER_DEFAULTS.clusterShare, 0, 1, 'must be a number above 0 and at most 1 (the share of maxChannels and maxCps this dialer may use)');
  if (clusterShare === 0) p.add(`${path}.clusterShare`, 0, 'must be above 0: a share of 0 would leave this dialer nothing (set enabled: false to stop using the carrier)');
  else if (maxChannels > 0 && Math.floor(maxChannels * clusterShare) === 0) {
    p.add(`${path}.clusterShare`, clusterShare, `maxChannels ${maxChannels} × clusterShare ${clusterShare} rounds down to 0 channels: this dialer could never dial the carrier`);
  }
  if (raw['clusterShare'] === clusterShare && clusterShare > 0 && raw['maxChannels'] === undefined && raw['maxCps'] === undefined) {
    p.add(`${path}.clusterShare`, raw['clusterShare'], 'has nothing to share: set maxChannels or maxCps (the contract) as well');
  }
  const pricePerMinute = num(p, raw, 'pricePerMinute', path, CARRIER_DEFAULTS.pricePerMinute, 0, 1e6, 'must be a price per minute from 0 upward, in money units (e.g. 0.012)');
  const pricePerCall = num(p, raw, 'pricePerCall', path, CARRIER_DEFAULTS.pricePerCall, 0, 1e6, 'must be a price per answered call from 0 upward, in money units');
  const billingIncrement = int(p, raw, 'billingIncrement', path, CARRIER_DEFAULTS.billingIncrement, 1, 3600);
  const budget = parseBudget(p, raw['budget'], `${path}.budget`, pricePerMinute > 0 || pricePerCall > 0);
  return {
    name,
    dial,
    peer,
    ringTimeout,
    progressTimeout,
    adaptiveProgress: parseAdaptive(p, raw['adaptiveProgress'], `${path}.adaptiveProgress`, progressTimeout),
    dialOptions,
    weight: int(p, raw, 'weight', path, CARRIER_DEFAULTS.weight, 0, 1000),
    enabled: enabled === true,
    retrySipCodes: codes(p, raw, 'retrySipCodes', path, CARRIER_DEFAULTS.retrySipCodes),
    finalSipCodes: codes(p, raw, 'finalSipCodes', path, CARRIER_DEFAULTS.finalSipCodes),
    retryAfterRinging: retryAfterRinging === true,
    maxChannels,
    maxCps,
    clusterShare,
    pricePerMinute,
    pricePerCall,
    billingIncrement,
    budget,
  };
}

function parseRoute(p: Problems, raw: unknown, path: string, carriers: ReadonlyMap<string, CarrierConfig>): RouteEntry | null {
  if (!isObj(raw)) {
    p.add(path, raw, 'must be an object');
    return null;
  }
  unknownKeys(p, raw, ROUTE_KEYS, path);
  const name = str(p, raw, 'name', path);
  if (!NAME.test(name)) p.add(`${path}.name`, name, 'must be 1-64 letters, digits, _ . -');
  const script = str(p, raw, 'script', path, name);
  const patternRaw = raw['pattern'];
  let pattern: string | null = null;
  if (patternRaw !== undefined && patternRaw !== null) {
    if (typeof patternRaw !== 'string') p.add(`${path}.pattern`, patternRaw, 'must be a regular expression string');
    else {
      try {
        new RegExp(patternRaw);
        pattern = patternRaw;
      } catch (err) {
        p.add(`${path}.pattern`, patternRaw, `not a valid regular expression (${(err as Error).message})`);
      }
    }
  }
  const strategy = str(p, raw, 'strategy', path, ROUTE_DEFAULTS.strategy) as Strategy;
  if (!STRATEGIES.includes(strategy)) p.add(`${path}.strategy`, strategy, `must be one of ${STRATEGIES.join(', ')}`);
  const list = raw['carriers'];
  const names: string[] = [];
  if (!Array.isArray(list) || list.length === 0) p.add(`${path}.carriers`, list, 'must be a non-empty list of carrier names');
  else {
    list.forEach((c, i) => {
      if (typeof c !== 'string' || !carriers.has(c)) p.add(`${path}.carriers[${i}]`, c, `unknown carrier (known: ${[...carriers.keys()].join(', ') || 'none'})`);
      else if (names.includes(c)) p.add(`${path}.carriers[${i}]`, c, 'listed twice');
      else names.push(c);
    });
  }
  const whenAllDown = str(p, raw, 'whenAllDown', path, ROUTE_DEFAULTS.whenAllDown);
  if (whenAllDown !== 'try' && whenAllDown !== 'refuse') p.add(`${path}.whenAllDown`, whenAllDown, 'must be try or refuse');
  const prefix = str(p, raw, 'prefix', path, ROUTE_DEFAULTS.prefix);
  if (!/^\+?[0-9]*$/.test(prefix)) p.add(`${path}.prefix`, prefix, 'must be digits with an optional leading +');
  return {
    name,
    script,
    pattern,
    strategy,
    carriers: names,
    maxAttempts: int(p, raw, 'maxAttempts', path, Math.max(names.length, 1), 1, 32),
    stripDigits: int(p, raw, 'stripDigits', path, ROUTE_DEFAULTS.stripDigits, 0, 16),
    prefix,
    whenAllDown: whenAllDown === 'refuse' ? 'refuse' : 'try',
    callBudget: int(p, raw, 'callBudget', path, ROUTE_DEFAULTS.callBudget, 0, 3600),
  };
}

function parsePrefixGroup(p: Problems, raw: unknown, path: string, owner: Map<string, string>): PrefixGroup | null {
  if (!isObj(raw)) {
    p.add(path, raw, 'must be an object with name and prefixes');
    return null;
  }
  unknownKeys(p, raw, PREFIX_GROUP_KEYS, path);
  const name = str(p, raw, 'name', path);
  if (!NAME.test(name)) p.add(`${path}.name`, name, 'must be 1-64 letters, digits, _ . - (starting with a letter or digit)');
  const list = raw['prefixes'];
  const prefixes: string[] = [];
  if (!Array.isArray(list) || list.length === 0) p.add(`${path}.prefixes`, list, 'must be a non-empty list of digit strings, e.g. ["447"]');
  else {
    list.forEach((x, i) => {
      if (typeof x !== 'string' || !/^[0-9]{1,16}$/.test(x)) {
        p.add(`${path}.prefixes[${i}]`, x, 'must be a string of 1-16 digits (no +: the match ignores the number\'s leading +)');
        return;
      }
      const other = owner.get(x);
      if (other !== undefined) p.add(`${path}.prefixes[${i}]`, x, other === name ? 'listed twice' : `already in prefix group ${other}: a number must fall in one group only`);
      else {
        owner.set(x, name);
        prefixes.push(x);
      }
    });
  }
  return { name, prefixes };
}

function parsePrefixGroups(p: Problems, raw: unknown): PrefixGroup[] {
  const out: PrefixGroup[] = [];
  if (raw === undefined) return out;
  if (!Array.isArray(raw)) {
    p.add('prefixGroups', raw, 'must be a list of { "name": ..., "prefixes": [...] }');
    return out;
  }
  const owner = new Map<string, string>();
  raw.forEach((g, i) => {
    const group = parsePrefixGroup(p, g, `prefixGroups[${i}]`, owner);
    if (!group) return;
    if (out.some((o) => o.name === group.name)) p.add(`prefixGroups[${i}].name`, group.name, 'duplicate prefix group name');
    else out.push(group);
  });
  return out;
}

export type RoutingResult = { readonly ok: true; readonly routing: ValidatedRouting } | { readonly ok: false; readonly problems: readonly string[] };

/** Validates carriers and routes from a config file; every problem names its key path and value. */
export function parseRouting(rawCarriers: unknown, rawRoutes: unknown, rawPrefixGroups?: unknown): RoutingResult {
  const p = new Problems();
  const prefixGroups = parsePrefixGroups(p, rawPrefixGroups);
  const carriers = new Map<string, CarrierConfig>();
  if (!Array.isArray(rawCarriers)) p.add('carriers', rawCarriers, 'must be a list');
  else {
    rawCarriers.forEach((raw, i) => {
      const c = parseCarrier(p, raw, `carriers[${i}]`);
      if (!c) return;
      if (carriers.has(c.name)) p.add(`carriers[${i}].name`, c.name, 'duplicate carrier name');
      else carriers.set(c.name, c);
    });
  }
  const routes = new Map<string, RouteEntry>();
  if (!Array.isArray(rawRoutes)) p.add('routes', rawRoutes, 'must be a list');
  else {
    rawRoutes.forEach((raw, i) => {
      const r = parseRoute(p, raw, `routes[${i}]`, carriers);
      if (!r) return;
      if (routes.has(r.name)) p.add(`routes[${i}].name`, r.name, 'duplicate route name');
      else routes.set(r.name, r);
    });
  }
  if (p.list.length > 0) return { ok: false, problems: p.list };
  return { ok: true, routing: { carriers, routes, prefixGroups, prefixMatcher: prefixMatcher(prefixGroups) } };
}

const patterns = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) {
    re = new RegExp(pattern);
    patterns.set(pattern, re);
  }
  return re;
}

/**
 * Picks the route for a call: `?route=NAME` in the AGI URL names one directly; otherwise the first route,
 * in config order, whose script is the AGI script path and whose pattern, when it has one, matches the number.
 */
export function findRoute(routing: ValidatedRouting, script: string, number: string, named?: string): RouteEntry | null {
  if (named) return routing.routes.get(named) ?? null;
  for (const r of routing.routes.values()) {
    if (r.script !== script) continue;
    if (r.pattern !== null && !compiled(r.pattern).test(number)) continue;
    return r;
  }
  return null;
}
