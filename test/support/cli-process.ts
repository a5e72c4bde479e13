import { spawn, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CARRIERS, ROUTES } from './daemon.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.js');

export interface CliDaemon {
  readonly child: ChildProcess;
  readonly dir: string;
  readonly configFile: string;
  /** The AGI port, read from the "FastAGI server listening" log line. */
  readonly port: number;
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
  rssBytes(): number;
  waitFor(pred: (l: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  kill(signal?: NodeJS.Signals): void;
}

const running = new Set<ChildProcess>();
// under node's test runner: once every test of the file is done, no daemon a failed test left behind keeps it open
if (process.env['NODE_TEST_CONTEXT']) {
  after(() => {
    for (const c of running) c.kill('SIGKILL');
  });
}

/** Runs the real `failover-agi run` in a child process with a config in a fresh temp dir. */
export async function startCliDaemon(config: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}): Promise<CliDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'fa-daemon-'));
  const configFile = join(dir, 'config.json');
  const full = {
    agi: { port: 0 },
    http: { port: 0 },
    log: { level: 'info' },
    store: { spoolDir: join(dir, 'spool') },
    control: { socket: join(dir, 'control.sock'), stateFile: join(dir, 'admin-state.json') },
    carriers: CARRIERS,
    routes: ROUTES,
    ...config,
  };
  writeFileSync(configFile, JSON.stringify(full, null, 2));
  const child = spawn(process.execPath, [CLI, 'run', '--config', configFile], { env: { PATH: process.env['PATH'], ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // a test that fails before it stops its daemon must not keep the test file (and so the whole run) waiting
  running.add(child);
  child.on('exit', () => running.delete(child));
  const lines: Record<string, unknown>[] = [];
  const waiters: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  let buf = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (c: string) => {
    buf += c;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let l: Record<string, unknown>;
      try {
        l = JSON.parse(text) as Record<string, unknown>;
      } catch {
        l = { msg: text };
      }
      lines.push(l);
      for (const w of [...waiters]) if (w.pred(l)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const waitFor = (pred: (l: Record<string, unknown>) => boolean, ms = 10000): Promise<Record<string, unknown>> => {
    const found = lines.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`log line not seen within ${ms} ms; stderr: ${stderr.slice(0, 500)}`)), ms);
      waiters.push({ pred, resolve: (l) => (clearTimeout(t), resolve(l)) });
    });
  };
  let listening: Record<string, unknown>;
  try {
    listening = await Promise.race([
      waitFor((l) => l['msg'] === 'FastAGI server listening'),
      exited.then((code) => Promise.reject(new Error(`daemon exited with ${code}: ${stderr.slice(0, 1000)}`))),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    child,
    dir,
    configFile,
    port: Number(listening['port']),
    lines,
    exited,
    waitFor,
    rssBytes: () => procRss(child.pid ?? 0),
    kill: (signal = 'SIGTERM') => child.kill(signal),
  };
}

function procRss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function writeJson(file: string, v: unknown): void {
  writeFileSync(file, JSON.stringify(v, null, 2));
}
