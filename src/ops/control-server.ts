import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '../log.js';
import { parseControlRequest, type ControlRequest, type ControlResponse } from './control-protocol.js';

export type ControlHandler = (req: ControlRequest) => Promise<unknown> | unknown;

/**
 * The control socket: a Unix socket with mode 0660, so only the service user, its group (ops) and root
 * can talk to the daemon; the file permissions are the access control.
 */
export async function startControlServer(path: string, handle: ControlHandler, log: Logger): Promise<{ server: Server; close(): Promise<void> }> {
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true });
  const server = createServer((sock) => {
    sock.setEncoding('utf8');
    sock.on('error', () => undefined);
    let buf = '';
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > 65536) {
        sock.destroy();
        return;
      }
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = '';
      const req = parseControlRequest(line);
      const reply = (r: ControlResponse): void => {
        sock.end(`${JSON.stringify(r)}\n`);
      };
      if (typeof req === 'string') return reply({ ok: false, error: req });
      Promise.resolve()
        .then(() => handle(req))
        .then(
          (data) => reply({ ok: true, data }),
          (err: unknown) => reply({ ok: false, error: err instanceof Error ? err.message : String(err) }),
        );
    });
  });
  const oldMask = process.umask(0o117);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(oldMask);
  }
  chmodSync(path, 0o660);
  log.info({ path }, 'control socket listening');
  return {
    server,
    close: () =>
      new Promise((r) =>
        server.close(() => {
          rmSync(path, { force: true });
          r();
        }),
      ),
  };
}
