import type { CarrierEvent } from '../../src/health/types.js';
import type { AttemptRecord, RecordSink } from '../../src/calls/records.js';

/** Keeps records in memory: the demo's table and the tests read them. */
export class MemorySink implements RecordSink {
  readonly attempts: AttemptRecord[] = [];
  readonly events: CarrierEvent[] = [];
  attempt(r: AttemptRecord): void {
    this.attempts.push(r);
  }
  carrierEvent(e: CarrierEvent): void {
    this.events.push(e);
  }
}
