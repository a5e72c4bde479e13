/** What the comparison needs of every server under test; CPU and RSS come from /proc (report/proc-usage.ts). */

export interface LagStats {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly heapUsedBytes: number;
}

/** The daemon's heap after a full collection (bench:held), for memory per held call. */
export interface HeapStats {
  /** False when the daemon was not started with --expose-gc: the figures then include garbage. */
  readonly collected: boolean;
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
  readonly externalBytes: number;
  readonly arrayBuffersBytes: number;
  /** File name of the heap snapshot written in the directory asked for, or null. */
  readonly snapshot: string | null;
}

export interface BenchServer {
  readonly name: string;
  readonly port: number;
  /** The process whose /proc stat is read; the Perl peer's children are added to it. */
  readonly pid: number;
  /** Event-loop lag since the last reset, when the server is a Node process we can ask; null for the Perl peer. */
  lag?(reset: boolean): Promise<LagStats>;
  stop(): Promise<void>;
}
