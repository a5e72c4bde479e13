/**
 * Q.850 causes by the text `HANGUPCAUSE(<leg>,ast)` returns: `ast_cause2str()` over the table in Asterisk 20's
 * main/channel.c:137-187 (causes.h:98-156). The leg's own cause is only readable as this text.
 */
const BY_TEXT: ReadonlyMap<string, number> = new Map([
  ['Unallocated (unassigned) number', 1],
  ['No route to specified transmit network', 2],
  ['No route to destination', 3],
  ['Misdialed trunk prefix', 5],
  ['Channel unacceptable', 6],
  ['Call awarded and being delivered in an established channel', 7],
  ['Pre-empted', 8],
  ['Number ported elsewhere', 14],
  ['Normal Clearing', 16],
  ['User busy', 17],
  ['No user responding', 18],
  ['User alerting, no answer', 19],
  ['Subscriber absent', 20],
  ['Call Rejected', 21],
  ['Number changed', 22],
  ['Redirected to new destination', 23],
  ['Answered elsewhere', 26],
  ['Destination out of order', 27],
  ['Invalid number format', 28],
  ['Facility rejected', 29],
  ['Response to STATus ENQuiry', 30],
  ['Normal, unspecified', 31],
  ['Circuit/channel congestion', 34],
  ['Network out of order', 38],
  ['Temporary failure', 41],
  ['Switching equipment congestion', 42],
  ['Access information discarded', 43],
  ['Requested channel not available', 44],
  ['Facility not subscribed', 50],
  ['Outgoing call barred', 52],
  ['Incoming call barred', 54],
  ['Bearer capability not authorized', 57],
  ['Bearer capability not available', 58],
  ['Bearer capability not implemented', 65],
  ['Channel not implemented', 66],
  ['Facility not implemented', 69],
  ['Invalid call reference value', 81],
  ['Incompatible destination', 88],
  ['Invalid message unspecified', 95],
  ['Mandatory information element is missing', 96],
  ['Message type nonexist.', 97],
  ['Wrong message', 98],
  ['Info. element nonexist or not implemented', 99],
  ['Invalid information element contents', 100],
  ['Message not compatible with call state', 101],
  ['Recover on timer expiry', 102],
  ['Mandatory IE length error', 103],
  ['Protocol error, unspecified', 111],
  ['Interworking, unspecified', 127],
]);

/** `Circuit/channel congestion` → 34; an empty or unknown text → null. */
export function causeFromText(text: string): number | null {
  return BY_TEXT.get(text.trim()) ?? null;
}

const TEXT_BY_CAUSE: ReadonlyMap<number, string> = new Map([...BY_TEXT].map(([t, n]) => [n, t]));

/** The inverse, for simulators and logs. */
export function causeText(cause: number): string {
  return TEXT_BY_CAUSE.get(cause) ?? 'Unknown';
}
