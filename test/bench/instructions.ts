import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { timedCall } from './driver/timed-call.js';
import { flowCarriers, NUMBER } from './driver/closed-loop.js';
import { checkFidelity } from './sections/fidelity.js';
import type { BenchServer } from './servers/bench-server.js';
import { ServerChild } from './servers/child-handle.js';
import { DaemonProcess } from './servers/daemon-process.js';

/**
 * `npm run bench:instructions`: user-space instructions per flow (valgrind's callgrind, every thread of the process)
 * for the daemon as users run it (database off), the daemon's own FastAGI layer replaying the same commands
 * (agi-layer-floor.ts) and the bare floor. Instructions do not depend on what else the machine is doing, so a change
 * of a few per cent shows here when flows/s and CPU time on a shared VM vary by half between runs. Kernel time is
 * not in it (callgrind sees user space only). Each server starts with instrumentation off, is warmed up, then
 * counted over --flows flows, --reps times; V8 compiles hot code on threads of its own, and a warm-up too short
 * leaves that compiling inside the count (the first repetition then reads high). Prints; asserts nothing. Needs
 * valgrind (Debian's package).
 */

const HELP = 'usage: bench:instructions [--flows N=2000] [--warm N=5000] [--reps N=3] [--concurrency N=10] [--only daemon|agi-floor|floor] [--keep DIR]';
const { values: a } = parseArgs({
  options: {
    flows: { type: 'string', default: '2000' },
    warm: { type: 'string', default: '5000' },
    reps: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '10' },
    only: { type: 'string', default: '' },
    // the callgrind dumps are kept there, for callgrind_annotate (which functions, builtins and GC the count is made of)
    keep: { type: 'string', default: '' },
    help: { type: 'boolean', default: false },
  },
});
if (a.help) {
  console.log(HELP);
  process.exit(0);
}
if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.log('bench:instructions needs valgrind: apt-get install valgrind');
  process.exit(0);
}
const flows = Number(a.flows);
const warm = Number(a.warm);
const reps = Number(a.reps);
const concurrency = Number(a.concurrency);

const dir = a.keep ? (mkdirSync(a.keep, { recursive: true }), a.keep) : mkdtempSync(join(tmpdir(), 'fa-bench-instr-'));
// JIT code is written and rewritten on the heap: valgrind must check it for changes (smc-check), or it runs stale code
const wrap = (name: string): string[] => ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', `--callgrind-out-file=${join(dir, `${name}.%p`)}`, '-q'];

async function drive(port: number, n: number): Promise<number> {
  let next = 0;
  let bad = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const r = await timedCall({ port, number: NUMBER, uniqueid: `instr.${i}`, carriers: flowCarriers('A') });
      if (!r.ok) bad++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return bad;
}

function control(pid: number, ...args: string[]): void {
  execFileSync('callgrind_control', [...args, String(pid)], { stdio: 'ignore' });
}

/** The newest dump of this process: callgrind names them <file>.<pid>.<n>. */
function lastDump(name: string, pid: number): number {
  const files = readdirSync(dir).filter((f) => f.startsWith(`${name}.${pid}.`));
  files.sort((x, y) => Number(x.split('.').pop()) - Number(y.split('.').pop()));
  const f = files.at(-1);
  if (!f) throw new Error(`no callgrind dump for ${name} (pid ${pid})`);
  const m = /^summary: (\d+)$/m.exec(readFileSync(join(dir, f), 'utf8'));
  if (!m) throw new Error(`no summary line in ${f}`);
  return Number(m[1]);
}

async function measure(name: string, s: BenchServer): Promise<number[]> {
  const out: number[] = [];
  if ((await drive(s.port, warm)) > 0) throw new Error(`${name}: warm-up flows failed`);
  for (let r = 0; r < reps; r++) {
    control(s.pid, '-z');
    control(s.pid, '-i', 'on');
    const bad = await drive(s.port, flows);
    control(s.pid, '-d');
    control(s.pid, '-i', 'off');
    if (bad > 0) throw new Error(`${name}: ${bad} flows failed`);
    const per = lastDump(name, s.pid) / flows;
    console.log(`  ${name} #${r + 1}: ${(per / 1000).toFixed(0)} k instructions per flow`);
    out.push(per);
  }
  return out;
}

const results = new Map<string, number>();
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
console.log(`instructions per flow (callgrind, user space, all threads): ${flows} flows × ${reps} after ${warm} warm, ${concurrency} concurrent, flow A (7 commands)`);
// the command list comes from a daemon run without valgrind: the floors replay it
const plain = await DaemonProcess.start({ name: 'daemon, db off', db: null });
const refFloor = await ServerChild.start('floor');
const fidelity = await checkFidelity(plain, refFloor, []);
await plain.stop();
await refFloor.stop();
try {
  for (const kind of ['daemon', 'agi-floor', 'floor'] as const) {
    if (a.only && a.only !== kind) continue;
    if (kind === 'daemon') {
      const d = await DaemonProcess.start({ name: 'daemon', db: null, wrap: wrap('daemon') });
      try {
        results.set(kind, median(await measure(kind, d)));
      } finally {
        await d.stop();
      }
    } else {
      const c = await ServerChild.start(kind, wrap(kind));
      try {
        await c.setFlow('A');
        await c.setCommands('A', fidelity.daemonCommands);
        results.set(kind, median(await measure(kind, c)));
      } finally {
        await c.stop();
      }
    }
  }
} finally {
  if (!a.keep) rmSync(dir, { recursive: true, force: true });
}
const d = results.get('daemon');
const af = results.get('agi-floor');
const f = results.get('floor');
const k = (x: number | undefined): string => (x === undefined ? '-' : `${(x / 1000).toFixed(0)} k`);
console.log(`median: daemon ${k(d)}, agi-layer floor ${k(af)}, floor ${k(f)}`);
if (d && f) console.log(`daemon / floor ${(d / f).toFixed(2)}x${af ? `, agi-layer floor / floor ${(af / f).toFixed(2)}x, daemon / agi-layer floor ${(d / af).toFixed(2)}x` : ''}`);
