import { createServer, type Server, type Socket } from 'node:net';

/**
 * The protocol floor: a bare TCP server that sends, for each flow, exactly the commands the daemon sent in the
 * bench's fidelity section this run (captured from one simulated call and handed over before any load), with no
 * parsing, routing, health, logging or records. It can never drift from the daemon: it has no list of its own.
 * Whatever the daemon costs above this server is the cost of its logic.
 */

export interface FloorServer {
  readonly port: number;
  connections(): number;
  close(): Promise<void>;
}

function serve(sock: Socket, list: () => readonly string[]): void {
  sock.setNoDelay(true);
  sock.setEncoding('latin1');
  sock.on('error', () => undefined);
  let buf = '';
  let commands: readonly string[] | null = null;
  let next = 0;
  sock.on('data', (chunk: string) => {
    buf += chunk;
    if (commands === null) {
      const end = buf.indexOf('\n\n');
      if (end < 0) return;
      commands = list();
      buf = buf.slice(end + 2);
      if (commands.length === 0) {
        sock.end();
        return;
      }
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

export async function startFloorServer(list: () => readonly string[]): Promise<FloorServer> {
  const server: Server = createServer((s) => serve(s, list));
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
