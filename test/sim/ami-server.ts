import net from 'node:net';

/**
 * An Asterisk Manager Interface simulator over real TCP, speaking what manager.c, chan_sip.c, chan_iax2.c and
 * res_pjsip send (Asterisk 20, AMI 9.0.0), byte for byte where the captures show it: CRLF lines, a blank line
 * per message, list responses `EventList: start` … items carrying the ActionID … `…Complete`.
 */

export type PeerStatusValue = 'Reachable' | 'Lagged' | 'Unreachable' | 'Unknown' | 'Unmonitored';
export type ContactStatusValue = 'Reachable' | 'Unreachable' | 'Unknown' | 'NonQualified';
export type RegistrationStatus = 'Registered' | 'Unregistered' | 'Rejected';

export interface PeerState {
  status: PeerStatusValue;
  /** Qualify round trip in ms (Reachable, Lagged). */
  time: number;
}

export interface ContactState {
  aor: string;
  uri: string;
  status: ContactStatusValue;
  /** µs, reported when Reachable. */
  rttUsec: number;
}

export interface EndpointState {
  aors: string[];
  contacts: ContactState[];
}

export interface RegistrationState {
  clientUri: string;
  serverUri: string;
  status: RegistrationStatus;
  endpoint: string;
}

export interface ReceivedAction {
  readonly session: number;
  /** As sent (case kept). */
  readonly action: string;
  /** Header names lower-cased; the first of repeated headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** Every header line as received. */
  readonly lines: readonly string[];
}

export interface AmiSimOptions {
  host?: string;
  port?: number;
  /** username → secret; default { 'failover-agi': 'sim-secret' }. */
  users?: Record<string, string>;
  /** Asterisk has finished booting: FullyBooted follows a successful Login. Default true. */
  booted?: boolean;
  /** ms Asterisk waits before answering a failed Login (it sleeps 1 s); default 0. */
  authFailDelay?: number;
}

interface Session {
  readonly id: number;
  readonly socket: net.Socket;
  authenticated: boolean;
  /** Event classes this session gets: null = all its user may read. */
  mask: Set<string> | null;
  buf: string;
  headers: string[];
}

const CRLF = '\r\n';

/** One message: `Key: Value` lines and the blank line. */
export function message(fields: readonly (readonly [string, string | number])[]): string {
  return fields.map(([k, v]) => `${k}: ${v}${CRLF}`).join('') + CRLF;
}

/** PeerStatus as peerstatus_to_ami() publishes it: chan_sip's Reachable/Lagged carry no Time, Unreachable `Time: -1`. */
export function peerStatusEvent(tech: 'SIP' | 'PJSIP' | 'IAX2', peer: string, status: string, extra: { cause?: string; address?: string; time?: string } = {}): string {
  const f: [string, string][] = [
    ['Event', 'PeerStatus'],
    ['Privilege', 'system,all'],
    ['ChannelType', tech],
    ['Peer', `${tech}/${peer}`],
    ['PeerStatus', status],
  ];
  if (extra.cause !== undefined) f.push(['Cause', extra.cause]);
  if (extra.address !== undefined) f.push(['Address', extra.address]);
  const time = extra.time ?? (tech === 'SIP' && status === 'Unreachable' ? '-1' : undefined);
  if (time !== undefined) f.push(['Time', time]);
  return message(f);
}

/** ContactStatus as contactstatus_to_ami() publishes it (RoundtripUsec "0" when not reachable). */
export function contactStatusEvent(c: { uri: string; status: string; aor: string; endpoint: string; rttUsec?: number }): string {
  return message([
    ['Event', 'ContactStatus'],
    ['Privilege', 'system,all'],
    ['URI', c.uri],
    ['ContactStatus', c.status],
    ['AOR', c.aor],
    ['EndpointName', c.endpoint],
    ['RoundtripUsec', c.rttUsec ?? 0],
  ]);
}

/** Registry as system_registry_to_ami() publishes it. */
export function registryEvent(r: { channelType: 'SIP' | 'PJSIP' | 'IAX2'; username: string; domain: string; status: string; cause?: string }): string {
  const f: [string, string][] = [
    ['Event', 'Registry'],
    ['Privilege', 'system,all'],
    ['ChannelType', r.channelType],
    ['Username', r.username],
    ['Domain', r.domain],
    ['Status', r.status],
  ];
  if (r.cause) f.push(['Cause', r.cause]);
  return message(f);
}

function peerListStatus(p: PeerState): string {
  switch (p.status) {
    case 'Reachable':
      return `OK (${p.time} ms)`;
    case 'Lagged':
      return `LAGGED (${p.time} ms)`;
    case 'Unreachable':
      return 'UNREACHABLE';
    case 'Unknown':
      return 'UNKNOWN';
    case 'Unmonitored':
      return 'Unmonitored';
  }
}

export class AmiSimulator {
  readonly actions: ReceivedAction[] = [];
  readonly sipPeers = new Map<string, PeerState>();
  readonly iaxPeers = new Map<string, PeerState>();
  readonly endpoints = new Map<string, EndpointState>();
  readonly registrations = new Map<string, RegistrationState>();
  /** Actions answered `Permission denied` (the user lacks the write= class). */
  readonly denied = new Set<string>();
  /** Actions answered as unknown (their module not loaded). */
  readonly unknown = new Set<string>();
  /** Actions never answered. */
  readonly ignored = new Set<string>();
  /** Called right after the reply to an action (lower-case name) is written: lets a test slip an event in behind it. */
  readonly after = new Map<string, (a: ReceivedAction) => void>();
  users: Record<string, string>;
  booted: boolean;
  /** Accept TCP but never send a byte (banner included). */
  silent = false;
  refuseLogins = false;
  authFailDelay: number;
  private server: net.Server | null = null;
  private readonly sessions = new Set<Session>();
  private nextId = 1;
  private startedAt = Date.now();
  private portNo = 0;
  private readonly host: string;

  private constructor(opts: AmiSimOptions) {
    this.users = opts.users ?? { 'failover-agi': 'sim-secret' };
    this.booted = opts.booted ?? true;
    this.authFailDelay = opts.authFailDelay ?? 0;
    this.host = opts.host ?? '127.0.0.1';
    this.portNo = opts.port ?? 0;
  }

  static async start(opts: AmiSimOptions = {}): Promise<AmiSimulator> {
    const sim = new AmiSimulator(opts);
    await sim.listen();
    return sim;
  }

  get port(): number {
    return this.portNo;
  }

  get listening(): boolean {
    return this.server !== null;
  }

  /** Sessions that logged in and are still connected. */
  loggedIn(): number {
    return [...this.sessions].filter((s) => s.authenticated && !s.socket.destroyed).length;
  }

  connections(): number {
    return [...this.sessions].filter((s) => !s.socket.destroyed).length;
  }

  actionsNamed(name: string): ReceivedAction[] {
    return this.actions.filter((a) => a.action.toLowerCase() === name.toLowerCase());
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => this.accept(socket));
      server.once('error', reject);
      server.listen(this.portNo, this.host, () => {
        server.off('error', reject);
        const a = server.address();
        if (a && typeof a === 'object') this.portNo = a.port;
        this.server = server;
        resolve();
      });
    });
  }

  /** Asterisk stops: the port refuses connections and every session is cut. */
  async stopListening(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.dropAll();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  /** Asterisk starts again on the same port (a restart: boot state as given). */
  async restart(opts: { booted?: boolean } = {}): Promise<void> {
    if (this.server) await this.stopListening();
    this.booted = opts.booted ?? true;
    this.startedAt = Date.now();
    await this.listen();
  }

  /** Every connection cut at once (Asterisk crashed, or a network blip). */
  dropAll(): void {
    for (const s of this.sessions) s.socket.destroy();
    this.sessions.clear();
  }

  async close(): Promise<void> {
    await this.stopListening();
  }

  /** Boot finishes: FullyBooted to every logged-in session, as asterisk.c publishes it once. */
  boot(): void {
    this.booted = true;
    this.emit(this.fullyBooted());
  }

  /** Raw bytes to every logged-in session whose event mask takes the event's class. */
  emit(raw: string): void {
    const cls = /^Privilege: ([a-z]+)/im.exec(raw)?.[1]?.toLowerCase() ?? 'system';
    for (const s of this.sessions) {
      if (!s.authenticated || s.socket.destroyed) continue;
      if (s.mask !== null && !s.mask.has(cls) && !s.mask.has('all')) continue;
      s.socket.write(raw);
    }
  }

  /**
   * Sets a chan_sip peer; with `announce`, publishes its PeerStatus as chan_sip does: only when the status word
   * changes, never for a new round trip (captures/ami_peerstatus_raw.txt: Reachable 05:40:00, Unreachable 05:40:24,
   * Reachable 05:41:02 and nothing between; REFERENCE §3.2). A new `time` under the same status is silent, and
   * only SIPpeerstatus/SIPpeers show it.
   */
  setSipPeer(name: string, status: PeerStatusValue, time = 12, announce = true): void {
    const prev = this.sipPeers.get(name);
    this.sipPeers.set(name, { status, time });
    if (announce && prev?.status !== status && (status === 'Reachable' || status === 'Lagged' || status === 'Unreachable')) {
      this.emit(peerStatusEvent('SIP', name, status));
    }
  }

  setIaxPeer(name: string, status: PeerStatusValue, time = 20, announce = true): void {
    const prev = this.iaxPeers.get(name);
    this.iaxPeers.set(name, { status, time });
    if (announce && prev?.status !== status && (status === 'Reachable' || status === 'Lagged' || status === 'Unreachable')) {
      this.emit(peerStatusEvent('IAX2', name, status));
    }
  }

  setEndpoint(name: string, aors: string[], contacts: ContactState[] = []): void {
    this.endpoints.set(name, { aors, contacts });
  }

  /** An unqualified (NonQualified) contact counts as available (A20:res/res_pjsip/pjsip_options.c:88-91). */
  private endpointReachable(e: EndpointState): boolean {
    return e.contacts.some((c) => c.status === 'Reachable' || c.status === 'NonQualified');
  }

  /**
   * A contact changes. res_pjsip publishes only when the status word changes (multi/pjsip_contact_flap: nothing in
   * 12 s of Unreachable; a new RoundtripUsec under the same status is silent). Order as captured there: the
   * endpoint's PeerStatus first when its reachability flips, then ContactStatus, in the same ms.
   */
  setContact(endpoint: string, c: ContactState, announce = true): void {
    const e = this.endpoints.get(endpoint) ?? { aors: [c.aor], contacts: [] };
    const before = this.endpointReachable(e);
    const prev = e.contacts.find((x) => x.uri === c.uri);
    const contacts = e.contacts.filter((x) => x.uri !== c.uri);
    contacts.push(c);
    const next = { aors: e.aors.includes(c.aor) ? e.aors : [...e.aors, c.aor], contacts };
    this.endpoints.set(endpoint, next);
    if (!announce || prev?.status === c.status) return;
    const after = this.endpointReachable(next);
    if (before !== after) this.emit(peerStatusEvent('PJSIP', endpoint, after ? 'Reachable' : 'Unreachable'));
    this.emit(contactStatusEvent({ uri: c.uri, status: c.status, aor: c.aor, endpoint, rttUsec: c.status === 'Reachable' ? c.rttUsec : 0 }));
  }

  removeContact(endpoint: string, uri: string, announce = true): void {
    const e = this.endpoints.get(endpoint);
    const c = e?.contacts.find((x) => x.uri === uri);
    if (!e || !c) return;
    e.contacts = e.contacts.filter((x) => x.uri !== uri);
    if (announce) this.emit(contactStatusEvent({ uri, status: 'Removed', aor: c.aor, endpoint, rttUsec: 0 }));
  }

  setRegistration(name: string, r: RegistrationState, announce = true): void {
    this.registrations.set(name, r);
    if (announce) this.emit(registryEvent({ channelType: 'PJSIP', username: r.clientUri, domain: r.serverUri, status: r.status }));
  }

  private fullyBooted(): string {
    const up = Math.max(1, Math.round((Date.now() - this.startedAt) / 1000));
    return message([
      ['Event', 'FullyBooted'],
      ['Privilege', 'system,all'],
      ['Uptime', up],
      ['LastReload', up],
      ['Status', 'Fully Booted'],
    ]);
  }

  private accept(socket: net.Socket): void {
    const s: Session = { id: this.nextId++, socket, authenticated: false, mask: null, buf: '', headers: [] };
    this.sessions.add(s);
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('close', () => this.sessions.delete(s));
    if (this.silent) return;
    socket.write(`Asterisk Call Manager/9.0.0${CRLF}`);
    socket.on('data', (chunk: string) => this.read(s, chunk));
  }

  /** Lines end at CRLF only, as manager.c's get_input() reads them; a blank line ends the action. */
  private read(s: Session, chunk: string): void {
    s.buf += chunk;
    let i: number;
    while ((i = s.buf.indexOf(CRLF)) >= 0) {
      const line = s.buf.slice(0, i);
      s.buf = s.buf.slice(i + 2);
      if (line === '') {
        if (s.headers.length > 0) this.handle(s, s.headers);
        s.headers = [];
      } else {
        s.headers.push(line);
      }
    }
  }

  private handle(s: Session, lines: string[]): void {
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const c = l.indexOf(':');
      if (c <= 0) continue;
      const k = l.slice(0, c).trim().toLowerCase();
      if (!(k in headers)) headers[k] = l.slice(c + 1).trim();
    }
    const action = headers['action'] ?? '';
    const received: ReceivedAction = { session: s.id, action, headers, lines: [...lines] };
    this.actions.push(received);
    this.reply(s, action, headers);
    this.after.get(action.toLowerCase())?.(received);
  }

  private reply(s: Session, action: string, headers: Record<string, string>): void {
    const id = headers['actionid'] ?? '';
    const w = (text: string) => {
      if (!s.socket.destroyed) s.socket.write(text);
    };
    const idLine: [string, string][] = id ? [['ActionID', id]] : [];
    const error = (msg: string) => w(`Response: Error${CRLF}${id ? `ActionID: ${id}${CRLF}` : ''}Message: ${msg}${CRLF}${CRLF}`);
    const name = action.toLowerCase();
    if (!name) return error('Missing action in request');
    if (this.silent || this.ignored.has(action) || [...this.ignored].some((x) => x.toLowerCase() === name)) return;
    if (!s.authenticated && name !== 'login' && name !== 'logoff' && name !== 'challenge') return error('Permission denied');
    if ([...this.denied].some((x) => x.toLowerCase() === name)) return error('Permission denied');
    if ([...this.unknown].some((x) => x.toLowerCase() === name)) {
      return error(`Invalid/unknown command: ${action}. Use Action: ListCommands to show available commands.`);
    }
    const list = (ackMsg: string, items: [string, string | number][][], complete: string, extra: [string, string | number][] = [], count = items.length) => {
      let out = message([['Response', 'Success'], ...idLine, ['EventList', 'start'], ['Message', ackMsg]]);
      for (const it of items) out += message(it);
      out += message([['Event', complete], ...idLine, ['EventList', 'Complete'], ['ListItems', count], ...extra]);
      w(out);
    };
    switch (name) {
      case 'login': {
        if (s.authenticated) return w(message([['Response', 'Success'], ...idLine, ['Message', 'Already authenticated']]));
        const user = headers['username'] ?? '';
        const ok = !this.refuseLogins && user in this.users && this.users[user] === (headers['secret'] ?? '');
        if (!ok) {
          // manager.c: sleep(1), "Authentication failed", then the session ends
          setTimeout(() => {
            error('Authentication failed');
            s.socket.end();
          }, this.authFailDelay);
          return;
        }
        s.authenticated = true;
        const ev = headers['events'];
        if (ev !== undefined) s.mask = maskOf(ev);
        let out = message([['Response', 'Success'], ...idLine, ['Message', 'Authentication accepted']]);
        if (this.booted && (s.mask === null || s.mask.has('system') || s.mask.has('all'))) out += this.fullyBooted();
        return w(out);
      }
      case 'logoff':
        w(message([['Response', 'Goodbye'], ...idLine, ['Message', 'Thanks for all the fish.']]));
        s.socket.end();
        return;
      case 'ping':
        return w(message([['Response', 'Success'], ...idLine, ['Ping', 'Pong'], ['Timestamp', (Date.now() / 1000).toFixed(6)]]));
      case 'events': {
        const m = maskOf(headers['eventmask'] ?? '');
        s.mask = m;
        return w(message([['Response', 'Success'], ...idLine, ['Events', m !== null && m.size === 0 ? 'Off' : 'On']]));
      }
      case 'sippeerstatus': {
        let peers = [...this.sipPeers.entries()];
        const want = headers['peer'];
        if (want) {
          const bare = want.replace(/^SIP\//i, '');
          peers = peers.filter(([n]) => n === bare);
          if (peers.length === 0) return error('No such peer');
        }
        // chan_sip's send_manager_peer_status(): Privilege "System", ActionID last
        let out = message([['Response', 'Success'], ...idLine, ['EventList', 'start'], ['Message', 'Peer status will follow']]);
        for (const [n, p] of peers) {
          const f: [string, string | number][] = [['Event', 'PeerStatus'], ['Privilege', 'System'], ['ChannelType', 'SIP'], ['Peer', `SIP/${n}`], ['PeerStatus', p.status]];
          if (p.status === 'Reachable' || p.status === 'Lagged') f.push(['Time', p.time]);
          out += message([...f, ...idLine]);
        }
        out += message([['Event', 'SIPpeerstatusComplete'], ...idLine, ['EventList', 'Complete'], ['ListItems', peers.length]]);
        return w(out);
      }
      case 'sippeers':
        return list(
          'Peer status list will follow',
          [...this.sipPeers.entries()].map(([n, p]) => [
            ['Event', 'PeerEntry'],
            ...idLine,
            ['Channeltype', 'SIP'],
            ['ObjectName', n],
            ['ChanObjectType', 'peer'],
            ['IPaddress', '127.0.0.1'],
            ['IPport', '5060'],
            ['Dynamic', 'no'],
            ['AutoForcerport', 'no'],
            ['Forcerport', 'no'],
            ['AutoComedia', 'no'],
            ['Comedia', 'no'],
            ['VideoSupport', 'no'],
            ['TextSupport', 'no'],
            ['ACL', 'no'],
            ['Status', peerListStatus(p)],
            ['RealtimeDevice', 'no'],
            ['Description', ''],
            ['Accountcode', ''],
          ]),
          'PeerlistComplete',
        );
      case 'iaxpeerlist':
        return list(
          'IAX Peer status list will follow',
          [...this.iaxPeers.entries()].map(([n, p]) => [
            ['Event', 'PeerEntry'],
            ...idLine,
            ['Channeltype', 'IAX'],
            ['ObjectName', n],
            ['ChanObjectType', 'peer'],
            ['IPaddress', '127.0.0.1'],
            ['Mask', '255.255.255.255'],
            ['Port', '4569'],
            ['Dynamic', 'no'],
            ['Trunk', 'no'],
            ['Encryption', 'no'],
            ['Status', peerListStatus(p)],
          ]),
          'PeerlistComplete',
        );
      case 'pjsipshowendpoints':
        // ami_show_endpoints() passes a message ending in \n to astman_send_error
        if (this.endpoints.size === 0) return error('No endpoints found\n');
        return list(
          'A listing of Endpoints follows, presented as EndpointList events',
          [...this.endpoints.entries()].map(([n, e]) => [
            ['Event', 'EndpointList'],
            ...idLine,
            ['ObjectType', 'endpoint'],
            ['ObjectName', n],
            ['Transport', 'transport-udp'],
            ['Aor', e.aors.join(',')],
            ['Auths', ''],
            ['OutboundAuths', `${n}-auth`],
            ...e.aors.map((a): [string, string] => ['Contacts', e.contacts.filter((c) => c.aor === a).map((c) => `${a}/${c.uri},`).join('')]),
            ['DeviceState', this.endpointReachable(e) ? 'Not in use' : 'Unavailable'],
            ['ActiveChannels', ''],
          ]),
          'EndpointListComplete',
        );
      case 'pjsipshowendpoint': {
        const ep = (headers['endpoint'] ?? '').replace(/^pjsip\//i, '');
        if (!ep) return error('PJSIPShowEndpoint requires an endpoint name\n');
        const e = this.endpoints.get(ep);
        if (!e) return error(`Unable to retrieve endpoint ${ep}\n`);
        const items: [string, string | number][][] = [
          [['Event', 'EndpointDetail'], ...idLine, ['ObjectType', 'endpoint'], ['ObjectName', ep], ['Aors', e.aors.join(',')], ['DeviceState', this.endpointReachable(e) ? 'Not in use' : 'Unavailable'], ['ActiveChannels', '']],
          ...e.aors.map((a): [string, string | number][] => [
            ['Event', 'AorDetail'],
            ...idLine,
            ['ObjectType', 'aor'],
            ['ObjectName', a],
            ['QualifyFrequency', 60],
            ['TotalContacts', e.contacts.filter((c) => c.aor === a).length],
            ['ContactsRegistered', 0],
            ['EndpointName', ep],
          ]),
          ...e.contacts.map((c): [string, string | number][] => [
            ['Event', 'ContactStatusDetail'],
            ...idLine,
            ['AOR', c.aor],
            ['URI', c.uri],
            ['UserAgent', ''],
            ['RegExpire', 0],
            ['Status', c.status],
            ['RoundtripUsec', c.status === 'Reachable' ? c.rttUsec : 'N/A'],
            ['EndpointName', ep],
            ['ID', `${c.aor}@@${c.uri}`],
            ['AuthenticateQualify', 0],
            ['OutboundProxy', ''],
            ['Path', ''],
            ['QualifyFrequency', 60],
            ['QualifyTimeout', '3.000'],
            ['Qualify2xxOnly', 0],
          ]),
        ];
        return list('Following are Events for each object associated with the Endpoint', items, 'EndpointDetailComplete');
      }
      case 'pjsipshowregistrationsoutbound': {
        const regs = [...this.registrations.entries()];
        const items: [string, string | number][][] = [];
        for (const [n, r] of regs) {
          items.push([
            ['Event', 'OutboundRegistrationDetail'],
            ...idLine,
            ['ObjectType', 'registration'],
            ['ObjectName', n],
            ['ServerUri', r.serverUri],
            ['ClientUri', r.clientUri],
            ['Expiration', 3600],
            ['OutboundAuth', `${n}-auth`],
            ['Endpoint', r.endpoint],
            ['Status', r.status],
            ['NextReg', 0],
          ]);
          items.push([['Event', 'AuthDetail'], ...idLine, ['ObjectType', 'auth'], ['ObjectName', `${n}-auth`], ['Username', 'user'], ['AuthType', 'userpass']]);
        }
        const registered = regs.filter(([, r]) => r.status === 'Registered').length;
        return list('Following are Events for each Outbound registration', items, 'OutboundRegistrationDetailComplete', [
          ['Registered', registered],
          ['NotRegistered', regs.length - registered],
        ], regs.length);
      }
      default:
        return error(`Invalid/unknown command: ${action}. Use Action: ListCommands to show available commands.`);
    }
  }
}

/** manager.c strings_to_mask(): on/off, or a list of classes. */
function maskOf(v: string): Set<string> | null {
  const t = v.trim().toLowerCase();
  if (t === 'on' || t === 'all' || t === 'yes' || t === 'true') return null;
  if (t === 'off' || t === 'no' || t === 'false' || t === '') return new Set();
  return new Set(t.split(',').map((x) => x.trim()).filter(Boolean));
}
