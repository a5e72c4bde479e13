import { connect, type Socket } from 'node:net';

/**
 * An Asterisk that answers until Dial and then falls silent without closing: what a remote Asterisk that vanished
 * (power loss, cable pulled, a firewall dropping the flow) looks like from our end while no keepalive has fired.
 * Replies as res_agi.c writes them: `200 result=1 (<value>)` for GET FULL VARIABLE (handle_getvariablefull),
 * `200 result=1` for SET VARIABLE (handle_setvariable), `200 result=0` for EXEC of an app that returned 0
 * (handle_exec; the EXEC Dial replies in ../shared/asterisk/captures/SUMMARY.md).
 */
export interface SilentPeer {
  readonly socket: Socket;
  /** Commands received, in order. */
  readonly commands: string[];
  /** Resolves with the ms from the Dial until the daemon closed the socket. */
  readonly closed: Promise<number>;
  readonly dialSent: Promise<void>;
  /** The peer's local port: the daemon's socket has it as its remote port. */
  localPort(): number;
}

export function silentPeer(port: number, opts: { uniqueid: string; number: string; script?: string }): SilentPeer {
  const socket = connect(port, '127.0.0.1');
  const commands: string[] = [];
  let dialAt = 0;
  let onDial: () => void = () => undefined;
  const dialSent = new Promise<void>((r) => (onDial = r));
  const script = opts.script ?? 'outbound-failover';
  socket.setEncoding('utf8');
  socket.on('connect', () => {
    socket.write(
      [
        'agi_network: yes',
        `agi_network_script: ${script}`,
        `agi_request: agi://127.0.0.1:${port}/${script}`,
        'agi_channel: Local/15552345678@outbound-failover-00000001;2',
        `agi_uniqueid: ${opts.uniqueid}`,
        'agi_version: 20.0.0',
        'agi_context: outbound-failover',
        `agi_extension: ${opts.number}`,
        'agi_priority: 3',
        `agi_arg_1: ${opts.number}`,
        '',
        '',
      ].join('\n'),
    );
  });
  let buf = '';
  socket.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      commands.push(line);
      if (line.startsWith('EXEC Dial ')) {
        dialAt = Date.now();
        onDial();
        continue; // silence: never a reply, never a FIN
      }
      if (line.startsWith('GET FULL VARIABLE')) socket.write('200 result=1 ()\n');
      else if (line.startsWith('SET VARIABLE')) socket.write('200 result=1\n');
      else socket.write('200 result=0\n');
    }
  });
  socket.on('error', () => undefined);
  const closed = new Promise<number>((r) => socket.on('close', () => r(Date.now() - dialAt)));
  return { socket, commands, closed, dialSent, localPort: () => socket.localPort ?? 0 };
}
