import type { CarrierConfig } from '../config/types.js';

/**
 * Carrier capacity caps as pure functions: a carrier's contract (channels at once, calls per second) and what one
 * dialer may use of it. The daemon holds one CarrierUsage per carrier (src/calls/capacity-ledger.ts); every decision
 * about it is made here, with the time passed in.
 */

/** A carrier's contract as this dialer may use it; null = no cap. */
export interface CapacityLimits {
  /** floor(maxChannels × clusterShare): channels this dialer may hold at once. */
  readonly channels: number | null;
  /** maxCps × clusterShare: calls per second this dialer may start. */
  readonly cps: number | null;
  /** How the limits were derived, for the skip reason: '' when clusterShare is 1. */
  readonly share: string;
}

/** What one carrier uses now, as the daemon counts it. */
export interface CarrierUsage {
  /** Dial legs in progress on the carrier (a bridged call holds its leg until Dial returns). */
  readonly channels: number;
  /** Tokens in the cps bucket at `at` (unused without a cps cap). */
  readonly tokens: number;
  /** Epoch ms the bucket was last brought up to date. */
  readonly at: number;
  /** The whole second (epoch s) `starts` counts, and the count of the second before it. */
  readonly second: number;
  readonly starts: number;
  readonly startsBefore: number;
  /** Dial legs started since the daemon started (the cps counter metric). */
  readonly startsTotal: number;
}

/**
 * `u` with some counts replaced, every key written out: a spread followed by more keys defines each of them through
 * V8's runtime, and this runs for every Dial leg taken and released.
 */
function usageWith(u: CarrierUsage, c: Partial<{ -readonly [K in keyof CarrierUsage]: number }>): CarrierUsage {
  return {
    channels: c.channels !== undefined ? c.channels : u.channels,
    tokens: c.tokens !== undefined ? c.tokens : u.tokens,
    at: c.at !== undefined ? c.at : u.at,
    second: c.second !== undefined ? c.second : u.second,
    starts: c.starts !== undefined ? c.starts : u.starts,
    startsBefore: c.startsBefore !== undefined ? c.startsBefore : u.startsBefore,
    startsTotal: c.startsTotal !== undefined ? c.startsTotal : u.startsTotal,
  };
}

/** A tolerance for the bucket's float arithmetic: 10 × 0.1 s of refill at 1 cps must make one whole token. */
const EPSILON = 1e-9;

export function limitsOf(c: Pick<CarrierConfig, 'maxChannels' | 'maxCps' | 'clusterShare'>): CapacityLimits {
  const share = c.clusterShare > 0 && c.clusterShare <= 1 ? c.clusterShare : 1;
  return {
    channels: c.maxChannels > 0 ? Math.floor(c.maxChannels * share) : null,
    cps: c.maxCps > 0 ? c.maxCps * share : null,
    share: share === 1 ? '' : `clusterShare ${share}`,
  };
}

/**
 * The bucket holds at most one second of calls (and at least one token): a dialer that launches its calls in bursts,
 * as VICIdial does once a second, may start maxCps of them at once, then maxCps a second. Over any T seconds it
 * starts at most maxCps × (T + 1) calls.
 */
export function burstOf(limits: CapacityLimits): number {
  return limits.cps === null ? 0 : Math.max(1, limits.cps);
}

/** A carrier nobody has dialed yet: no channel held, a full bucket. */
export function freshUsage(limits: CapacityLimits, now: number): CarrierUsage {
  return { channels: 0, tokens: burstOf(limits), at: now, second: Math.floor(now / 1000), starts: 0, startsBefore: 0, startsTotal: 0 };
}

/** The bucket refilled up to `now`. A clock that went back refills nothing (and restarts from the earlier time). */
export function refill(u: CarrierUsage, limits: CapacityLimits, now: number): CarrierUsage {
  if (limits.cps === null) return u.at === now ? u : usageWith(u, { at: now });
  const elapsed = Math.max(0, now - u.at);
  return usageWith(u, { tokens: Math.min(burstOf(limits), u.tokens + (elapsed / 1000) * limits.cps), at: now });
}

function cpsText(cps: number): string {
  return Number.isInteger(cps) ? String(cps) : String(Math.round(cps * 1000) / 1000);
}

function ofContract(limits: CapacityLimits, contract: number): string {
  return limits.share ? ` (${limits.share} of ${cpsText(contract)})` : '';
}

/**
 * Why a Dial leg on this carrier must not start now, or null: the skip row's reason ("at channel cap 30/30",
 * "at 10 cps"). `contract` is the carrier's own maxChannels and maxCps, named when clusterShare cuts them.
 */
export function capacityBlock(
  u: CarrierUsage,
  limits: CapacityLimits,
  now: number,
  contract: Pick<CarrierConfig, 'maxChannels' | 'maxCps'> = { maxChannels: 0, maxCps: 0 },
): string | null {
  if (limits.channels !== null && u.channels >= limits.channels) {
    return `at channel cap ${u.channels}/${limits.channels}${ofContract(limits, contract.maxChannels)}`;
  }
  if (limits.cps !== null && refill(u, limits, now).tokens < 1 - EPSILON) {
    return `at ${cpsText(limits.cps)} cps${ofContract(limits, contract.maxCps)}`;
  }
  return null;
}

/** Which cap a skip reason names: what the skip metric's reason label and `plan` key on. */
export function capacityReasonKind(reason: string): 'channel_cap' | 'cps_cap' | null {
  if (reason.startsWith('at channel cap ')) return 'channel_cap';
  if (/^at [0-9.]+ cps\b/.test(reason)) return 'cps_cap';
  return null;
}

function counted(u: CarrierUsage, now: number): CarrierUsage {
  const second = Math.floor(now / 1000);
  if (second === u.second) return u;
  // the count of the second just before this one; a gap of more than a second means that second had none
  return usageWith(u, { second, starts: 0, startsBefore: second === u.second + 1 ? u.starts : 0 });
}

/** A Dial leg starts: one channel held, one token spent. Only after capacityBlock said null, in the same tick. */
export function takeChannel(u: CarrierUsage, limits: CapacityLimits, now: number): CarrierUsage {
  const r = counted(refill(u, limits, now), now);
  return usageWith(r, { channels: r.channels + 1, tokens: limits.cps === null ? r.tokens : Math.max(0, r.tokens - 1), starts: r.starts + 1, startsTotal: r.startsTotal + 1 });
}

/** The Dial returned (its call, if bridged, is over): the channel is free. Never below zero. */
export function releaseChannel(u: CarrierUsage): CarrierUsage {
  return usageWith(u, { channels: Math.max(0, u.channels - 1) });
}

/** Calls started in the last whole second, for `status`. */
export function startsLastSecond(u: CarrierUsage, now: number): number {
  return counted(u, now).startsBefore;
}

/** The same usage under new limits (a config reload): channels held stay held; the bucket never holds more than the new burst. */
export function relimit(u: CarrierUsage, before: CapacityLimits, after: CapacityLimits, now: number): CarrierUsage {
  const r = refill(u, before, now);
  if (after.cps === null) return r;
  return usageWith(r, { tokens: before.cps === null ? burstOf(after) : Math.min(r.tokens, burstOf(after)) });
}
