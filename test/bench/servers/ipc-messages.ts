/** What the bench and a server child say to each other over the fork() IPC channel. */

/** `agi-floor`: the daemon's FastAGI layer replaying the floor's commands (agi-layer-floor.ts). */
export type ServerKind = 'daemon' | 'floor' | 'agi-floor';

export type ToChild =
  | { readonly t: 'flow'; readonly id: number; readonly flow: 'A' | 'B' }
  /** The floor's commands for a flow: the daemon's, as fidelity.ts captured them this run. */
  | { readonly t: 'commands'; readonly id: number; readonly flow: 'A' | 'B'; readonly commands: readonly string[] }
  /** Restart the counters: CPU is read as a difference, the event-loop histogram is reset. */
  | { readonly t: 'reset'; readonly id: number }
  | { readonly t: 'usage'; readonly id: number }
  | { readonly t: 'stop'; readonly id: number };

export interface ChildUsage {
  /** µs of CPU since the last reset. */
  readonly cpuUserUs: number;
  readonly cpuSystemUs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  readonly connections: number;
}

export type FromChild =
  | { readonly t: 'ready'; readonly port: number }
  | { readonly t: 'ack'; readonly id: number }
  | { readonly t: 'usage'; readonly id: number; readonly usage: ChildUsage };
