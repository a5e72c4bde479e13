import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DbSettings } from '../../../src/store/db-config.js';
import { CARRIERS, ROUTES } from '../../support/daemon.js';
import { freePort } from '../../support/free-port.js';
import { flowCarriers, NUMBER } from '../driver/closed-loop.js';
import { timedCall } from '../driver/timed-call.js';
import type { BenchServer, HeapStats, LagStats } from './bench-server.js';
import { forkUnder } from './fork-under.js';

const HERE = dirname(fileURLToPath(import.meta.url));
// dist/test/bench/servers → dist/src/cli.js: the daemon exactly as `failover-agi run` starts it
const CLI = join(HERE, '..', '..', '..', 'src', 'cli.js');
const PROBE = pathToFileURL(join(HERE, 'lag-probe.js')).href;

export interface DaemonProcessOptions {
  readonly name: string;
  /** The attempt log's database (migrated), or null: no database, records to the JSONL file. */
  readonly db: DbSettings | null;
  /** Directory for a --cpu-prof profile of the daemon, written when it exits. */
  readonly cpuProfDir?: string;
  /** Start node with --expose-gc, so heap() measures after a full collection (bench:held). */
  readonly exposeGc?: boolean;
  /** Run node under this command (`valgrind` and its options, bench:instructions); its startup is slower. */
  readonly wrap?: readonly string[];
}

/**
 * `failover-agi run --config FILE` in a child process, configured as a user runs it: log level info to stdout, a
 * real pipe the bench drains (as journald would); the attempt log with its journal (database on) or its JSONL file
 * (database off); metrics over HTTP; control socket. Two settings differ from the defaults, and only so every call
 * is the same 10-command flow: the breaker never opens (consecutiveFailures 0, failureRatio 1), since primary
 * answers 503 on every call and would otherwise be ejected after three.
 */
export class DaemonProcess implements BenchServer {
  stdoutBytes = 0;
  private stderrTail = '';
  private nextId = 1;
  private readonly waiting = new Map<number, (l: LagStats) => void>();
  private readonly heapWaiting = new Map<number, (h: HeapStats) => void>();
  private readonly exited: Promise<void>;
  private gone = false;

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {
    this.exited = new Promise((r) => child.once('exit', () => ((this.gone = true), r())));
    child.stdout?.on('data', (c: Buffer) => (this.stdoutBytes += c.length));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (c: string) => (this.stderrTail = (this.stderrTail + c).slice(-2000)));
    child.on('message', (m: { t: string; id: number; lag: LagStats; heap: HeapStats }) => {
      if (m.t === 'heap') {
        const h = this.heapWaiting.get(m.id);
        this.heapWaiting.delete(m.id);
        h?.(m.heap);
        return;
      }
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      w?.(m.lag);
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  static async start(o: DaemonProcessOptions): Promise<DaemonProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'fa-bench-daemon-'));
    const port = await freePort();
    const config = {
      serverId: `bench-${o.name}`,
      agi: { host: '127.0.0.1', port },
      log: { level: 'info' },
      health: { consecutiveFailures: 0, failureRatio: 1 },
      db: o.db ? { host: o.db.host, port: o.db.port, user: o.db.user, password: o.db.password, database: o.db.database } : { host: '' },
      store: { spoolDir: join(dir, 'spool') },
      http: { host: '127.0.0.1', port: await freePort() },
      control: { socket: join(dir, 'control.sock'), stateFile: join(dir, 'admin-state.json') },
      carriers: CARRIERS,
      routes: ROUTES,
    };
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(config, null, 2));
    const prof = o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : [];
    const gc = o.exposeGc ? ['--expose-gc'] : [];
    const child = forkUnder(CLI, ['run', '--config', file], ['--import', PROBE, ...gc, ...prof], o.wrap ?? [], ['ignore', 'pipe', 'pipe', 'ipc']);
    const d = new DaemonProcess(o.name, port, child, dir);
    const until = Date.now() + (o.wrap?.length ? 120_000 : 15_000);
    for (;;) {
      if (d.gone) throw new Error(`${o.name}: daemon exited: ${d.stderrTail.trim().slice(-500)}`);
      const r = await timedCall({ port, number: NUMBER, uniqueid: `ready.${o.name}`, carriers: flowCarriers('A') });
      if (r.ok && r.vars.get('FAILOVER_STATUS') === 'ANSWER') return d;
      if (Date.now() > until) {
        await d.stop();
        throw new Error(`${o.name}: daemon not answering on ${port}: ${r.error ?? `${r.dials} Dials`}; ${d.stderrTail.trim().slice(-500)}`);
      }
      await new Promise((r2) => setTimeout(r2, 100));
    }
  }

  lag(reset: boolean): Promise<LagStats> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ t: reset ? 'lag-reset' : 'lag', id });
    });
  }

  /** The heap after a full collection (see exposeGc); with snapshotDir, a heap snapshot is written there too. */
  heap(snapshotDir?: string): Promise<HeapStats> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.heapWaiting.set(id, resolve);
      this.child.send({ t: 'heap', id, ...(snapshotDir ? { snapshotDir } : {}) });
    });
  }

  /** SIGTERM, as systemd stops it: the daemon drains, flushes the attempt log and exits (writing --cpu-prof). */
  async stop(): Promise<void> {
    if (!this.gone) {
      this.child.kill('SIGTERM');
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (!this.gone) this.child.kill('SIGKILL');
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 1000))]);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
