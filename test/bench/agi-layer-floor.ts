import { AgiServer } from '../../src/agi/server.js';
import type { Logger } from '../../src/log.js';
import { loadConfig } from '../../src/config/load.js';
import type { FloorServer } from './floor-server.js';

/**
 * The daemon's own FastAGI layer (AgiServer and AgiChannel, with the daemon's default agi settings: allowedPeers,
 * keepalive, timers) replaying the same commands as the floor, with no call logic: no route, plan, verdict,
 * health, records, metrics or logs. Against the floor it prices the protocol layer; against the daemon, the call
 * logic. A diagnostic for `bench:point --agi-floor`, not one of the full bench's servers.
 */
export async function startAgiLayerFloor(list: () => readonly string[], log: Logger): Promise<FloorServer> {
  const { settings } = loadConfig({ file: null, env: {}, overrides: { 'agi.port': 0, 'agi.host': '127.0.0.1' } });
  const server = new AgiServer(
    { ...settings.agi, sharedKey: '' },
    async (channel) => {
      // the reply is not read: the floor's flows are the daemon's, replayed
      for (const line of list()) await channel.send(line, line.startsWith('EXEC Dial') ? null : settings.agi.commandTimeout);
    },
    log,
  );
  const { port } = await server.listen();
  return { port, connections: () => server.connections, close: () => server.stopAccepting() };
}
