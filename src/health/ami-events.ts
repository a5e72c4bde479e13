import {
  contactVerdict,
  key,
  peerVerdict,
  registryVerdict,
  type AmiFacts,
  type AmiVerdict,
  type ContactFact,
  type RttPolicy,
  type Tech,
} from './ami-facts.js';
import type { AmiMessage } from './ami-message.js';

/** What AMI knows a carrier by. */
export interface AmiTarget {
  readonly carrier: string;
  readonly tech: Tech;
  /** `carrier.peer` without a technology prefix. */
  readonly peer: string;
  /** PJSIP: the endpoint found at resync (the peer itself, or the endpoint holding the AOR the peer names). */
  readonly endpoint: string | null;
  /** PJSIP: set when the peer names an AOR rather than an endpoint; only that AOR's contacts count. */
  readonly aor: string | null;
}

/** Outbound registrations learned at resync: `client_uri|server_uri` (lower-case) → carriers. */
export type RegistrationIndex = ReadonlyMap<string, readonly string[]>;

export function registrationKey(clientUri: string, serverUri: string): string {
  return `${clientUri.trim()}|${serverUri.trim()}`.toLowerCase();
}

export type FactChange =
  | { readonly carrier: string; readonly kind: 'peer'; readonly verdict: AmiVerdict }
  | { readonly carrier: string; readonly kind: 'contact'; readonly uri: string; readonly aor: string; readonly verdict: AmiVerdict | null }
  | { readonly carrier: string; readonly kind: 'registration'; readonly verdict: AmiVerdict };

const TECH_OF_TYPE: Readonly<Record<string, Tech>> = { sip: 'sip', pjsip: 'pjsip', iax2: 'iax2', iax: 'iax2' };

function techOfChannelType(t: string | undefined): Tech | null {
  return t ? (TECH_OF_TYPE[t.trim().toLowerCase()] ?? null) : null;
}

/** The carriers an AMI event is about, and what it says of each. Events about nothing we follow give []. */
export function changesFromEvent(e: AmiMessage, targets: readonly AmiTarget[], regs: RegistrationIndex, rtt: RttPolicy): FactChange[] {
  switch ((e['event'] ?? '').toLowerCase()) {
    case 'peerstatus':
      return peerStatusChanges(e, targets);
    case 'contactstatus':
      return contactStatusChanges(e, targets, rtt);
    case 'registry':
      return registryChanges(e, targets, regs);
    default:
      return [];
  }
}

function peerStatusChanges(e: AmiMessage, targets: readonly AmiTarget[]): FactChange[] {
  const peer = e['peer'] ?? '';
  const slash = peer.indexOf('/');
  const tech = techOfChannelType(slash > 0 ? peer.slice(0, slash) : e['channeltype']);
  const name = key(slash > 0 ? peer.slice(slash + 1) : peer);
  if (!tech || !name) return [];
  const time = e['time'] !== undefined && /^\d+$/.test(e['time']) ? Number(e['time']) : null;
  const verdict = peerVerdict(e['peerstatus'] ?? '', time, e['cause'] ?? '');
  if (!verdict) return [];
  return targets
    .filter((t) => t.tech === tech && (key(t.peer) === name || (t.endpoint !== null && key(t.endpoint) === name)))
    .map((t) => ({ carrier: t.carrier, kind: 'peer', verdict }));
}

function contactStatusChanges(e: AmiMessage, targets: readonly AmiTarget[], rtt: RttPolicy): FactChange[] {
  const aor = e['aor'] ?? '';
  const endpoint = e['endpointname'] ?? '';
  const uri = e['uri'] ?? '';
  const status = e['contactstatus'] ?? '';
  if (!uri || !status) return [];
  const removed = status.trim().toLowerCase() === 'removed';
  const verdict = removed ? null : contactVerdict(status, e['roundtripusec'], uri, rtt);
  if (!removed && !verdict) return [];
  return targets
    .filter((t) => t.tech === 'pjsip' && contactMatches(t, aor, endpoint))
    .map((t) => ({ carrier: t.carrier, kind: 'contact', uri, aor, verdict }));
}

/** A carrier naming an AOR follows that AOR only; one naming an endpoint follows every AOR of it. */
export function contactMatches(t: AmiTarget, aor: string, endpoint: string): boolean {
  if (t.aor !== null) return key(t.aor) === key(aor);
  return key(t.peer) === key(endpoint) || key(t.peer) === key(aor) || (t.endpoint !== null && key(t.endpoint) === key(endpoint));
}

/** `sip:user@host:5060;transport=udp` → { user, host }; chan_sip sends bare `user` and `host`. */
function uriParts(uri: string): { user: string; host: string } {
  const noScheme = uri.trim().replace(/^sips?:/i, '');
  const at = noScheme.lastIndexOf('@');
  const user = at >= 0 ? noScheme.slice(0, at) : noScheme;
  const hostPort = (at >= 0 ? noScheme.slice(at + 1) : noScheme).split(';')[0] ?? '';
  const host = hostPort.startsWith('[') ? hostPort.slice(0, hostPort.indexOf(']') + 1) : (hostPort.split(':')[0] ?? '');
  return { user: user.toLowerCase(), host: host.toLowerCase() };
}

/**
 * A Registry event names the registration by Username and Domain only. It belongs to a carrier when resync
 * linked that pair to it (a PJSIP registration named like the carrier's peer or endpoint, or whose `endpoint` is
 * it), else when the user part of Username or the host of Domain is the peer itself.
 */
export function registryCarriers(e: AmiMessage, targets: readonly AmiTarget[], regs: RegistrationIndex): string[] {
  const username = e['username'] ?? '';
  const domain = e['domain'] ?? '';
  const learned = regs.get(registrationKey(username, domain));
  if (learned) return [...learned];
  const tech = techOfChannelType(e['channeltype']);
  const u = uriParts(username);
  const d = uriParts(domain);
  const names = new Set([username.trim().toLowerCase(), u.user, domain.trim().toLowerCase(), d.host].filter(Boolean));
  return targets.filter((t) => (tech === null || t.tech === tech) && names.has(key(t.peer))).map((t) => t.carrier);
}

function registryChanges(e: AmiMessage, targets: readonly AmiTarget[], regs: RegistrationIndex): FactChange[] {
  const verdict = registryVerdict(e['status'] ?? '', e['cause'] ?? '');
  if (!verdict) return [];
  return registryCarriers(e, targets, regs).map((carrier) => ({ carrier, kind: 'registration', verdict }));
}

/** One change applied to a carrier's facts. */
export function applyChange(f: AmiFacts, c: FactChange): AmiFacts {
  switch (c.kind) {
    case 'peer':
      return { ...f, peer: c.verdict, note: null };
    case 'registration':
      return { ...f, registration: c.verdict, note: null };
    case 'contact': {
      // a removal says nothing while the contact list itself is unknown (before the first resync)
      if (c.verdict === null && f.contacts === null) return f;
      const contacts = new Map<string, ContactFact>(f.contacts ?? []);
      if (c.verdict === null) contacts.delete(c.uri);
      else contacts.set(c.uri, { aor: c.aor, verdict: c.verdict });
      return { ...f, contacts, note: null };
    }
  }
}
