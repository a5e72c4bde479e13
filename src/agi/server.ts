import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../log.js';
import { keyMatches, withoutKey } from './auth.js';
import { AgiChannel, type AgiChannelLimits } from './channel.js';
import type { AgiRequest } from './request.js';

export interface AgiServerOptions extends AgiChannelLimits {
  readonly host: string;
  readonly port: number;
  /** Source addresses allowed to connect; IPv4-mapped IPv6 forms match their IPv4 address. */
  readonly allowedPeers: readonly string[];
  readonly maxConnections: number;
  /** Listen queue for connects not yet accepted: a dialer opens hundreds at once, and a full queue drops them. */
  readonly listenBacklog: number;
  /** ms of silence before the kernel starts TCP keepalive probes on an accepted socket; 0 = no keepalive. */
  readonly keepAliveIdle: number;
  /** The key Asterisk must send as `?key=` in the AGI URL ('' = none asked). Resolved already, never logged. */
  readonly sharedKey: string;
  /** Told about every connection refused before any command: `peer` (allowedPeers), `limit` (maxConnections), `key`. */
  readonly onRefused?: (reason: 'peer' | 'limit' | 'key') => void;
}

/** Runs one call; the connection ends when its promise settles (what it resolves with is the handler's own). */
export type AgiHandler = (channel: AgiChannel, request: AgiRequest) => Promise<unknown>;

/**
 * One listener for every channel of a server, not a closure per connection keeping that connection's scope for the
 * whole call: the peer's address is the socket's, cached when it was accepted.
 */
function protocolErrorListener(log: Logger): (this: AgiChannel, err: Error) => void {
  return function (this: AgiChannel, err: Error): void {
    log.warn({ remote: normalizeAddress(this.socket.remoteAddress ?? ''), err: err.message }, 'AGI connection closed');
  };
}

function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/**
 * Accepts FastAGI connections from allowed peers, reads the header block and hands each call to the handler.
 * A handler that throws, or a connection that misbehaves, ends only its own connection.
 */
export class AgiServer {
  private readonly server: Server;
  private allowed: Set<string>;
  private readonly live = new Set<AgiChannel>();
  private readonly idle = new Set<Socket>();
  private readonly onProtocolError: (this: AgiChannel, err: Error) => void;
  accepting = false;

  constructor(
    private opts: AgiServerOptions,
    private readonly handler: AgiHandler,
    private readonly log: Logger,
  ) {
    this.allowed = new Set(opts.allowedPeers.map(normalizeAddress));
    this.onProtocolError = protocolErrorListener(log);
    this.server = createServer((socket) => this.onConnection(socket));
    this.server.on('error', (err) => this.log.error({ err }, 'AGI server error'));
  }

  /**
   * Config reload: new connections get these limits, peers and key. A connection already open keeps the limits it
   * was accepted with (its channel holds them); host, port and listenBacklog need a new socket and are ignored.
   */
  retune(opts: AgiServerOptions): void {
    this.opts = { ...opts, host: this.opts.host, port: this.opts.port, listenBacklog: this.opts.listenBacklog };
    this.allowed = new Set(opts.allowedPeers.map(normalizeAddress));
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
      this.server.listen({ port: this.opts.port, host: this.opts.host, backlog: this.opts.listenBacklog }, () => {
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

  /**
   * Gives up on every remaining call: each socket is destroyed and its command in flight (a Dial, normally) fails
   * with `reason`, so its attempt is recorded before exit. Asterisk keeps the bridged calls up; when their Dial
   * returns, the AGI is gone and the dialplan finds FAILOVER_STATUS=DIALING: it hangs up, never dials again.
   */
  interruptAll(reason: string): void {
    for (const ch of this.live) ch.interrupt(reason);
    for (const s of this.idle) s.destroy();
  }

  /**
   * The call on an accepted connection, until its handler settles. Not awaited where the connection was accepted:
   * that frame would hold the request and the accept's scope for the whole call; this keeps only the uniqueid.
   */
  private serve(channel: AgiChannel, request: AgiRequest): void {
    const { uniqueid } = request;
    let call: Promise<unknown>;
    try {
      call = this.handler(channel, request);
    } catch (err) {
      call = Promise.reject(err);
    }
    call.then(
      () => this.ended(channel),
      (err: unknown) => {
        this.log.error({ err, uniqueid }, 'call handler failed');
        this.ended(channel);
      },
    );
  }

  private ended(channel: AgiChannel): void {
    this.live.delete(channel);
    channel.close();
  }

  private onConnection(socket: Socket): void {
    // the settings at accept time hold for the whole connection, even across a reload
    const opts = this.opts;
    const remote = normalizeAddress(socket.remoteAddress ?? '');
    if (!this.accepting) {
      socket.destroy();
      return;
    }
    if (!this.allowed.has(remote)) {
      this.log.warn({ remote }, 'AGI connection refused: address not in agi.allowedPeers');
      opts.onRefused?.('peer');
      socket.destroy();
      return;
    }
    if (this.connections >= opts.maxConnections) {
      this.log.error({ remote, limit: opts.maxConnections }, 'AGI connection refused: agi.maxConnections reached');
      opts.onRefused?.('limit');
      socket.destroy();
      return;
    }
    // no 'error' listener of its own: the channel's (added below, in the same tick) keeps an error from throwing
    // a remote Asterisk that vanishes without a FIN: the kernel's probes end the socket instead of holding it for ever
    if (opts.keepAliveIdle > 0) socket.setKeepAlive(true, opts.keepAliveIdle);
    this.idle.add(socket);
    const channel = new AgiChannel(socket, opts);
    channel.on('protocolError', this.onProtocolError);
    channel
      .readRequest()
      .then((raw) => {
        this.idle.delete(socket);
        if (channel.closed) return;
        const request = withoutKey(raw);
        if (opts.sharedKey !== '' && !keyMatches(opts.sharedKey, raw.params.get('key'))) {
          // no command at all: a fake peer learns nothing, a real Asterisk with a stale dialplan finds FAILOVER_STATUS
          // empty (no Dial placed) and dials its static cascade; nothing from this connection reaches health
          this.log.warn(
            { remote, script: request.script, uniqueid: request.uniqueid, keyProblem: raw.params.has('key') ? 'wrong' : 'missing' },
            'AGI connection refused: no valid agi.sharedKey in the AGI URL',
          );
          opts.onRefused?.('key');
          socket.destroy();
          return;
        }
        this.live.add(channel);
        this.serve(channel, request);
      })
      .catch(() => {
        this.idle.delete(socket);
        socket.destroy();
      });
  }
}
