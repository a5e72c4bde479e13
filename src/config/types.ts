/** Carrier and route policy as validated data; the convict schema for daemon settings lives in schema.ts. */

export type Strategy = 'failover' | 'round_robin' | 'weighted' | 'simultaneous';
export const STRATEGIES: readonly Strategy[] = ['failover', 'round_robin', 'weighted', 'simultaneous'];

export interface CarrierConfig {
  readonly name: string;
  /** Asterisk dial string template holding `${number}` once, e.g. `PJSIP/${number}@carrier-b`. */
  readonly dial: string;
  /** The Asterisk object (chan_sip peer, PJSIP endpoint or AOR, IAX2 peer) whose AMI status tracks this carrier. */
  readonly peer: string;
  /** Seconds Dial waits for an answer. */
  readonly ringTimeout: number;
  /** Seconds Dial waits for ringing or early media (Dial's `answer^progress`). */
  readonly progressTimeout: number;
  /**
   * Adaptive progress timeout (issue 16): derived from the carrier's own post-dial delays once it has enough of
   * them; null = off, progressTimeout always.
   */
  readonly adaptiveProgress: AdaptiveProgress | null;
  readonly dialOptions: string;
  readonly weight: number;
  readonly enabled: boolean;
  /** SIP codes this carrier fails over on, on top of the defaults (e.g. 480 for a carrier that says 480 when its gateway is overloaded). */
  readonly retrySipCodes: readonly number[];
  /** SIP codes that stop the call for this carrier, overriding the defaults (e.g. 503 from a carrier that uses it for "number blocked"). */
  readonly finalSipCodes: readonly number[];
  /**
   * A carrier failure after 180/183 or early media stops the call by default: a person may have heard it ring.
   * true lets such a failure go on to the next carrier (for carriers known to send 180 before routing).
   */
  readonly retryAfterRinging: boolean;
  /**
   * Channels the carrier's contract allows at once (0 = no cap): Dial legs in progress plus bridged calls, counted
   * by this daemon. A carrier at its cap is skipped for the next carrier, never dialed over it.
   */
  readonly maxChannels: number;
  /** Calls per second the contract allows (0 = no cap; fractions such as 0.5 allowed): a token bucket per carrier. */
  readonly maxCps: number;
  /**
   * The share of maxChannels and maxCps this dialer may use, for a contract split across a dialer cluster
   * (1 = all of it): floor(maxChannels × clusterShare) channels and maxCps × clusterShare calls per second.
   */
  readonly clusterShare: number;
  /** Price per billed minute of talk time, in the currency-free money units of the carrier's rate sheet (0 = not priced). */
  readonly pricePerMinute: number;
  /** Price per answered call on top of the minutes (a connection fee; 0 = none). */
  readonly pricePerCall: number;
  /** Seconds talk time is billed in, rounded up per call (1 = per second, 60 = per started minute). */
  readonly billingIncrement: number;
  /** Spend limits per clock hour and day, or null for none. */
  readonly budget: CarrierBudget | null;
}

/**
 * The progress timeout learned from the carrier's post-dial delays (src/routing/progress-timeout.ts): the
 * `percentile` of the delays of the last `windowMinutes` × `factor`, rounded up to tenths and kept within
 * [minSeconds, maxSeconds]; progressTimeout until `minSamples` delays are known.
 */
export interface AdaptiveProgress {
  readonly percentile: number;
  readonly factor: number;
  readonly minSeconds: number;
  readonly maxSeconds: number;
  readonly minSamples: number;
  readonly windowMinutes: number;
}

/** One window's limit: minutes of talk time, money (pricePerMinute/pricePerCall units), or both; null = none. */
export interface BudgetLimit {
  readonly minutes: number | null;
  readonly money: number | null;
}

export interface CarrierBudget {
  /** The clock hour of the server's local time (10:00:00-10:59:59). */
  readonly perHour: BudgetLimit | null;
  /** The calendar day of the server's local time (00:00-24:00). */
  readonly perDay: BudgetLimit | null;
  /** A used-up budget skips the carrier, or demotes it behind the carriers still within theirs. */
  readonly action: 'skip' | 'demote';
  /** The share of a budget at which `status` and the alert rule say "near" (0.8 = 80 %). */
  readonly alertShare: number;
}

export interface RouteConfig {
  readonly name: string;
  /** Regular expression the number (before the transform) must match; absent = any number. */
  readonly pattern: string | null;
  readonly strategy: Strategy;
  readonly carriers: readonly string[];
  /** Upper bound on Dials per call. */
  readonly maxAttempts: number;
  /** Leading digits to strip, as `${EXTEN:1}` strips VICIdial's 9. */
  readonly stripDigits: number;
  readonly prefix: string;
  /** What to do when every carrier of the route is known down: try them anyway (fail open) or refuse. */
  readonly whenAllDown: 'try' | 'refuse';
  /**
   * Seconds the whole sequence of attempts may take before an answer (0 = no limit). Each Dial's timers are cut to
   * what is left, and no Dial starts once it is spent: VICIdial's Originate timeout ends an auto-dial call at
   * dial_timeout whatever failover-agi is doing. AGI argument 4 (or argument 3, CAMPDTO) overrides it per call.
   */
  readonly callBudget: number;
}

export interface RoutingConfig {
  readonly carriers: ReadonlyMap<string, CarrierConfig>;
  readonly routes: ReadonlyMap<string, RouteConfig>;
}
