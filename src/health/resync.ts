import { AmiError, type AmiList } from './ami-client.js';
import {
  contactVerdict,
  factsUnknown,
  key,
  peerListStatus,
  peerVerdict,
  registryVerdict,
  worst,
  type AmiFacts,
  type AmiVerdict,
  type ContactFact,
  type RttPolicy,
} from './ami-facts.js';
import { registrationKey, type AmiTarget, type RegistrationIndex } from './ami-events.js';
import { same, type AmiFields, type AmiMessage } from './ami-message.js';

/** The one thing resync needs from the AMI client. */
export interface AmiLister {
  list(fields: AmiFields): Promise<AmiList>;
}

export interface PeerRow {
  readonly status: string;
  readonly rttMs: number | null;
}

export interface EndpointRow {
  readonly name: string;
  readonly aors: readonly string[];
  readonly deviceState: string;
}

export interface ContactRow {
  readonly aor: string;
  readonly uri: string;
  readonly status: string;
  readonly rttUsec: string | undefined;
}

export interface RegistrationRow {
  readonly name: string;
  readonly endpoint: string;
  readonly clientUri: string;
  readonly serverUri: string;
  readonly status: string;
}

/** One query's outcome: its rows, the reason it failed, or null when no carrier needed it. */
export type Part<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string } | null;

/** Everything one resync read, keyed by lower-case object names. */
export interface ResyncData {
  readonly sipPeers: Part<ReadonlyMap<string, PeerRow>>;
  readonly iaxPeers: Part<ReadonlyMap<string, PeerRow>>;
  readonly endpoints: Part<ReadonlyMap<string, EndpointRow>>;
  /** Endpoint (lower-case) → its contacts, from one PJSIPShowEndpoint each. */
  readonly endpointContacts: ReadonlyMap<string, Part<readonly ContactRow[]>>;
  readonly registrations: Part<readonly RegistrationRow[]>;
}

export const EMPTY_RESYNC: ResyncData = { sipPeers: null, iaxPeers: null, endpoints: null, endpointContacts: new Map(), registrations: null };

function itemsOf(l: AmiList, event: string): AmiMessage[] {
  return l.items.filter((i) => same(i['event'], event));
}

export function parseSipPeerStatus(l: AmiList): Map<string, PeerRow> {
  const out = new Map<string, PeerRow>();
  for (const i of itemsOf(l, 'PeerStatus')) {
    const name = key(i['peer'] ?? '');
    const time = i['time'] !== undefined && /^\d+$/.test(i['time']) ? Number(i['time']) : null;
    if (name) out.set(name, { status: i['peerstatus'] ?? '', rttMs: time });
  }
  return out;
}

/** SIPpeers and IAXpeerlist: `PeerEntry` rows whose Status reads `OK (12 ms)`, `UNREACHABLE`, … */
export function parsePeerEntries(l: AmiList): Map<string, PeerRow> {
  const out = new Map<string, PeerRow>();
  for (const i of itemsOf(l, 'PeerEntry')) {
    const name = key(i['objectname'] ?? '');
    if (name) out.set(name, peerListStatus(i['status'] ?? ''));
  }
  return out;
}

export function parseEndpointList(l: AmiList): Map<string, EndpointRow> {
  const out = new Map<string, EndpointRow>();
  for (const i of itemsOf(l, 'EndpointList')) {
    const name = i['objectname'] ?? '';
    if (!name) continue;
    const aors = (i['aor'] ?? '').split(',').map((a) => a.trim()).filter(Boolean);
    out.set(key(name), { name, aors, deviceState: i['devicestate'] ?? '' });
  }
  return out;
}

export function parseEndpointDetail(l: AmiList): ContactRow[] {
  return itemsOf(l, 'ContactStatusDetail')
    .filter((i) => i['uri'])
    .map((i) => ({ aor: i['aor'] ?? '', uri: i['uri'] ?? '', status: i['status'] ?? '', rttUsec: i['roundtripusec'] }));
}

export function parseRegistrations(l: AmiList): RegistrationRow[] {
  return itemsOf(l, 'OutboundRegistrationDetail').map((i) => ({
    name: i['objectname'] ?? '',
    endpoint: i['endpoint'] ?? '',
    clientUri: i['clienturi'] ?? '',
    serverUri: i['serveruri'] ?? '',
    status: i['status'] ?? '',
  }));
}

/** The PJSIP endpoint a peer means: an endpoint of that name, else the endpoint whose AORs include it. */
export function resolvePjsip(peer: string, endpoints: ReadonlyMap<string, EndpointRow>): { endpoint: string; aor: string | null } | null {
  const direct = endpoints.get(key(peer));
  if (direct) return { endpoint: direct.name, aor: null };
  for (const e of endpoints.values()) {
    const aor = e.aors.find((a) => key(a) === key(peer));
    if (aor) return { endpoint: e.name, aor };
  }
  return null;
}

const isUnknownCommand = (e: AmiError) => /invalid\/unknown command/i.test(e.message);
const isPermissionDenied = (e: AmiError) => /permission denied/i.test(e.message);

/**
 * Runs one query. A lost connection aborts the whole resync (the next login runs another); any other failure
 * becomes that part's error, so the other technologies still resync.
 */
async function query<T>(run: () => Promise<T>, onError: (e: AmiError) => Part<T>): Promise<Part<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (err) {
    if (!(err instanceof AmiError)) throw err;
    if (err.kind === 'disconnected') throw err;
    return onError(err);
  }
}

/** The client's message already names the action; `context` adds what led to it. */
const failed = (context?: string) => (e: AmiError) => ({ ok: false as const, error: context ? `${context}; ${e.message}` : e.message });

async function readSipPeers(ami: AmiLister): Promise<Part<ReadonlyMap<string, PeerRow>>> {
  try {
    return { ok: true, value: parseSipPeerStatus(await ami.list({ Action: 'SIPpeerstatus' })) };
  } catch (err) {
    if (!(err instanceof AmiError) || err.kind === 'disconnected') throw err;
    if (isUnknownCommand(err)) return { ok: false, error: 'chan_sip is not loaded (SIPpeerstatus unknown)' };
    if (!isPermissionDenied(err)) return failed()(err);
  }
  // SIPpeerstatus needs write=system; SIPpeers gives the same status to write=reporting
  return query(async () => parsePeerEntries(await ami.list({ Action: 'SIPpeers' })), failed('SIPpeerstatus denied (no write=system)'));
}

/**
 * The resync queries for the technologies the carriers use: SIPpeerstatus (falling back to SIPpeers, which
 * write=reporting allows), IAXpeerlist, PJSIPShowEndpoints plus one PJSIPShowEndpoint per PJSIP carrier,
 * PJSIPShowRegistrationsOutbound. Sequential: one session, and Asterisk answers actions one at a time anyway.
 */
export async function readResync(ami: AmiLister, targets: readonly AmiTarget[]): Promise<ResyncData> {
  const uses = (t: AmiTarget['tech']) => targets.some((c) => c.tech === t);
  const sip = uses('sip') ? await readSipPeers(ami) : null;
  const iaxPeers = uses('iax2')
    ? await query(async () => parsePeerEntries(await ami.list({ Action: 'IAXpeerlist' })), (e) => (isUnknownCommand(e) ? { ok: false, error: 'chan_iax2 is not loaded (IAXpeerlist unknown)' } : failed()(e)))
    : null;
  let endpoints: Part<ReadonlyMap<string, EndpointRow>> = null;
  const endpointContacts = new Map<string, Part<readonly ContactRow[]>>();
  let registrations: Part<readonly RegistrationRow[]> = null;
  if (uses('pjsip')) {
    endpoints = await query(
      async () => parseEndpointList(await ami.list({ Action: 'PJSIPShowEndpoints' })),
      (e) =>
        /no endpoints found/i.test(e.message)
          ? { ok: true, value: new Map() }
          : isUnknownCommand(e)
            ? { ok: false, error: 'res_pjsip is not loaded (PJSIPShowEndpoints unknown)' }
            : failed()(e),
    );
    if (endpoints?.ok) {
      const names = new Set<string>();
      for (const t of targets) {
        const r = t.tech === 'pjsip' ? resolvePjsip(t.peer, endpoints.value) : null;
        if (r) names.add(r.endpoint);
      }
      for (const name of names) {
        endpointContacts.set(key(name), await query(async () => parseEndpointDetail(await ami.list({ Action: 'PJSIPShowEndpoint', Endpoint: name })), failed()));
      }
    }
    registrations = await query(
      async () => parseRegistrations(await ami.list({ Action: 'PJSIPShowRegistrationsOutbound' })),
      // without res_pjsip_outbound_registration there are no outbound registrations to follow
      (e) => (isUnknownCommand(e) ? { ok: true, value: [] } : failed()(e)),
    );
  }
  return { sipPeers: sip, iaxPeers, endpoints, endpointContacts, registrations };
}

/** What the resync says of one carrier, and the PJSIP endpoint/AOR it resolved to. */
export interface ResyncFacts {
  readonly facts: AmiFacts;
  readonly endpoint: string | null;
  readonly aor: string | null;
}

function peerFacts(part: Part<ReadonlyMap<string, PeerRow>>, t: AmiTarget, action: string): AmiFacts {
  if (part === null) return factsUnknown(`${action} was not run`);
  if (!part.ok) return factsUnknown(`resync failed: ${part.error}`);
  const row = part.value.get(key(t.peer));
  if (!row) return factsUnknown(`peer "${t.peer}" not found in ${action}`);
  const verdict = peerVerdict(row.status, row.rttMs);
  return verdict ? { peer: verdict, contacts: null, registration: null, note: null } : factsUnknown(`${action}: PeerStatus "${row.status}"`);
}

/** Pure: a carrier's whole AMI picture after a resync; anything the resync did not find is unknown. */
export function factsFromResync(t: AmiTarget, data: ResyncData, rtt: RttPolicy): ResyncFacts {
  switch (t.tech) {
    case 'sip':
      return { facts: peerFacts(data.sipPeers, t, 'SIPpeerstatus'), endpoint: null, aor: null };
    case 'iax2':
      return { facts: peerFacts(data.iaxPeers, t, 'IAXpeerlist'), endpoint: null, aor: null };
    case 'other':
      return { facts: factsUnknown('technology not followed over AMI'), endpoint: null, aor: null };
    case 'pjsip':
      break;
  }
  const eps = data.endpoints;
  if (eps === null) return { facts: factsUnknown('PJSIPShowEndpoints was not run'), endpoint: null, aor: null };
  if (!eps.ok) return { facts: factsUnknown(`resync failed: ${eps.error}`), endpoint: null, aor: null };
  const r = resolvePjsip(t.peer, eps.value);
  if (!r) return { facts: factsUnknown(`PJSIP endpoint or AOR "${t.peer}" not found`), endpoint: null, aor: null };
  const detail = data.endpointContacts.get(key(r.endpoint)) ?? null;
  let contacts: Map<string, ContactFact> | null = null;
  let note: string | null = null;
  if (detail?.ok) {
    contacts = new Map();
    for (const c of detail.value) {
      if (r.aor !== null && key(c.aor) !== key(r.aor)) continue;
      const v = contactVerdict(c.status, c.rttUsec, c.uri, rtt);
      if (v) contacts.set(c.uri, { aor: c.aor, verdict: v });
    }
  } else {
    note = detail ? `resync failed: ${detail.error}` : `PJSIPShowEndpoint ${r.endpoint} was not run`;
  }
  const regs = registrationsOf(data, t, r.endpoint);
  return { facts: { peer: null, contacts, registration: worst(regs), note }, endpoint: r.endpoint, aor: r.aor };
}

function matchingRegistrations(data: ResyncData, t: AmiTarget, endpoint: string): RegistrationRow[] {
  const regs = data.registrations;
  if (!regs?.ok) return [];
  const names = new Set([key(t.peer), key(endpoint)]);
  return regs.value.filter((g) => names.has(key(g.name)) || (g.endpoint !== '' && names.has(key(g.endpoint))));
}

function registrationsOf(data: ResyncData, t: AmiTarget, endpoint: string): AmiVerdict[] {
  return matchingRegistrations(data, t, endpoint)
    .map((g) => registryVerdict(g.status))
    .filter((v): v is AmiVerdict => v !== null);
}

/** Which carriers each registration (by client and server URI) belongs to, for matching later Registry events. */
export function registrationIndex(data: ResyncData, targets: readonly { target: AmiTarget; endpoint: string | null }[]): RegistrationIndex {
  const out = new Map<string, string[]>();
  for (const { target, endpoint } of targets) {
    if (target.tech !== 'pjsip' || endpoint === null) continue;
    for (const g of matchingRegistrations(data, target, endpoint)) {
      const k = registrationKey(g.clientUri, g.serverUri);
      const list = out.get(k) ?? [];
      if (!list.includes(target.carrier)) list.push(target.carrier);
      out.set(k, list);
    }
  }
  return out;
}
