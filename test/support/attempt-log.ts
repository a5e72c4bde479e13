import { teeSink } from '../../src/calls/log-sink.js';
import type { MemorySink } from './memory-sink.js';
import type { AttemptLog } from '../../src/service.js';

/** The service's attempt log kept in a MemorySink, so a test reads every record; `also` (a real store) gets them too. */
export function memoryAttemptLog(sink: MemorySink, also: AttemptLog | null = null): AttemptLog {
  const records = also ? teeSink(sink, also) : sink;
  return {
    attempt: (r) => records.attempt(r),
    carrierEvent: (e) => records.carrierEvent(e),
    start: async () => also?.start(),
    close: async () => also?.close(),
    stats: () => also?.stats() ?? { queued: 0, spoolBytes: 0, writeErrors: 0, dbConnected: false },
  };
}
