import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU and RSS of a process and its live children from /proc, for servers that cannot report over IPC (the Perl
 * peer forks a pool). Reaped children's CPU is in the parent's cutime/cstime, so children that exited count too.
 */

const TICK_US = 10_000; // USER_HZ is 100 on Linux

interface Stat {
  readonly ppid: number;
  readonly cpuUs: number;
  readonly reapedUs: number;
  readonly rssBytes: number;
}

function readStat(pid: number): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the ")" that closes the command name; 4=ppid 14=utime 15=stime 16=cutime 17=cstime 24=rss pages
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const n = (i: number): number => Number(f[i - 3] ?? 0);
    return { ppid: n(4), cpuUs: (n(14) + n(15)) * TICK_US, reapedUs: (n(16) + n(17)) * TICK_US, rssBytes: n(24) * 4096 };
  } catch {
    return null;
  }
}

/** Proportional set size: shared pages split between the processes sharing them, so a forked pool is not counted N times. */
function pssBytes(pid: number): number | null {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export interface TreeUsage {
  readonly cpuUs: number;
  readonly rssBytes: number;
  /** Sum of PSS, or of RSS where the kernel has no smaps_rollup. */
  readonly pssBytes: number;
  readonly processes: number;
}

export function treeUsage(rootPid: number): TreeUsage {
  const root = readStat(rootPid);
  if (!root) return { cpuUs: 0, rssBytes: 0, pssBytes: 0, processes: 0 };
  let cpuUs = root.cpuUs + root.reapedUs;
  let rssBytes = root.rssBytes;
  let pss = pssBytes(rootPid) ?? root.rssBytes;
  let processes = 1;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = readStat(Number(d));
    if (s && s.ppid === rootPid) {
      cpuUs += s.cpuUs;
      rssBytes += s.rssBytes;
      pss += pssBytes(Number(d)) ?? s.rssBytes;
      processes++;
    }
  }
  return { cpuUs, rssBytes, pssBytes: pss, processes };
}

export interface ListenCounters {
  readonly overflows: number;
  readonly drops: number;
}

/**
 * The kernel's TcpExt ListenOverflows (accept queue full) and ListenDrops (any SYN dropped at a listener), from
 * /proc/net/netstat. They are per network namespace, not per socket: read as deltas while one server is under load.
 */
export function listenCounters(): ListenCounters {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const names = (lines[0] ?? '').split(' ');
    const values = (lines[1] ?? '').split(' ');
    const get = (n: string): number => Number(values[names.indexOf(n)] ?? NaN);
    return { overflows: get('ListenOverflows'), drops: get('ListenDrops') };
  } catch {
    return { overflows: NaN, drops: NaN };
  }
}
