import type { AttemptRecord } from '../../src/calls/records.js';
import type { CarrierEvent } from '../../src/health/types.js';

export function attemptRecord(p: Partial<AttemptRecord> = {}): AttemptRecord {
  const now = Date.now();
  return {
    uniqueid: '1795412596.4', attempt: 1, serverId: 'dialer1', route: 'outbound-failover', strategy: 'failover', carrier: 'primary',
    dialString: 'SIP/15552345678@carrier-primary,60^5,tT', number: '15552345678', callerCode: 'V1124183000000012345', leadId: 12345,
    campaign: 'CAMP1', startedAt: now - 1000, answeredAt: null, endedAt: now, ringMs: 1000, talkMs: 0, dialStatus: 'CONGESTION', cause: 34,
    sipCode: 503, sipReason: 'Service Unavailable', verdict: 'next', reason: 'SIP 503 Service Unavailable is a carrier failure', healthState: 'up',
    ...p,
  };
}

export function carrierEvent(p: Partial<CarrierEvent> = {}): CarrierEvent {
  return { at: Date.now(), carrier: 'primary', from: 'up', to: 'down', source: 'breaker', reason: '3 carrier failures in a row', ...p };
}
