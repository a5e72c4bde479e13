import { connect } from 'node:net';
import type { ControlRequest, ControlResponse } from './control-protocol.js';

export class ControlError extends Error {
  override name = 'ControlError';
}

/** Sends one request to the daemon's control socket; errors say what the operator should do. */
export function controlRequest(path: string, req: ControlRequest, timeoutMs = 5000): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ControlError(`no answer from the daemon on ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (c: string) => (buf += c));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'EACCES' || err.code === 'EPERM') {
        reject(new ControlError(`permission denied on ${path}: run as root or as a member of the service's group (failover-agi)`));
      } else if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
        reject(new ControlError(`the daemon is not running (no control socket at ${path}); set control.socket or FAILOVER_AGI_CONTROL_SOCKET if it lives elsewhere`));
      } else reject(new ControlError(`${err.code ?? ''} ${err.message}`));
    });
    sock.on('close', () => {
      clearTimeout(timer);
      const line = buf.split('\n')[0] ?? '';
      if (!line) return;
      try {
        resolve(JSON.parse(line) as ControlResponse);
      } catch {
        reject(new ControlError(`unreadable answer from the daemon: ${line.slice(0, 200)}`));
      }
    });
  });
}
