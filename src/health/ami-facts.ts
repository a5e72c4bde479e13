/**
 * What Asterisk says about one carrier, kept per source (peer status, PJSIP contacts, outbound registration),
 * and the one verdict derived from them. Pure data and pure functions.
 */

/** The channel driver a carrier's Dial template names; only sip, pjsip and iax2 are followed over AMI. */
export type Tech = 'sip' | 'pjsip' | 'iax2' | 'other';

export type AmiLevel = 'up' | 'lagged' | 'down' | 'unknown';

export interface AmiVerdict {
  readonly level: AmiLevel;
  readonly reason: string;
}

export interface ContactFact {
  readonly aor: string;
  readonly verdict: AmiVerdict;
}

export interface AmiFacts {
  /** PeerStatus (chan_sip, IAX2, PJSIP endpoint) or the resync's peer list. */
  readonly peer: AmiVerdict | null;
  /** PJSIP contacts by URI; null = not known (no resync yet), empty = the endpoint has none. */
  readonly contacts: ReadonlyMap<string, ContactFact> | null;
  /** Our outbound registration to the carrier. */
  readonly registration: AmiVerdict | null;
  /** Why nothing is known, when nothing is: not found at resync, resync failed, AMI stale, not trackable. */
  readonly note: string | null;
}

export const NO_FACTS: AmiFacts = { peer: null, contacts: null, registration: null, note: 'no AMI data yet' };

export function factsUnknown(note: string): AmiFacts {
  return { peer: null, contacts: null, registration: null, note };
}

/** `SIP/${number}@peer` → sip; the prefix is the channel technology, as Dial reads it. */
export function techOf(dial: string): Tech {
  const prefix = dial.slice(0, dial.indexOf('/')).toUpperCase();
  if (prefix === 'SIP') return 'sip';
  if (prefix === 'PJSIP') return 'pjsip';
  if (prefix === 'IAX2') return 'iax2';
  return 'other';
}

/** A peer written with its technology (`PJSIP/carrier-b`) names the same object as `carrier-b`. */
export function bareName(peer: string): string {
  const m = /^(?:SIP|PJSIP|IAX2)\/(.+)$/i.exec(peer);
  return (m?.[1] ?? peer).trim();
}

export function key(name: string): string {
  return bareName(name).toLowerCase();
}

function rttText(ms: number | null): string {
  return ms === null ? '' : ` (${Math.round(ms)} ms)`;
}

function byRtt(ms: number | null, laggedRtt: number, reason: string): AmiVerdict {
  if (ms !== null && laggedRtt > 0 && ms > laggedRtt) return { level: 'lagged', reason: `${reason}: round trip ${Math.round(ms)} ms > ${laggedRtt} ms` };
  return { level: 'up', reason: `${reason}${rttText(ms)}` };
}

/**
 * PeerStatus values of chan_sip, IAX2 and PJSIP (async events and SIPpeerstatus rows). Null: a value that says
 * nothing about reachability, which leaves the carrier as it was.
 */
export function peerVerdict(status: string, rttMs: number | null, laggedRtt: number, cause = ''): AmiVerdict | null {
  const why = (s: string) => `PeerStatus ${s}${cause ? ` (${cause})` : ''}`;
  switch (status.trim().toLowerCase()) {
    case 'reachable':
      return byRtt(rttMs, laggedRtt, 'PeerStatus Reachable');
    case 'lagged':
      return { level: 'lagged', reason: `PeerStatus Lagged${rttText(rttMs)}` };
    case 'unreachable':
      return { level: 'down', reason: why('Unreachable') };
    case 'registered':
      return { level: 'up', reason: why('Registered') };
    case 'unregistered':
      return { level: 'down', reason: why('Unregistered') };
    case 'rejected':
      return { level: 'down', reason: why('Rejected') };
    case 'unknown':
      return { level: 'unknown', reason: 'PeerStatus Unknown (not qualified yet)' };
    case 'unmonitored':
      return { level: 'unknown', reason: 'PeerStatus Unmonitored (qualify=no)' };
    default:
      return null;
  }
}

/** The `Status` of SIPpeers/IAXpeerlist rows: `OK (12 ms)`, `LAGGED (2504 ms)`, `UNREACHABLE`, `UNKNOWN`, `Unmonitored`. */
export function peerListStatus(text: string): { status: string; rttMs: number | null } {
  const m = /^(OK|LAGGED)\s*\((\d+)\s*ms\)/i.exec(text.trim());
  if (m) return { status: m[1]?.toUpperCase() === 'OK' ? 'Reachable' : 'Lagged', rttMs: Number(m[2]) };
  const t = text.trim().toLowerCase();
  if (t.startsWith('unreachable')) return { status: 'Unreachable', rttMs: null };
  if (t.startsWith('unmonitored')) return { status: 'Unmonitored', rttMs: null };
  return { status: 'Unknown', rttMs: null };
}

/** ContactStatus events and ContactStatusDetail rows. Null = `Removed` (the contact is gone) or a value we do not know. */
export function contactVerdict(status: string, rttUsec: string | undefined, uri: string, laggedRtt: number): AmiVerdict | null {
  const usec = rttUsec !== undefined && /^\d+$/.test(rttUsec.trim()) ? Number(rttUsec) : null;
  const ms = usec === null || usec === 0 ? null : usec / 1000;
  switch (status.trim().toLowerCase()) {
    case 'reachable':
      return byRtt(ms, laggedRtt, `contact ${uri} Reachable`);
    case 'unreachable':
      return { level: 'down', reason: `contact ${uri} Unreachable` };
    case 'unknown':
      return { level: 'unknown', reason: `contact ${uri} Unknown (not qualified yet)` };
    case 'nonqualified':
    case 'created':
      return { level: 'unknown', reason: `contact ${uri} NonQualified (qualify_frequency=0)` };
    default:
      return null;
  }
}

/**
 * Registry Status values (chan_sip regstatestrings, PJSIP). Null for the in-between states (`Request Sent`,
 * `Auth. Sent`), which leave the carrier as it was.
 */
export function registryVerdict(status: string, cause = ''): AmiVerdict | null {
  const s = status.trim();
  const why = `registration ${s}${cause ? ` (${cause})` : ''}`;
  switch (s.toLowerCase()) {
    case 'registered':
      return { level: 'up', reason: why };
    case 'rejected':
    case 'failed':
    case 'unregistered':
    case 'no authentication':
      return { level: 'down', reason: why };
    default:
      return null;
  }
}

/** Contacts together, as Asterisk judges an endpoint: reachable if any contact is. */
export function contactsVerdict(contacts: ReadonlyMap<string, ContactFact>): AmiVerdict {
  if (contacts.size === 0) return { level: 'down', reason: 'no contacts (nothing to dial)' };
  const all = [...contacts.values()].map((c) => c.verdict);
  return (
    all.find((v) => v.level === 'up') ??
    all.find((v) => v.level === 'lagged') ??
    all.find((v) => v.level === 'unknown') ??
    (all.length === 1 ? (all[0] as AmiVerdict) : { level: 'down', reason: `all ${all.length} contacts Unreachable` })
  );
}

/**
 * One verdict from every source: down if any source says down (a failed registration or an unreachable peer
 * is enough), else lagged if any says lagged, else up if any says up, else unknown.
 */
export function deriveAmi(f: AmiFacts): AmiVerdict {
  const parts: AmiVerdict[] = [];
  if (f.peer) parts.push(f.peer);
  if (f.contacts) parts.push(contactsVerdict(f.contacts));
  if (f.registration) parts.push(f.registration);
  for (const level of ['down', 'lagged', 'up', 'unknown'] as const) {
    const v = parts.find((p) => p.level === level);
    if (v) return v;
  }
  return { level: 'unknown', reason: f.note ?? 'no AMI data yet' };
}

/** The worst of several verdicts (several registrations for one carrier). */
export function worst(vs: readonly AmiVerdict[]): AmiVerdict | null {
  for (const level of ['down', 'lagged', 'unknown', 'up'] as const) {
    const v = vs.find((p) => p.level === level);
    if (v) return v;
  }
  return null;
}
