import { Writable } from 'node:stream';
import { MemorySink } from './memory-sink.js';
import type { CallResult } from '../../src/calls/failover-call.js';
import { loadConfig } from '../../src/config/load.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { unknownHealth } from './unknown-health.js';
import type { HealthView } from '../../src/health/types.js';
import { createLogger, type Logger } from '../../src/log.js';

export interface TestDaemon {
  readonly daemon: Daemon;
  readonly port: number;
  readonly sink: MemorySink;
  readonly calls: CallResult[];
  readonly logLines: () => Record<string, unknown>[];
  readonly log: Logger;
  stop(): Promise<void>;
}

export const CARRIERS = [
  { name: 'primary', dial: 'SIP/${number}@carrier-primary', ringTimeout: 30, progressTimeout: 5 },
  { name: 'secondary', dial: 'PJSIP/${number}@carrier-b' },
  { name: 'tertiary', dial: 'IAX2/carrier-c/${number}' },
];

export const ROUTES = [{ name: 'outbound-failover', strategy: 'failover', carriers: ['primary', 'secondary', 'tertiary'], stripDigits: 0 }];

/** Captures log lines as parsed JSON, so tests can assert what ops would read. */
export function memoryLog(level = 'debug'): { log: Logger; lines: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const log = createLogger({ level }, dest);
  return { log, lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export async function startTestDaemon(opts: {
  carriers?: unknown[];
  routes?: unknown[];
  overrides?: Record<string, unknown>;
  health?: HealthView;
  random?: () => number;
} = {}): Promise<TestDaemon> {
  const { settings, routing } = loadConfig({
    file: null,
    env: {},
    overrides: { 'agi.port': 0, carriers: opts.carriers ?? CARRIERS, routes: opts.routes ?? ROUTES, ...opts.overrides },
  });
  const { log, lines } = memoryLog();
  const sink = new MemorySink();
  const calls: CallResult[] = [];
  const daemon = await startDaemon({
    settings,
    routing,
    log,
    sink,
    health: opts.health ?? unknownHealth(() => routing.carriers.values()),
    random: opts.random,
    onCall: (r) => calls.push(r),
  });
  return {
    daemon,
    port: daemon.port,
    sink,
    calls,
    log,
    logLines: lines,
    stop: async () => {
      await daemon.stop(100);
    },
  };
}
