import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP proxy a test can cut and restore: the database "goes away" for the program under test, exactly as in an outage. */
export class TcpProxy {
  private readonly socks = new Set<Socket>();
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
      client.on('error', done).on('close', done);
      upstream.on('error', done).on('close', done);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server?.listen(port, '127.0.0.1', () => r()));
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : port;
    return this.port;
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
