import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, release, platform } from 'node:os';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly ramBytes: number;
  readonly node: string;
  readonly os: string;
  readonly openFilesSoftLimit: number | null;
  readonly date: string;
  /** 1/5/15-minute load averages when the run starts: anything else busy on the box shows here. */
  readonly loadAverage: readonly number[];
}

/** The soft RLIMIT_NOFILE of this process: Node has no getrlimit, /proc has it. */
export function openFilesLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    ramBytes: totalmem(),
    node: process.version,
    os: `${platform()} ${release()}`,
    openFilesSoftLimit: openFilesLimit(),
    date: new Date().toISOString(),
    loadAverage: loadavg(),
  };
}
