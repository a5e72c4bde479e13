import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemorySink } from '../support/memory-sink.js';
import { EXAMPLE_CARRIERS, EXAMPLE_ROUTES } from '../../src/config/example.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import type { AttemptRecord } from '../../src/calls/records.js';
import type { DbSettings } from '../../src/store/db-config.js';
import type { CarrierEvent } from '../../src/health/types.js';
import { startService } from '../../src/service.js';
import { migrate } from '../../src/store/migrate.js';
import { createRecordStore } from '../../src/store/record-store.js';
import { memoryAttemptLog } from '../support/attempt-log.js';
import { simulateCall, type SimCallOptions } from './agi-sim.js';
import { AmiSimulator } from './ami-server.js';

/**
 * The demo's scripted day: the daemon on free ports with the built-in example config, fed by the AMI simulator and
 * driven by the FastAGI simulator; then a table of every call and attempt. With a database, every record also goes
 * through the real attempt-log writer into it.
 */
interface Scene {
  readonly title: string;
  readonly before?: (ami: AmiSimulator) => Promise<void> | void;
  readonly call: Omit<SimCallOptions, 'port'>;
}

const scenes: Scene[] = [
  {
    title: 'primary answers 503 → secondary answers',
    call: { args: ['915552345678', 'DEMOCAMP'], callerIdName: 'V1124183000000012345', carriers: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer', talkMs: 300 } } },
  },
  {
    title: 'callee busy (486) → no retry, nobody is rung twice',
    call: { args: ['915552345679'], carriers: { 'carrier-primary': { kind: 'reject', sip: 486 }, 'carrier-b': { kind: 'answer' } } },
  },
  {
    title: 'primary 503, secondary rings out (HANGUPCAUSE still reads 34) → stop, nobody is rung a third time',
    call: { args: ['915552345683'], carriers: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'ring-no-answer', afterMs: 200 }, 'carrier-c': { kind: 'answer' } } },
  },
  {
    title: 'primary rings, then 503 → stop: the callee may have heard it ring (retryAfterRinging: false)',
    call: { args: ['915552345684'], carriers: { 'carrier-primary': { kind: 'reject', sip: 503, after: '180', afterMs: 100 }, 'carrier-b': { kind: 'answer' } } },
  },
  {
    title: 'caller hangs up while it rings → stop',
    call: { args: ['915552345680'], carriers: { 'carrier-primary': { kind: 'caller-hangup', afterMs: 200 } } },
  },
  {
    title: 'primary swallows the INVITE, secondary 503, tertiary unreachable → EXHAUSTED',
    call: { args: ['915552345681'], carriers: { 'carrier-primary': { kind: 'blackhole', afterMs: 300 }, 'carrier-b': { kind: 'reject', sip: 503 }, 'carrier-c': { kind: 'unreachable' } } },
  },
  {
    title: 'AMI: PeerStatus SIP/carrier-primary Unreachable → the next call skips it, zero Dials spent',
    before: async (ami) => {
      ami.setSipPeer('carrier-primary', 'Unreachable');
      await new Promise((r) => setTimeout(r, 100));
    },
    call: { args: ['915552345682'], carriers: { 'carrier-primary': { kind: 'answer' }, 'carrier-b': { kind: 'answer', talkMs: 100 } } },
  },
  {
    title: 'a number crafted to inject a second channel → INVALID, no Dial',
    call: { args: ['95551234&SIP/900@evil'], carriers: {} },
  },
];

function pad(s: string, n: number): string {
  return s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length);
}

export interface DemoOptions {
  /** Where the records go besides memory; null = memory only. */
  readonly db: DbSettings | null;
  readonly print: (line: string) => void;
}

export async function runDemo(opts: DemoOptions): Promise<{ attempts: readonly AttemptRecord[]; events: readonly CarrierEvent[] }> {
  const ami = await AmiSimulator.start();
  ami.setSipPeer('carrier-primary', 'Reachable');
  ami.setEndpoint('carrier-b', ['carrier-b'], [{ aor: 'carrier-b', uri: 'sip:carrier-b@192.0.2.10:5060', status: 'Reachable', rttUsec: 21000 }]);
  ami.setIaxPeer('carrier-c', 'Reachable');
  const dir = mkdtempSync(join(tmpdir(), 'failover-agi-demo-'));
  const config = loadConfig({
    file: null,
    env: {},
    overrides: {
      'agi.port': 0,
      'http.port': 0,
      'ami.enabled': true,
      'ami.port': ami.port,
      'ami.secret': 'sim-secret',
      'store.spoolDir': join(dir, 'spool'),
      'control.socket': join(dir, 'control.sock'),
      'control.stateFile': join(dir, 'admin-state.json'),
      carriers: EXAMPLE_CARRIERS,
      routes: EXAMPLE_ROUTES,
      'log.level': process.env['FAILOVER_AGI_LOG_LEVEL'] ?? 'silent',
    },
  });
  const log = createLogger({ level: config.settings.log.level });
  const print = opts.print;
  const sink = new MemorySink();
  if (opts.db) await migrate(opts.db, log);
  const store = opts.db ? createRecordStore({ db: opts.db, store: config.settings.store, serverId: config.settings.serverId, log }) : null;
  const attemptLog = memoryAttemptLog(sink, store);
  const svc = await startService({ config, configFile: null, log, attemptLog: () => attemptLog });
  const deadline = Date.now() + 3000;
  while (svc.health.snapshot().get('primary')?.state !== 'up' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  print(`failover-agi demo: daemon on 127.0.0.1:${svc.daemon.port}, AMI simulator on 127.0.0.1:${ami.port}, simulated Asterisk 20 placing ${scenes.length} calls`);
  print(`carrier health after the AMI resync: ${[...svc.health.snapshot()].map(([c, h]) => `${c}=${h.state}`).join(' ')}\n`);
  let i = 0;
  for (const scene of scenes) {
    i++;
    await scene.before?.(ami);
    const uniqueid = `1795412${700 + i}.${i}`;
    const r = await simulateCall({ port: svc.daemon.port, uniqueid, ...scene.call });
    print(`call ${i}: ${scene.title}`);
    print(`  FAILOVER_STATUS=${r.vars.get('FAILOVER_STATUS') ?? ''} FAILOVER_CARRIER=${r.vars.get('FAILOVER_CARRIER') ?? ''} FAILOVER_ATTEMPTS=${r.vars.get('FAILOVER_ATTEMPTS') ?? ''} DIALSTATUS=${r.vars.get('DIALSTATUS') ?? ''} FAILOVER_CAUSE=${r.vars.get('FAILOVER_CAUSE') ?? ''}`);
    for (const a of sink.attempts.filter((x) => x.uniqueid === uniqueid)) {
      print(
        `  #${a.attempt} ${pad(a.carrier || '-', 10)} ${pad(a.verdict, 9)} ${pad(a.dialStatus || '-', 11)} cause=${pad(String(a.cause ?? '-'), 3)} sip=${pad(a.sipCode ? `${a.sipCode} ${a.sipReason}` : '-', 26)} ${pad(`${a.ringMs} ms`, 8)} ${a.reason}`,
      );
    }
    print('');
  }
  print('carrier state changes:');
  for (const e of sink.events) print(`  ${new Date(e.at).toISOString()} ${pad(e.carrier, 10)} ${pad(`${e.from} → ${e.to}`, 20)} ${pad(e.source, 7)} ${e.reason}`);
  await svc.stop();
  await ami.close();
  const dials = sink.attempts.filter((a) => a.dialString !== '').length;
  print(`\n${i} calls, ${dials} Dials, ${sink.attempts.length} attempt records, ${sink.events.length} carrier events.`);
  return { attempts: sink.attempts, events: sink.events };
}
