import { createServer, type Server, type Socket } from 'node:net';

/**
 * The protocol floor: a bare TCP server that sends, for each flow, the same commands in the same order as the
 * daemon (captured from one simulated call each; fidelity.ts re-checks them every run), with no parsing, routing,
 * health, logging or records. Whatever the daemon costs above this server is the cost of its logic.
 */

const OUTCOME = 'GET FULL VARIABLE "${DIALSTATUS}|${HANGUPCAUSE}|${RINGTIME_MS}|${PROGRESSTIME_MS}|${ANSWEREDTIME_MS}|${HANGUPCAUSE_KEYS()}"';
const leg = (key: string): string => `GET FULL VARIABLE "\${HANGUPCAUSE(${key},ast)}|\${HANGUPCAUSE(${key},tech)}"`;

/** The daemon's commands for each flow, keys named as the simulator names its channels (fidelity.ts compares them). */
export function floorCommands(flow: 'A' | 'B', number: string): string[] {
  const attempt = (dial: string, key: string, clear: boolean): string[] => [...(clear ? ['EXEC HangupCauseClear ""'] : []), `EXEC Dial "${dial}"`, OUTCOME, leg(key)];
  return [
    'GET FULL VARIABLE "${HANGUPCAUSE}|${HANGUPCAUSE_KEYS()}"',
    'SET VARIABLE FAILOVER_STATUS "DIALING"',
    ...(flow === 'A' ? attempt(`SIP/${number}@carrier-primary,30^5,T`, 'SIP/carrier-primary-00000000', false) : []),
    ...attempt(`PJSIP/${number}@carrier-b,60^5,T`, flow === 'A' ? 'PJSIP/carrier-b-00000001' : 'PJSIP/carrier-b-00000000', flow === 'A'),
    'SET VARIABLE FAILOVER_STATUS "ANSWER"',
    'SET VARIABLE FAILOVER_CARRIER "secondary"',
    `SET VARIABLE FAILOVER_ATTEMPTS "${flow === 'A' ? 2 : 1}"`,
    'SET VARIABLE FAILOVER_CAUSE "16"',
    'SET VARIABLE DIALSTATUS "ANSWER"',
  ];
}

export interface FloorServer {
  readonly port: number;
  connections(): number;
  close(): Promise<void>;
}

function serve(sock: Socket, flow: () => 'A' | 'B'): void {
  sock.setNoDelay(true);
  sock.setEncoding('latin1');
  sock.on('error', () => undefined);
  let buf = '';
  let commands: string[] | null = null;
  let next = 0;
  sock.on('data', (chunk: string) => {
    buf += chunk;
    if (commands === null) {
      const end = buf.indexOf('\n\n');
      if (end < 0) return;
      const m = /agi_arg_1: ([^\n]*)/.exec(buf);
      commands = floorCommands(flow(), m?.[1] ?? '');
      buf = buf.slice(end + 2);
      sock.write(`${commands[next++]}\n`);
      return;
    }
    // one reply line per command: every reply in these flows is a single line
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      buf = buf.slice(nl + 1);
      if (next < commands.length) sock.write(`${commands[next++]}\n`);
      else sock.end();
    }
  });
}

export async function startFloorServer(flow: () => 'A' | 'B'): Promise<FloorServer> {
  const server: Server = createServer((s) => serve(s, flow));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  let count = 0;
  server.on('connection', (s) => {
    count++;
    s.on('close', () => count--);
  });
  return { port, connections: () => count, close: () => new Promise((r) => server.close(() => r())) };
}
