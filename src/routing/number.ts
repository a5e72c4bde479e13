import type { RouteConfig } from '../config/types.js';

export type NumberResult = { readonly ok: true; readonly number: string } | { readonly ok: false; readonly reason: string };

/** Digits with an optional leading `+`, 32 characters at most: nothing else may reach a Dial string. */
export const SAFE_NUMBER = /^\+?[0-9]{1,31}$/;

/** Applies the route's transform (strip leading digits, add a prefix) and refuses anything but a plain number. */
export function normalizeNumber(raw: string, route: Pick<RouteConfig, 'stripDigits' | 'prefix'>): NumberResult {
  if (!/^\+?[0-9]+$/.test(raw)) {
    return { ok: false, reason: `number ${JSON.stringify(raw.slice(0, 40))} has characters other than digits and a leading +` };
  }
  const plus = raw.startsWith('+') ? '+' : '';
  const digits = plus ? raw.slice(1) : raw;
  if (route.stripDigits > 0 && digits.length <= route.stripDigits) {
    return { ok: false, reason: `number ${raw} is too short to strip ${route.stripDigits} digit(s)` };
  }
  const n = route.prefix + plus + digits.slice(route.stripDigits);
  if (!SAFE_NUMBER.test(n)) {
    return { ok: false, reason: `number ${JSON.stringify(n.slice(0, 40))} is not digits with an optional leading + (32 characters at most)` };
  }
  return { ok: true, number: n };
}
