import { Writable } from 'node:stream';
import { ManualClock } from '../../src/clock.js';
import type { BreakerHealthSettings, DaemonSettings } from '../../src/config/schema.js';
import type { CarrierConfig, RouteConfig } from '../../src/config/types.js';
import { CARRIER_DEFAULTS } from '../../src/config/carriers.js';
import type { AmiMessage } from '../../src/health/ami-message.js';
import { createHealthMap, type HealthMap } from '../../src/health/health-map.js';
import type { CarrierEvent } from '../../src/health/types.js';
import { createLogger, type Logger } from '../../src/log.js';

export const HEALTH: BreakerHealthSettings = {
  laggedRtt: 500,
  laggedRttMaxAge: 60_000,
  outageLeadTime: 65_000,
  holdDownFlaps: 3,
  holdDownWindow: 120_000,
  holdDownQuiet: 60_000,
  consecutiveFailures: 3,
  window: 60_000,
  failureRatio: 0.5,
  minVolume: 10,
  baseEjection: 30_000,
  maxEjection: 300_000,
  recoverySuccesses: 2,
  maxEjectedPercent: 100,
  suspectAfterNoResponse: true,
};

export const AMI: DaemonSettings['ami'] = {
  enabled: true,
  host: '127.0.0.1',
  port: 0,
  username: 'failover-agi',
  secret: 'sim-secret',
  secretFile: '',
  reconnectMin: 20,
  reconnectMax: 100,
  actionTimeout: 400,
  staleAfter: 300,
};

export function carrier(name: string, dial: string, peer: string, extra: Partial<CarrierConfig> = {}): CarrierConfig {
  // the daemon's own defaults, so a new carrier key needs no edit here
  return { ...CARRIER_DEFAULTS, name, dial, peer, dialOptions: 'tT', budget: null, ...extra };
}

export function route(name: string, carriers: string[]): RouteConfig {
  return { name, pattern: null, strategy: 'failover', carriers, maxAttempts: 3, stripDigits: 0, prefix: '', whenAllDown: 'try', callBudget: 0 };
}

/** The example's three technologies, plus a PJSIP carrier named by its AOR and one Local carrier. */
export const CARRIERS: CarrierConfig[] = [
  carrier('primary', 'SIP/${number}@carrier-primary', 'carrier-primary'),
  carrier('secondary', 'PJSIP/${number}@carrier-b', 'carrier-b'),
  carrier('tertiary', 'IAX2/carrier-c/${number}', 'carrier-c'),
  carrier('by-aor', 'PJSIP/${number}@carrier-d', 'carrier-d-aor'),
  carrier('local', 'Local/${number}@other-pbx', 'other-pbx'),
];

export const ROUTES: RouteConfig[] = [route('outbound-failover', ['primary', 'secondary', 'tertiary'])];

/** Parses one AMI message as asterisk-manager does (CRLF lines, first `: ` splits, keys lower-cased, values trimmed). */
export function parseRaw(raw: string): AmiMessage {
  const out: Record<string, string> = {};
  for (const line of raw.split(/\r?\n/)) {
    const i = line.indexOf(': ');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    if (!(k in out)) out[k] = line.slice(i + 2).trim();
  }
  return out;
}

/** A pino logger whose lines tests can read back as objects. */
export function memoryLog(level = 'debug'): { log: Logger; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const log = createLogger({ level }, dest);
  const text = () => chunks.join('');
  return {
    log,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export interface MapRig {
  readonly map: HealthMap;
  readonly clock: ManualClock;
  readonly events: CarrierEvent[];
  readonly logs: ReturnType<typeof memoryLog>;
  state(carrier: string): string | undefined;
  reason(carrier: string): string | undefined;
}

export function mapRig(opts: { carriers?: CarrierConfig[]; routes?: RouteConfig[]; health?: Partial<BreakerHealthSettings>; staleAfter?: number; start?: number } = {}): MapRig {
  const clock = new ManualClock(opts.start ?? 1_800_000_000_000);
  const events: CarrierEvent[] = [];
  const logs = memoryLog();
  const map = createHealthMap({
    carriers: opts.carriers ?? CARRIERS,
    routes: opts.routes ?? ROUTES,
    health: { ...HEALTH, ...opts.health },
    staleAfter: opts.staleAfter ?? 30_000,
    clock,
    onEvent: (e) => events.push(e),
    logger: logs.log,
  });
  return {
    map,
    clock,
    events,
    logs,
    state: (c) => map.snapshot().get(c)?.state,
    reason: (c) => map.snapshot().get(c)?.reason,
  };
}

export const fail = (carrier: string, at = 0, reason = 'SIP 503 Service Unavailable is a carrier failure') => ({ carrier, carrierFailure: true, carrierSuccess: false, reason, at });
export const ok = (carrier: string, at = 0) => ({ carrier, carrierFailure: false, carrierSuccess: true, reason: 'answered', at });
export const neutral = (carrier: string, at = 0) => ({ carrier, carrierFailure: false, carrierSuccess: false, reason: 'caller hung up', at });

export function waitFor(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (cond()) return resolve();
      if (Date.now() - t0 > ms) return reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      setTimeout(poll, 5);
    };
    poll();
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
