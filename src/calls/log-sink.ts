import type { CarrierEvent } from '../health/types.js';
import type { Logger } from '../log.js';
import type { AttemptRecord, RecordSink } from './records.js';

/** A sink that only logs: what the daemon uses when nothing else is wired, and a tee for the real store. */
export function logSink(log: Logger): RecordSink {
  return {
    attempt: (r: AttemptRecord) => log.debug({ record: r }, 'attempt record'),
    carrierEvent: (e: CarrierEvent) =>
      log.info({ carrier: e.carrier, from: e.from, to: e.to, source: e.source, reason: e.reason }, 'carrier state change'),
  };
}

/** Hands every record to each sink in turn; one sink throwing never keeps a record from the others. */
export function teeSink(...sinks: RecordSink[]): RecordSink {
  return {
    attempt(r) {
      for (const s of sinks) {
        try {
          s.attempt(r);
        } catch {
          /* a sink must not throw; if one does, the others still get the record */
        }
      }
    },
    carrierEvent(e) {
      for (const s of sinks) {
        try {
          s.carrierEvent(e);
        } catch {
          /* as above */
        }
      }
    },
  };
}
