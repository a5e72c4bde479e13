import { MemorySink } from '../../src/calls/log-sink.js';
import type { CallResult } from '../../src/calls/failover-call.js';
import { EXAMPLE_CARRIERS, EXAMPLE_ROUTES } from '../../src/config/example.js';
import { loadConfig } from '../../src/config/load.js';
import { startDaemon } from '../../src/daemon.js';
import { unknownHealth } from '../../src/health/unknown-health.js';
import { createLogger } from '../../src/log.js';
import { simulateCall, type SimCallOptions } from './agi-sim.js';

/**
 * `npm run demo`: the daemon on a free port with the built-in example config, driven by the Asterisk simulator
 * through a short scripted day, then a table of what happened to each call and each attempt.
 */
interface Scene {
  readonly title: string;
  readonly call: Omit<SimCallOptions, 'port'>;
}

const VICI = 'V1124183000000012345';
const scenes: Scene[] = [
  {
    title: 'primary answers 503 → secondary answers',
    call: { args: ['915552345678', 'DEMOCAMP'], callerIdName: VICI, carriers: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer', talkMs: 300 } } },
  },
  {
    title: 'callee busy (486) → no retry, nobody is rung twice',
    call: { args: ['915552345679'], carriers: { 'carrier-primary': { kind: 'reject', sip: 486 }, 'carrier-b': { kind: 'answer' } } },
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
    title: 'a number crafted to inject a second channel → INVALID, no Dial',
    call: { args: ['95551234&SIP/900@evil'], carriers: {} },
  },
];

function pad(s: string, n: number): string {
  return s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length);
}

async function main(): Promise<void> {
  const { settings, routing } = loadConfig({
    file: null,
    env: {},
    overrides: { 'agi.port': 0, carriers: EXAMPLE_CARRIERS, routes: EXAMPLE_ROUTES, 'log.level': process.env['FAILOVER_AGI_LOG_LEVEL'] ?? 'warn' },
  });
  const log = createLogger({ level: settings.log.level });
  const sink = new MemorySink();
  const calls: CallResult[] = [];
  const daemon = await startDaemon({ settings, routing, log, sink, health: unknownHealth(() => routing.carriers.values()), onCall: (r) => calls.push(r) });
  console.log(`failover-agi demo: daemon on 127.0.0.1:${daemon.port}, simulated Asterisk 20 placing ${scenes.length} calls\n`);
  let i = 0;
  for (const scene of scenes) {
    i++;
    const uniqueid = `1795412${700 + i}.${i}`;
    const r = await simulateCall({ port: daemon.port, uniqueid, ...scene.call });
    console.log(`call ${i}: ${scene.title}`);
    console.log(`  FAILOVER_STATUS=${r.vars.get('FAILOVER_STATUS') ?? ''} FAILOVER_CARRIER=${r.vars.get('FAILOVER_CARRIER') ?? ''} FAILOVER_ATTEMPTS=${r.vars.get('FAILOVER_ATTEMPTS') ?? ''} DIALSTATUS=${r.vars.get('DIALSTATUS') ?? ''}`);
    for (const a of sink.attempts.filter((x) => x.uniqueid === uniqueid)) {
      console.log(
        `  #${a.attempt} ${pad(a.carrier || '-', 10)} ${pad(a.verdict, 9)} ${pad(a.dialStatus || '-', 11)} cause=${pad(String(a.cause ?? '-'), 3)} sip=${pad(a.sipCode ? `${a.sipCode} ${a.sipReason}` : '-', 26)} ${pad(`${a.ringMs} ms`, 8)} ${a.reason}`,
      );
    }
    console.log('');
  }
  await daemon.stop(1000);
  const dials = calls.reduce((s, c) => s + c.dials, 0);
  console.log(`${calls.length} calls, ${dials} Dials, ${sink.attempts.length} attempt records.`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
