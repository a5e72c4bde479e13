import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchServer, LagStats } from './bench-server.js';
import { forkUnder } from './fork-under.js';
import type { ChildUsage, FromChild, ServerKind, ToChild } from './ipc-messages.js';

const ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'server-child.js');

type Request = ToChild extends infer M ? (M extends { t: infer T } ? T : never) : never;

/** The bench's handle on a server child: request/response over IPC, each request numbered. */
export class ServerChild implements BenchServer {
  private nextId = 1;
  private readonly waiting = new Map<number, (m: FromChild) => void>();
  private readonly exited: Promise<void>;
  private gone = false;

  private constructor(
    readonly kind: ServerKind,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((r) => child.once('exit', () => ((this.gone = true), r())));
    child.on('message', (m: FromChild) => {
      if (m.t === 'ready') return;
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      w?.(m);
    });
  }

  /** `wrap`: run node under this command (`valgrind` and its options, bench:instructions). */
  static start(kind: ServerKind, wrap: readonly string[] = []): Promise<ServerChild> {
    // execArgv empty: the bench's own flags (e.g. --inspect) must not follow the server under test
    const child = forkUnder(ENTRY, [kind], [], wrap, ['ignore', 'inherit', 'inherit', 'ipc']);
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`${kind} child exited with ${code} before it was ready`)));
      child.once('message', (m: FromChild) => {
        if (m.t === 'ready') resolve(new ServerChild(kind, m.port, child));
      });
    });
  }

  get name(): string {
    return this.kind === 'floor' ? 'floor' : this.kind === 'agi-floor' ? 'agi-layer floor' : 'daemon (in-process, silent)';
  }

  async lag(reset: boolean): Promise<LagStats> {
    const u = await this.usage();
    if (reset) await this.reset();
    return { p50Ms: u.lagP50Ms, p99Ms: u.lagP99Ms, maxMs: u.lagMaxMs, heapUsedBytes: u.heapUsedBytes };
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  private ask(t: Request, extra: Record<string, unknown> = {}): Promise<FromChild> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ t, id, ...extra } as ToChild);
    });
  }

  async setFlow(flow: 'A' | 'B'): Promise<void> {
    await this.ask('flow', { flow });
  }

  async setCommands(flow: 'A' | 'B', commands: readonly string[]): Promise<void> {
    await this.ask('commands', { flow, commands });
  }

  async reset(): Promise<void> {
    await this.ask('reset');
  }

  async usage(): Promise<ChildUsage> {
    const m = await this.ask('usage');
    if (m.t !== 'usage') throw new Error(`expected usage, got ${m.t}`);
    return m.usage;
  }

  /** Safe to call twice: run.ts stops early on success and again in its finally. */
  async stop(): Promise<void> {
    if (this.gone) return;
    await Promise.race([this.ask('stop'), this.exited, new Promise((r) => setTimeout(r, 3000))]);
    if (!this.gone) this.child.kill('SIGKILL');
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 1000))]);
  }
}
