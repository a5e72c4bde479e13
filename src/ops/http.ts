import { createServer, type Server } from 'node:http';
import type { Logger } from '../log.js';
import type { Metrics } from './metrics.js';
import type { DaemonStatus } from './status.js';
import { renderStatusPage } from './status-page.js';

export interface HttpDeps {
  readonly host: string;
  readonly port: number;
  readonly metrics: Metrics;
  readonly status: () => DaemonStatus;
  readonly log: Logger;
}

// the page runs no script and loads nothing: the browser is told so, a second wall behind the escaping
const PAGE_HEADERS = { 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'", 'x-content-type-options': 'nosniff' };

/** / (the status page, HTML), /metrics (Prometheus text), /healthz (process up; AMI and DB state), /status (JSON). Bound to localhost by default. */
export async function startHttp(d: HttpDeps): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const send = (code: number, type: string, body: string, extra: Record<string, string> = {}): void => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', ...extra });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'text/plain', 'GET only\n');
    if (url === '/metrics') {
      d.metrics.registry.metrics().then(
        (text) => send(200, d.metrics.registry.contentType, text),
        (err: unknown) => send(500, 'text/plain', `${String(err)}\n`),
      );
      return;
    }
    if (url === '/healthz') {
      const s = d.status();
      const body = {
        status: 'ok',
        activeCalls: s.activeCalls,
        ami: s.ami.enabled ? (s.ami.connected ? 'connected' : 'disconnected') : 'disabled',
        db: s.db.configured ? (s.db.connected ? 'connected' : 'disconnected') : 'none',
        cluster: s.cluster.enabled ? (s.cluster.up ? 'sharing' : 'alone') : 'off',
      };
      return send(200, 'application/json', `${JSON.stringify(body)}\n`);
    }
    if (url === '/') return send(200, 'text/html; charset=utf-8', renderStatusPage(d.status()), PAGE_HEADERS);
    if (url === '/status') return send(200, 'application/json', `${JSON.stringify(d.status(), null, 2)}\n`);
    send(404, 'text/plain', 'try /, /metrics, /healthz or /status\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(d.port, d.host, () => resolve());
  });
  server.on('error', (err) => d.log.error({ err }, 'HTTP server error'));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : d.port;
  d.log.info({ host: d.host, port }, 'metrics and status on HTTP');
  return { server, port, close: () => new Promise((r) => server.close(() => r())) };
}
