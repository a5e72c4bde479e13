import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load.js';
import { startService, type Service } from '../../src/service.js';
import type { DbSettings } from '../../src/store/db-config.js';
import { migrate } from '../../src/store/migrate.js';
import { createRecordStore } from '../../src/store/record-store.js';
import { simulateCall, type Behaviour, type SimCallResult } from '../sim/agi-sim.js';
import { CARRIERS, ROUTES, memoryLog } from './daemon.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { freePort } from './free-port.js';

export const NUM = '15552345678';
/** carrier-primary swallows the INVITE (Dial's progress timer ends it), carrier-b answers. */
export const SWALLOWING: Readonly<Record<string, Behaviour>> = { 'carrier-primary': { kind: 'blackhole', afterMs: 30 }, 'carrier-b': { kind: 'answer', talkMs: 5 } };
export const HEALTHY: Readonly<Record<string, Behaviour>> = { 'carrier-primary': { kind: 'answer', talkMs: 5 }, 'carrier-b': { kind: 'answer', talkMs: 5 } };

/** One dialer of a test cluster: the whole service in this process, its clock off by skewMs. */
export interface Dialer {
  readonly id: string;
  readonly service: Service;
  readonly clock: Clock;
  readonly skewMs: number;
  readonly lines: () => Record<string, unknown>[];
  /** One call to `number` (default NUM). */
  call(carriers?: Readonly<Record<string, Behaviour>>, number?: string): Promise<SimCallResult>;
  state(carrier?: string): string | undefined;
  reason(carrier?: string): string;
  /** The ejection's end on the real clock (this dialer's clock minus its skew), or null. */
  ejectedUntilReal(carrier?: string): number | null;
  metric(name: string): Promise<string>;
  stop(): Promise<void>;
}

let seq = 0;

/**
 * A dialer with shared health on: AMI off (the breaker alone judges), its own spool and control socket, the same
 * database as its peers. `skewMs` gives it a clock that many ms ahead of (or behind) the others'.
 */
export async function startDialer(o: { id: string; db: DbSettings; skewMs?: number; overrides?: Record<string, unknown> }): Promise<Dialer> {
  const skewMs = o.skewMs ?? 0;
  const clock: Clock = { now: () => Date.now() + skewMs };
  const dir = mkdtempSync(join(tmpdir(), `fa-cluster-${o.id}-`));
  const config = loadConfig({
    file: null,
    env: {},
    overrides: {
      serverId: o.id,
      'agi.port': 0,
      'http.port': await freePort(),
      'ami.enabled': false,
      'control.socket': join(dir, 'c.sock'),
      'control.stateFile': join(dir, 's.json'),
      'store.spoolDir': join(dir, 'spool'),
      'store.flushMs': 20,
      db: o.db,
      'cluster.enabled': true,
      'cluster.pollMs': 200,
      'cluster.staleAfter': 1000,
      'cluster.trialWait': 3000,
      'health.consecutiveFailures': 2,
      'health.minVolume': 1000,
      'health.recoverySuccesses': 1,
      carriers: CARRIERS,
      routes: ROUTES,
      ...o.overrides,
    },
  });
  const { log, lines } = memoryLog('info');
  const service = await startService({
    config,
    configFile: null,
    log,
    clock,
    attemptLog: (c, l) => createRecordStore({ db: c.settings.db, store: c.settings.store, serverId: c.settings.serverId, log: l, clock }),
  });
  const inspect = (carrier: string) => service.health.inspect().get(carrier);
  return {
    id: o.id,
    service,
    clock,
    skewMs,
    lines,
    call: (carriers = SWALLOWING, number = NUM) => simulateCall({ port: service.daemon.port, args: [number], extension: number, uniqueid: `${Date.now()}.${seq++}`, carriers }),
    state: (carrier = 'primary') => service.health.snapshot().get(carrier)?.state,
    reason: (carrier = 'primary') => service.health.snapshot().get(carrier)?.reason ?? '',
    ejectedUntilReal: (carrier = 'primary') => {
      const u = inspect(carrier)?.ejectedUntil ?? null;
      return u === null ? null : u - skewMs;
    },
    metric: async (name) => {
      const text = await service.metrics.registry.metrics();
      return text.split('\n').filter((l) => l.startsWith(name)).join('\n');
    },
    stop: async () => {
      await service.stop();
    },
  };
}

/** Whether a call placed a Dial on the swallowing carrier (and so paid its progress timeout). */
export function dialedPrimary(r: SimCallResult): boolean {
  return r.dials.some((d) => d.includes('carrier-primary'));
}

/**
 * One migrated MariaDB for a describe block's dialers, dropped after it. `dialer` starts one and keeps it for
 * `fresh`, which stops every dialer and empties `tables` so each test starts from a cluster that knows nothing.
 * Call it inside the describe: its hooks run before the block's own.
 */
export function clusterFixture(tables: readonly string[]): { db(): TestDatabase; dialer(o: Parameters<typeof startDialer>[0]): Promise<Dialer>; stopAll(): Promise<void>; fresh(): Promise<void> } {
  let t: TestDatabase | null = null;
  const running: Dialer[] = [];
  const stopAll = async (): Promise<void> => {
    for (const d of running.splice(0)) await d.stop();
  };
  const db = (): TestDatabase => {
    if (!t) throw new Error('clusterFixture: the database is made in its before hook');
    return t;
  };
  before(async () => {
    t = await createTestDatabase();
    await migrate(t.db, memoryLog().log);
  });
  after(async () => {
    await stopAll();
    await t?.drop();
  });
  return {
    db,
    stopAll,
    dialer: async (o) => {
      const d = await startDialer(o);
      running.push(d);
      return d;
    },
    fresh: async () => {
      await stopAll();
      for (const table of tables) await db().query(`DELETE FROM ${table}`);
    },
  };
}
