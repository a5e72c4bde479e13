import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { AmiSimulator } from '../sim/ami-server.js';
import { CARRIERS, ROUTES } from './daemon.js';

/** The test carriers with their AMI peers named as the AMI simulator knows them (carrier-primary, carrier-b, carrier-c). */
export const AMI_CARRIERS = CARRIERS.map((c) => ({ ...c, peer: c.dial.includes('@') ? c.dial.split('@')[1] : 'carrier-c' }));

/**
 * The whole service's config against the AMI simulator: AGI and HTTP on free ports, AMI on the simulator, control
 * socket and state file in a fresh temp dir; `overrides` win (breaker knobs, ports, carriers).
 */
export function simServiceConfig(amiPort: number, prefix: string, overrides: Record<string, unknown> = {}): LoadedConfig {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return loadConfig({
    file: null,
    env: {},
    overrides: {
      'agi.port': 0,
      'http.port': 0,
      'ami.enabled': true,
      'ami.port': amiPort,
      'ami.secret': 'sim-secret',
      'ami.reconnectMin': 20,
      'ami.reconnectMax': 100,
      'control.socket': join(dir, 'c.sock'),
      'control.stateFile': join(dir, 's.json'),
      carriers: AMI_CARRIERS,
      routes: ROUTES,
      ...overrides,
    },
  });
}

/** The AMI simulator with the three test carriers reachable: primary over chan_sip, secondary a PJSIP contact, tertiary IAX2. */
export async function reachableAmi(): Promise<AmiSimulator> {
  const ami = await AmiSimulator.start();
  ami.setSipPeer('carrier-primary', 'Reachable');
  ami.setEndpoint('carrier-b', ['carrier-b'], [{ aor: 'carrier-b', uri: 'sip:carrier-b@127.0.0.1:5072', status: 'Reachable', rttUsec: 1500 }]);
  ami.setIaxPeer('carrier-c', 'Reachable');
  return ami;
}
