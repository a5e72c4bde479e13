import { simulateCall, type Behaviour } from '../../sim/agi-sim.js';
import { NUMBER, type Flow } from '../driver/closed-loop.js';
import { ServerChild } from '../servers/child-handle.js';

/**
 * One call per flow through the real simulator (test/sim/agi-sim.ts) against the daemon and the floor: both must
 * send the same commands, or the floor ratio compares different work. Also shows the flows do what they say.
 */

const SIM_CARRIERS: Record<Flow, Record<string, Behaviour>> = {
  A: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer', talkMs: 0 } },
  B: { 'carrier-primary': { kind: 'answer', talkMs: 0 }, 'carrier-b': { kind: 'answer', talkMs: 0 } },
};

export interface FidelityResult {
  readonly flow: Flow;
  readonly daemonCommands: string[];
  readonly floorMatches: boolean;
  readonly dials: string[];
  readonly failoverStatus: string;
  readonly failoverCarrier: string;
}

export async function checkFidelity(daemon: ServerChild, floor: ServerChild): Promise<FidelityResult[]> {
  const out: FidelityResult[] = [];
  for (const flow of ['A', 'B'] as const) {
    await daemon.setFlow(flow);
    await floor.setFlow(flow);
    const d = await simulateCall({ port: daemon.port, args: [NUMBER], extension: NUMBER, carriers: SIM_CARRIERS[flow] });
    const f = await simulateCall({ port: floor.port, args: [NUMBER], extension: NUMBER, carriers: SIM_CARRIERS[flow] });
    out.push({
      flow,
      daemonCommands: d.commands,
      floorMatches: JSON.stringify(d.commands) === JSON.stringify(f.commands),
      dials: d.dials,
      failoverStatus: d.vars.get('FAILOVER_STATUS') ?? '',
      failoverCarrier: d.vars.get('FAILOVER_CARRIER') ?? '',
    });
  }
  return out;
}
