import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../log.js';
import { AgiChannel, type AgiChannelLimits } from './channel.js';
import type { AgiRequest } from './request.js';

export interface AgiServerOptions extends AgiChannelLimits {
  readonly host: string;
  readonly port: number;
  /** Source addresses allowed to connect; IPv4-mapped IPv6 forms match their IPv4 address. */
  readonly allowedPeers: readonly string[];
  readonly maxConnections: number;
}

export type AgiHandler = (channel: AgiChannel, request: AgiRequest) => Promise<void>;

function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/**
 * Accepts FastAGI connections from allowed peers, reads the header block and hands each call to the handler.
 * A handler that throws, or a connection that misbehaves, ends only its own connection.
 */
export class AgiServer {
  private readonly server: Server;
  private readonly allowed: Set<string>;
  private readonly live = new Set<AgiChannel>();
  private readonly idle = new Set<Socket>();
  accepting = false;

  constructor(
    private readonly opts: AgiServerOptions,
    private readonly handler: AgiHandler,
    private readonly log: Logger,
  ) {
    this.allowed = new Set(opts.allowedPeers.map(normalizeAddress));
    this.server = createServer((socket) => this.onConnection(socket));
    this.server.on('error', (err) => this.log.error({ err }, 'AGI server error'));
  }

  get activeCalls(): number {
    return this.live.size;
  }

  get connections(): number {
    return this.live.size + this.idle.size;
  }

  async listen(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.accepting = true;
    const addr = this.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : this.opts.port;
    return { host: this.opts.host, port };
  }

  /** Stops accepting at once (Asterisk then gets a refused connect, AGISTATUS=FAILURE, and the dialplan falls back). */
  stopAccepting(): Promise<void> {
    this.accepting = false;
    for (const s of this.idle) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Resolves when no call is in progress, or after `ms`; returns how many calls were still running. */
  async drain(ms: number): Promise<number> {
    const deadline = Date.now() + ms;
    while (this.live.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, deadline - Date.now()))));
    }
    return this.live.size;
  }

  /** Closes every remaining AGI socket; Asterisk keeps the bridged calls up and continues their dialplan. */
  closeAll(): void {
    for (const ch of this.live) ch.close();
    for (const s of this.idle) s.destroy();
  }

  private onConnection(socket: Socket): void {
    const remote = normalizeAddress(socket.remoteAddress ?? '');
    if (!this.accepting) {
      socket.destroy();
      return;
    }
    if (!this.allowed.has(remote)) {
      this.log.warn({ remote }, 'AGI connection refused: address not in agi.allowedPeers');
      socket.destroy();
      return;
    }
    if (this.connections >= this.opts.maxConnections) {
      this.log.error({ remote, limit: this.opts.maxConnections }, 'AGI connection refused: agi.maxConnections reached');
      socket.destroy();
      return;
    }
    socket.on('error', () => undefined);
    this.idle.add(socket);
    const channel = new AgiChannel(socket, this.opts);
    channel.on('protocolError', (err: Error) => this.log.warn({ remote, err: err.message }, 'AGI connection closed'));
    channel
      .readRequest()
      .then(async (request) => {
        this.idle.delete(socket);
        if (channel.closed) return;
        this.live.add(channel);
        try {
          await this.handler(channel, request);
        } catch (err) {
          this.log.error({ err, uniqueid: request.uniqueid }, 'call handler failed');
        } finally {
          this.live.delete(channel);
          channel.close();
        }
      })
      .catch(() => {
        this.idle.delete(socket);
        socket.destroy();
      });
  }
}
