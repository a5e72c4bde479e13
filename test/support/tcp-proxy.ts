import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP proxy a test can cut and restore: the database "goes away" for the program under test, exactly as in an outage. */
export class TcpProxy {
  private readonly socks = new Set<Socket>();
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private stalled = false;
  private server: Server | null = null;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<number> {
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      this.socks.add(client);
      this.socks.add(upstream);
      const done = (): void => {
        client.destroy();
        upstream.destroy();
        this.socks.delete(client);
        this.socks.delete(upstream);
      };
      const pair = { client, upstream };
      this.pairs.add(pair);
      client.on('close', () => this.pairs.delete(pair));
      client.on('error', done).on('close', done);
      upstream.on('error', done).on('close', done);
      if (!this.stalled) client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server?.listen(port, '127.0.0.1', () => r()));
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : port;
    return this.port;
  }

  /**
   * The database hangs instead of refusing: connections stay open and new ones are accepted, but no byte passes
   * either way until unstall() (a server stuck on a lock, a saturated link, a half-dead Galera node).
   */
  stall(): void {
    this.stalled = true;
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  unstall(): void {
    this.stalled = false;
    for (const { client, upstream } of this.pairs) {
      client.pipe(upstream).pipe(client);
      client.resume();
      upstream.resume();
    }
  }

  /** Drops every connection and refuses new ones. */
  async cut(): Promise<void> {
    for (const s of this.socks) s.destroy();
    this.socks.clear();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = null;
  }

  /** Ends the proxy for good: what cut() does, under the name a test's cleanup reads. */
  async stop(): Promise<void> {
    await this.cut();
  }

  /** Listens again on the same port. */
  async restore(): Promise<void> {
    await this.start(this.port);
  }
}
