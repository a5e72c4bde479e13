import type { CarrierConfig } from '../config/types.js';
import { capacityBlock, freshUsage, limitsOf, relimit, releaseChannel, startsLastSecond, takeChannel, type CapacityLimits, type CarrierUsage } from '../routing/capacity.js';

/** One carrier's capacity as `status` and the metrics show it. */
export interface CarrierCapacity {
  readonly channelsInUse: number;
  /** Channels this dialer may use (maxChannels × clusterShare, rounded down); null = no cap. */
  readonly channelCap: number | null;
  /** Dial legs started in the last whole second. */
  readonly cpsLastSecond: number;
  /** Calls per second this dialer may start; null = no cap. */
  readonly cpsCap: number | null;
  /** Dial legs started since the daemon started. */
  readonly startsTotal: number;
  /** Why the next Dial leg would be skipped now ("at channel cap 30/30"), or null. */
  readonly atCap: string | null;
}

export type CapacitySnapshot = ReadonlyMap<string, CarrierCapacity>;

/** What a call sees of the caps. Every method is synchronous: a check and the take after it happen in one tick. */
export interface CapacityView {
  /** Why a Dial leg on this carrier must not start now, or null. */
  blocked(carrier: string, now: number): string | null;
  /** A Dial leg starts on the carrier; call it only after blocked() returned null, before any await. */
  acquire(carrier: string, now: number): void;
  /** That leg's Dial returned. */
  release(carrier: string): void;
  /** Dial legs on the carrier that have not returned yet (capped or not). */
  inUse(carrier: string): number;
}

interface Entry {
  usage: CarrierUsage;
  limits: CapacityLimits;
  contract: Pick<CarrierConfig, 'maxChannels' | 'maxCps'>;
  configured: boolean;
}

const NO_CAP: CapacityLimits = { channels: null, cps: null, share: '' };

/**
 * The daemon's channel counts and cps buckets, one per carrier name. A reload (configure) keeps them for every carrier
 * that keeps its name, so a SIGHUP never forgets the calls in progress; a carrier the new config drops is kept,
 * uncapped, until its last channel is released.
 */
export class CapacityLedger implements CapacityView {
  private readonly entries = new Map<string, Entry>();

  constructor(carriers: Iterable<CarrierConfig>, now: number) {
    this.configure(carriers, now);
  }

  configure(carriers: Iterable<CarrierConfig>, now: number): void {
    const seen = new Set<string>();
    for (const c of carriers) {
      seen.add(c.name);
      const limits = limitsOf(c);
      const contract = { maxChannels: c.maxChannels, maxCps: c.maxCps };
      const e = this.entries.get(c.name);
      if (e) {
        e.usage = relimit(e.usage, e.limits, limits, now);
        e.limits = limits;
        e.contract = contract;
        e.configured = true;
      } else {
        this.entries.set(c.name, { usage: freshUsage(limits, now), limits, contract, configured: true });
      }
    }
    for (const [name, e] of this.entries) {
      if (seen.has(name)) continue;
      if (e.usage.channels === 0) this.entries.delete(name);
      else Object.assign(e, { limits: NO_CAP, configured: false });
    }
  }

  blocked(carrier: string, now: number): string | null {
    const e = this.entries.get(carrier);
    return e ? capacityBlock(e.usage, e.limits, now, e.contract) : null;
  }

  acquire(carrier: string, now: number): void {
    let e = this.entries.get(carrier);
    if (!e) {
      e = { usage: freshUsage(NO_CAP, now), limits: NO_CAP, contract: { maxChannels: 0, maxCps: 0 }, configured: false };
      this.entries.set(carrier, e);
    }
    e.usage = takeChannel(e.usage, e.limits, now);
  }

  release(carrier: string): void {
    const e = this.entries.get(carrier);
    if (!e) return;
    e.usage = releaseChannel(e.usage);
    if (!e.configured && e.usage.channels === 0) this.entries.delete(carrier);
  }

  inUse(carrier: string): number {
    return this.entries.get(carrier)?.usage.channels ?? 0;
  }

  /** Configured carriers only (a dropped carrier still holding channels is counted, not shown). */
  snapshot(now: number): CapacitySnapshot {
    const out = new Map<string, CarrierCapacity>();
    for (const [name, e] of this.entries) {
      if (!e.configured) continue;
      out.set(name, {
        channelsInUse: e.usage.channels,
        channelCap: e.limits.channels,
        cpsLastSecond: startsLastSecond(e.usage, now),
        cpsCap: e.limits.cps,
        startsTotal: e.usage.startsTotal,
        atCap: capacityBlock(e.usage, e.limits, now, e.contract),
      });
    }
    return out;
  }
}

/** The channels one call holds: taken one leg at a time, all released when the Dial returns (or never placed). */
const NONE_HELD: readonly string[] = [];

export class HeldChannels {
  /** Replaced, never grown in place: an array grown by push keeps room for 16 for the whole held call. */
  private carriers: readonly string[] = NONE_HELD;

  constructor(private readonly capacity: CapacityView) {}

  take(carrier: string, now: number): void {
    this.capacity.acquire(carrier, now);
    this.carriers = this.carriers.concat(carrier);
  }

  /** Idempotent: a channel is released once, however many times this is called. */
  releaseAll(): void {
    const held = this.carriers;
    this.carriers = NONE_HELD;
    for (const c of held) this.capacity.release(c);
  }
}
