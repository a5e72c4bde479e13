/**
 * What Asterisk says about one carrier, kept per source (peer status, PJSIP contacts, outbound registration),
 * and the one verdict derived from them. Pure data and pure functions.
 */

/** The channel driver a carrier's Dial template names; only sip, pjsip and iax2 are followed over AMI. */
export type Tech = 'sip' | 'pjsip' | 'iax2' | 'other';

/** `unmonitored`: Asterisk does not qualify it (qualify=no, qualify_frequency=0), so only the breaker can judge it. */
export type AmiLevel = 'up' | 'lagged' | 'down' | 'unmonitored' | 'unknown';

export interface AmiVerdict {
  readonly level: AmiLevel;
  readonly reason: string;
  /**
   * A verdict that nothing would refresh ends here: an RTT-derived `lagged` (PJSIP publishes ContactStatus only
   * when the status word changes, multi/pjsip_contact_flap: no event while the state holds) becomes `then`.
   */
  readonly expires?: { readonly at: number; readonly then: AmiVerdict };
}

/** How a round trip becomes a verdict: only PJSIP contacts are judged by RTT, and that judgement ages out. */
export interface RttPolicy {
  readonly laggedRtt: number;
  /** ms an RTT-derived lagged stands without a newer RTT confirming it; 0 = an RTT never makes a carrier lagged. */
  readonly laggedRttMaxAge: number;
  readonly now: number;
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

function byRtt(ms: number | null, p: RttPolicy, reason: string): AmiVerdict {
  const up: AmiVerdict = { level: 'up', reason: `${reason}${rttText(ms)}` };
  if (ms === null || p.laggedRtt <= 0 || p.laggedRttMaxAge <= 0 || ms <= p.laggedRtt) return up;
  const at = p.now + p.laggedRttMaxAge;
  const then: AmiVerdict = { level: 'up', reason: `${reason}; its round trip of ${Math.round(ms)} ms was not confirmed for ${Math.round(p.laggedRttMaxAge / 1000)} s (lagged expired)` };
  return { level: 'lagged', reason: `${reason}: round trip ${Math.round(ms)} ms > ${p.laggedRtt} ms`, expires: { at, then } };
}

/**
 * PeerStatus values of chan_sip, IAX2 and PJSIP (async events and SIPpeerstatus rows). Null: a value that says
 * nothing about reachability, which leaves the carrier as it was.
 *
 * The status word decides, never the RTT: chan_sip (and chan_iax2) judge Reachable/Lagged against the peer's own
 * qualify maxms and publish PeerStatus only when that word changes, without a `Time:` (captures/peerstatus_*.raw,
 * REFERENCE §3.2). An RTT seen once, e.g. `OK (1001 ms)` from a qualify answered on a retransmission, would never be
 * refreshed, so it is shown but not judged.
 */
export function peerVerdict(status: string, rttMs: number | null, cause = ''): AmiVerdict | null {
  const why = (s: string) => `PeerStatus ${s}${cause ? ` (${cause})` : ''}`;
  switch (status.trim().toLowerCase()) {
    case 'reachable':
      return { level: 'up', reason: `PeerStatus Reachable${rttText(rttMs)}` };
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
      return { level: 'unmonitored', reason: 'PeerStatus Unmonitored (qualify=no): not qualified, health from the breaker only' };
    default:
      return null;
  }
}

/**
 * The `Status` of SIPpeers/IAXpeerlist rows: `OK (12 ms)`, `LAGGED (2504 ms)`, `UNREACHABLE`, `UNKNOWN`, `Unmonitored`
 * (chan_sip peer_status()). `UNKNOWN` is a qualified peer with no answer yet (maxms set, lastms 0): its first qualify
 * publishes Reachable or Unreachable, so it stays unknown. `Unmonitored` is qualify=no (maxms 0).
 */
export function peerListStatus(text: string): { status: string; rttMs: number | null } {
  const m = /^(OK|LAGGED)\s*\((\d+)\s*ms\)/i.exec(text.trim());
  if (m) return { status: m[1]?.toUpperCase() === 'OK' ? 'Reachable' : 'Lagged', rttMs: Number(m[2]) };
  const t = text.trim().toLowerCase();
  if (t.startsWith('unreachable')) return { status: 'Unreachable', rttMs: null };
  if (t.startsWith('unmonitored')) return { status: 'Unmonitored', rttMs: null };
  return { status: 'Unknown', rttMs: null };
}

/** ContactStatus events and ContactStatusDetail rows. Null = `Removed` (the contact is gone) or a value we do not know. */
export function contactVerdict(status: string, rttUsec: string | undefined, uri: string, rtt: RttPolicy): AmiVerdict | null {
  const usec = rttUsec !== undefined && /^\d+$/.test(rttUsec.trim()) ? Number(rttUsec) : null;
  const ms = usec === null || usec === 0 ? null : usec / 1000;
  switch (status.trim().toLowerCase()) {
    case 'reachable':
      return byRtt(ms, rtt, `contact ${uri} Reachable`);
    case 'unreachable':
      return { level: 'down', reason: `contact ${uri} Unreachable` };
    case 'unknown':
      return { level: 'unknown', reason: `contact ${uri} Unknown (not qualified yet)` };
    case 'nonqualified':
    case 'created':
      return { level: 'unmonitored', reason: `contact ${uri} NonQualified (qualify_frequency=0): not qualified, health from the breaker only` };
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

/**
 * Contacts together, as Asterisk judges an endpoint: reachable if any contact is, and an unqualified contact counts
 * as available (A20:res/res_pjsip/pjsip_options.c:88-91).
 */
export function contactsVerdict(contacts: ReadonlyMap<string, ContactFact>): AmiVerdict {
  if (contacts.size === 0) return { level: 'down', reason: 'no contacts (nothing to dial)' };
  const all = [...contacts.values()].map((c) => c.verdict);
  return (
    all.find((v) => v.level === 'up') ??
    all.find((v) => v.level === 'lagged') ??
    all.find((v) => v.level === 'unmonitored') ??
    all.find((v) => v.level === 'unknown') ??
    (all.length === 1 ? (all[0] as AmiVerdict) : { level: 'down', reason: `all ${all.length} contacts Unreachable` })
  );
}

/**
 * One verdict from every source: down if any source says down (a failed registration or an unreachable peer
 * is enough), else lagged if any says lagged, else up if any says up, else unmonitored, else unknown.
 */
export function deriveAmi(f: AmiFacts): AmiVerdict {
  const parts: AmiVerdict[] = [];
  if (f.peer) parts.push(f.peer);
  if (f.contacts) parts.push(contactsVerdict(f.contacts));
  if (f.registration) parts.push(f.registration);
  for (const level of ['down', 'lagged', 'up', 'unmonitored', 'unknown'] as const) {
    const v = parts.find((p) => p.level === level);
    if (v) return v;
  }
  return { level: 'unknown', reason: f.note ?? 'no AMI data yet' };
}

/** The worst of several verdicts (several registrations for one carrier). */
export function worst(vs: readonly AmiVerdict[]): AmiVerdict | null {
  for (const level of ['down', 'lagged', 'unknown', 'unmonitored', 'up'] as const) {
    const v = vs.find((p) => p.level === level);
    if (v) return v;
  }
  return null;
}

function expireVerdict(v: AmiVerdict, now: number): AmiVerdict {
  let out = v;
  while (out.expires && now >= out.expires.at) out = out.expires.then;
  return out;
}

/** Verdicts whose age ran out replaced by what they turn into; the same object when nothing expired. */
export function expireFacts(f: AmiFacts, now: number): AmiFacts {
  const due = factsDeadline(f);
  if (due === null || due > now) return f;
  const peer = f.peer ? expireVerdict(f.peer, now) : null;
  const registration = f.registration ? expireVerdict(f.registration, now) : null;
  let contacts = f.contacts;
  if (contacts) {
    const next = new Map<string, ContactFact>();
    for (const [uri, c] of contacts) next.set(uri, { ...c, verdict: expireVerdict(c.verdict, now) });
    contacts = next;
  }
  return { ...f, peer, registration, contacts };
}

/** The earliest time a verdict of these facts expires, or null. */
export function factsDeadline(f: AmiFacts): number | null {
  let next: number | null = null;
  const consider = (v: AmiVerdict | null) => {
    const at = v?.expires?.at;
    if (at !== undefined && (next === null || at < next)) next = at;
  };
  consider(f.peer);
  consider(f.registration);
  for (const c of f.contacts?.values() ?? []) consider(c.verdict);
  return next;
}
