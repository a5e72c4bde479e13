import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DbSettings } from '../../../src/store/db-config.js';
import type { BenchConfig } from '../bench-config.js';
import { closedLoop } from '../driver/closed-loop.js';
import { DaemonProcess } from '../servers/daemon-process.js';

/**
 * Where the daemon's CPU goes: the daemon under `--cpu-prof` at 100 concurrent calls, then the V8 profile's
 * self time summed per function. For whoever works on the hot path; the figures elsewhere run without a profiler.
 */

export interface ProfileEntry {
  readonly fn: string;
  readonly where: string;
  readonly selfMs: number;
  readonly percent: number;
}

export interface ProfileResult {
  readonly flows: number;
  readonly totalMs: number;
  readonly top: readonly ProfileEntry[];
}

interface CpuProfile {
  readonly nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** Shortens a file URL to the part below the repository (dist/src/…, node_modules/…) or a node: builtin. */
function shortUrl(url: string): string {
  if (url === '') return '';
  const m = /(?:\/dist(?:-[^/]*)?\/|\/)((?:src|test|node_modules)\/.*)$/.exec(url);
  return m?.[1] ?? url.replace(/^file:\/\//, '');
}

export function topSelfTime(p: CpuProfile, n: number): { totalMs: number; top: ProfileEntry[] } {
  const byNode = new Map(p.nodes.map((x) => [x.id, x.callFrame]));
  const self = new Map<string, { fn: string; where: string; us: number }>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const us = p.timeDeltas[i] ?? 0;
    const f = byNode.get(id);
    if (!f) return;
    total += us;
    const fn = f.functionName || '(anonymous)';
    const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${fn}@${where}`;
    const e = self.get(key) ?? { fn, where, us: 0 };
    e.us += us;
    self.set(key, e);
  });
  const top = [...self.values()]
    .filter((e) => e.fn !== '(idle)')
    .sort((a, b) => b.us - a.us)
    .slice(0, n)
    .map((e) => ({ fn: e.fn, where: e.where, selfMs: e.us / 1000, percent: (e.us / total) * 100 }));
  return { totalMs: total / 1000, top };
}

export async function profileDaemon(cfg: BenchConfig, db: DbSettings | null): Promise<ProfileResult | null> {
  if (cfg.profileMs <= 0) return null;
  const dir = mkdtempSync(join(tmpdir(), 'fa-bench-prof-'));
  try {
    const d = await DaemonProcess.start({ name: 'daemon (profiled)', db, cpuProfDir: dir });
    let flows = 0;
    try {
      flows = (await closedLoop(d.port, 100, 0, { warmMs: 1000, measureMs: cfg.profileMs })).calls;
    } finally {
      await d.stop();
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) return null;
    const { totalMs, top } = topSelfTime(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, 20);
    return { flows, totalMs, top };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
