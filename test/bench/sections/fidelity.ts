import { simulateCall, type Behaviour } from '../../sim/agi-sim.js';
import { NUMBER } from '../driver/closed-loop.js';
import type { BenchServer } from '../servers/bench-server.js';
import type { ServerChild } from '../servers/child-handle.js';

/**
 * One flow-A call through the real simulator (test/sim/agi-sim.ts) against the daemon; its commands become the
 * floor's list, and every other server must then send the same ones, or the ratios compare different work.
 * Also shows the flow does what it says (two Dials, FAILOVER_STATUS ANSWER).
 */

const SIM_CARRIERS: Record<string, Behaviour> = { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer', talkMs: 0 } };

export interface FidelityRow {
  readonly server: string;
  readonly commands: readonly string[];
  readonly dials: number;
  readonly failoverStatus: string;
  readonly failoverCarrier: string;
  readonly sameAsDaemon: boolean;
  /** The first command that differs, when one does. */
  readonly firstDifference: string | null;
}

export interface FidelityResult {
  /** The daemon's commands for flow A: what the floor replays. */
  readonly daemonCommands: readonly string[];
  readonly rows: readonly FidelityRow[];
}

/** Asterisk splits arguments on blanks, so a trailing space (Asterisk::AGI's empty channel argument) is no difference. */
const norm = (c: string): string => c.trimEnd();

async function capture(s: BenchServer, daemon: readonly string[] | null): Promise<FidelityRow> {
  const r = await simulateCall({ port: s.port, args: [NUMBER], extension: NUMBER, carriers: SIM_CARRIERS });
  const ref = daemon ?? r.commands;
  const n = Math.max(ref.length, r.commands.length);
  let firstDifference: string | null = null;
  for (let i = 0; i < n && firstDifference === null; i++) {
    if (norm(ref[i] ?? '') !== norm(r.commands[i] ?? '')) firstDifference = `#${i + 1}: daemon ${JSON.stringify(ref[i] ?? '(none)')}, ${s.name} ${JSON.stringify(r.commands[i] ?? '(none)')}`;
  }
  return {
    server: s.name,
    commands: r.commands,
    dials: r.dials.length,
    failoverStatus: r.vars.get('FAILOVER_STATUS') ?? '',
    failoverCarrier: r.vars.get('FAILOVER_CARRIER') ?? '',
    sameAsDaemon: firstDifference === null,
    firstDifference,
  };
}

export async function checkFidelity(daemon: BenchServer, floor: ServerChild, others: readonly BenchServer[]): Promise<FidelityResult> {
  const d = await capture(daemon, null);
  await floor.setFlow('A');
  await floor.setCommands('A', d.commands);
  const rows = [d, await capture(floor, d.commands)];
  for (const o of others) rows.push(await capture(o, d.commands));
  return { daemonCommands: d.commands, rows };
}
