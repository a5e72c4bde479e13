import createManager from 'asterisk-manager';
import { systemClock, type Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { normalizeMessage, same, sanitizeFields, stripLineBreaks, type AmiFields, type AmiMessage } from './ami-message.js';

type Manager = createManager.Manager;

/**
 * Why an AMI attempt or action failed:
 * - auth: Asterisk answered Login with an error (wrong user or secret, "Login Already In Use");
 * - refused: nothing listens on host:port (Asterisk down or restarting, manager.conf `enabled = no`);
 * - timeout: no TCP connect, Login reply or action reply in time;
 * - closed: the connection ended; network: every other socket error (unreachable, DNS);
 * - disconnected: an action asked for while not logged in, or cut off by a disconnect;
 * - rejected: Asterisk answered the action with `Response: Error`.
 */
export type AmiErrorKind = 'auth' | 'refused' | 'timeout' | 'closed' | 'network' | 'disconnected' | 'rejected';

export class AmiError extends Error {
  override readonly name = 'AmiError';
  constructor(
    readonly kind: AmiErrorKind,
    message: string,
    /** The `Response: Error` message, for kinds auth and rejected. */
    readonly response: AmiMessage | null = null,
  ) {
    super(message);
  }
}

export interface AmiClientOptions {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly secret: string;
  /** ms before the first reconnect; doubles per failed attempt up to reconnectMax. */
  readonly reconnectMin: number;
  readonly reconnectMax: number;
  /** ms for TCP connect plus Login reply, for every action reply, and between the items of a list. */
  readonly actionTimeout: number;
  /** ms between keepalive Pings; a Ping without reply drops the connection. 0 = none. */
  readonly pingInterval?: number;
  /** Sent as `Action: Events` after login to narrow the user's read= classes (e.g. `system`); null = leave them. */
  readonly eventMask?: string | null;
}

/** A list action's whole answer: the `EventList: start` response, the items, the `…Complete` event. */
export interface AmiList {
  readonly response: AmiMessage;
  readonly items: readonly AmiMessage[];
  readonly complete: AmiMessage | null;
}

export interface AmiClientStats {
  /** Logged in right now. */
  readonly connected: boolean;
  /** Successful logins since start. */
  readonly connects: number;
  /** Attempts that failed before Login was answered (refused, timeout, closed, network). */
  readonly connectFailures: number;
  /** Logins Asterisk refused. */
  readonly loginFailures: number;
  /** Logged-in connections lost. */
  readonly disconnects: number;
  readonly actionTimeouts: number;
  /** Actions sent and not yet answered. */
  readonly pendingActions: number;
  /** Epoch ms of the last message from Asterisk, or of the last login. */
  readonly lastEventAt: number | null;
  readonly lastError: { readonly kind: AmiErrorKind; readonly message: string; readonly at: number } | null;
}

export type AmiClientEvents = {
  /** Logged in; events that came in behind the Login reply (FullyBooted) are delivered right after. */
  ready: [];
  /** An unsolicited event (list items go to the list that asked for them). */
  event: [AmiMessage];
  /** A logged-in connection was lost; reconnecting already. */
  down: [AmiError];
  /** A connect or login attempt failed; retrying already. */
  failure: [AmiError];
};

type Phase =
  | { readonly kind: 'idle' }
  | { readonly kind: 'waiting'; readonly timer: NodeJS.Timeout }
  | Connecting
  | Ready
  | { readonly kind: 'stopped' };

interface Connecting {
  readonly kind: 'connecting';
  readonly gen: number;
  readonly mgr: Manager;
  readonly timer: NodeJS.Timeout;
  tcp: boolean;
  socketError: NodeJS.ErrnoException | null;
  readonly early: AmiMessage[];
}

interface Ready {
  readonly kind: 'ready';
  readonly gen: number;
  readonly mgr: Manager;
  ping: NodeJS.Timeout | null;
  pingInFlight: boolean;
}

interface Pending {
  readonly name: string;
  readonly mgr: Manager;
  timer: NodeJS.Timeout;
  readonly reject: (e: AmiError) => void;
  readonly list: ListState | null;
}

interface ListState {
  response: AmiMessage | null;
  readonly items: AmiMessage[];
  readonly resolve: (l: AmiList) => void;
}

/** ActionIDs we mint start with this, so list items of ours are never taken for events of other sessions. */
const ID_PREFIX = 'fagi-';
/** Floor of the reconnect delay, so reconnectMin = 0 cannot spin against a refused port. */
const MIN_DELAY = 10;
/** Repeats of the same failure are logged at most this often (a wrong secret would otherwise log 6 lines a minute forever). */
const REPEAT_LOG_MS = 60_000;

/**
 * asterisk-manager behind a small typed surface: our own reconnect loop, a ready signal, classified failures,
 * promise actions with timeouts, event lists collected by ActionID. A fresh library object per connection, so
 * nothing (half-parsed bytes, held actions, listeners) leaks from a dead connection into the next.
 */
export class AmiClient {
  private phase: Phase = { kind: 'idle' };
  private gen = 0;
  private seq = 0;
  private failures = 0;
  private readonly pending = new Map<string, Pending>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly username: string;
  private readonly secret: string;
  private readonly listeners: { [K in keyof AmiClientEvents]: Set<(...a: AmiClientEvents[K]) => void> } = {
    ready: new Set(),
    event: new Set(),
    down: new Set(),
    failure: new Set(),
  };
  private counters = { connects: 0, connectFailures: 0, loginFailures: 0, disconnects: 0, actionTimeouts: 0 };
  private lastEventAt: number | null = null;
  private lastError: AmiClientStats['lastError'] = null;
  private lastLogged = { key: '', at: -Infinity, repeats: 0 };

  constructor(
    private readonly opts: AmiClientOptions,
    deps: { readonly logger: Logger; readonly clock?: Clock },
  ) {
    this.clock = deps.clock ?? systemClock;
    this.log = deps.logger;
    this.username = stripLineBreaks(opts.username);
    this.secret = stripLineBreaks(opts.secret);
  }

  get connected(): boolean {
    return this.phase.kind === 'ready';
  }

  on<K extends keyof AmiClientEvents>(type: K, fn: (...a: AmiClientEvents[K]) => void): () => void {
    const set = this.listeners[type] as Set<(...a: AmiClientEvents[K]) => void>;
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Starts the connect loop; it runs until stop(). */
  start(): void {
    if (this.phase.kind === 'idle') this.attempt();
  }

  async stop(): Promise<void> {
    const p = this.phase;
    this.phase = { kind: 'stopped' };
    this.failPending(new AmiError('disconnected', 'AMI client stopped'));
    if (p.kind === 'waiting') clearTimeout(p.timer);
    if (p.kind === 'connecting') clearTimeout(p.timer);
    if (p.kind === 'ready' && p.ping) clearInterval(p.ping);
    if (p.kind === 'connecting' || p.kind === 'ready') {
      const mgr = p.mgr;
      const open = p.kind === 'ready' || p.tcp;
      const closed = new Promise<void>((resolve) => {
        if (!open) return resolve();
        mgr.on('close', () => resolve());
        setTimeout(resolve, 1000).unref();
      });
      mgr.disconnect();
      await closed;
    }
  }

  /** One action and its response; rejects at once when not logged in. */
  action(fields: AmiFields): Promise<AmiMessage> {
    return this.send(fields, false).then((r) => r.response);
  }

  /** A list action (`EventList: start` … `…Complete`), its items collected by ActionID. */
  list(fields: AmiFields): Promise<AmiList> {
    return this.send(fields, true);
  }

  stats(): AmiClientStats {
    return { connected: this.connected, ...this.counters, pendingActions: this.pending.size, lastEventAt: this.lastEventAt, lastError: this.lastError };
  }

  private emit<K extends keyof AmiClientEvents>(type: K, ...args: AmiClientEvents[K]): void {
    for (const fn of [...(this.listeners[type] as Set<(...a: AmiClientEvents[K]) => void>)]) {
      try {
        fn(...args);
      } catch (err) {
        this.log.error({ err, listener: type }, 'AMI listener threw (ignored)');
      }
    }
  }

  private get addr(): string {
    return `${this.opts.host}:${this.opts.port}`;
  }

  private isCurrent(gen: number): boolean {
    const p = this.phase;
    return (p.kind === 'connecting' || p.kind === 'ready') && p.gen === gen;
  }

  private attempt(): void {
    const gen = ++this.gen;
    const mgr = createManager(undefined, this.opts.host, this.username, this.secret, true);
    const timer = setTimeout(() => {
      this.attemptFailed(
        gen,
        c.tcp
          ? new AmiError('timeout', `no reply to Login from ${this.addr} within ${this.opts.actionTimeout} ms`)
          : new AmiError('timeout', `TCP connect to ${this.addr} timed out after ${this.opts.actionTimeout} ms`),
      );
    }, this.opts.actionTimeout);
    const c: Connecting = { kind: 'connecting', gen, mgr, timer, tcp: false, socketError: null, early: [] };
    this.phase = c;
    mgr.on('error', (err) => {
      if (this.phase === c) c.socketError = err as NodeJS.ErrnoException;
    });
    mgr.on('close', () => this.closed(gen));
    mgr.on('managerevent', (raw) => this.received(gen, raw));
    mgr.connect(this.opts.port, this.opts.host, () => {
      // a socket that connects after we gave up on it is closed here: the library cannot abort a connect in flight
      if (!this.isCurrent(gen)) return mgr.disconnect();
      c.tcp = true;
      mgr.login((err) => this.loginAnswered(gen, err));
    });
  }

  private loginAnswered(gen: number, err: createManager.RawMessage | undefined): void {
    const p = this.phase;
    if (p.kind !== 'connecting' || p.gen !== gen) return;
    if (err) {
      const res = normalizeMessage(err);
      this.attemptFailed(gen, new AmiError('auth', `AMI login as "${this.username}" refused by ${this.addr}: ${res['message'] || 'Response: Error'}`, res));
      return;
    }
    clearTimeout(p.timer);
    const ready: Ready = { kind: 'ready', gen, mgr: p.mgr, ping: null, pingInFlight: false };
    this.phase = ready;
    this.failures = 0;
    this.counters.connects++;
    this.lastEventAt = this.clock.now();
    this.lastLogged = { key: '', at: -Infinity, repeats: 0 };
    this.log.info({ host: this.opts.host, port: this.opts.port, user: this.username, connects: this.counters.connects }, 'AMI logged in');
    if (this.opts.eventMask) {
      this.action({ Action: 'Events', EventMask: this.opts.eventMask }).catch((e: AmiError) => {
        if (this.phase === ready) this.log.warn({ err: e.message }, 'AMI Events action failed: receiving every class the user may read');
      });
    }
    this.emit('ready');
    for (const e of p.early) {
      if (this.phase !== ready) break;
      this.emit('event', e);
    }
    const every = this.opts.pingInterval ?? 0;
    if (every > 0 && this.phase === ready) {
      ready.ping = setInterval(() => this.ping(ready), every);
      ready.ping.unref();
    }
  }

  private ping(r: Ready): void {
    if (this.phase !== r || r.pingInFlight) return;
    r.pingInFlight = true;
    this.action({ Action: 'Ping' }).then(
      () => {
        r.pingInFlight = false;
      },
      (e: AmiError) => {
        r.pingInFlight = false;
        if (e.kind === 'timeout') this.lost(r, new AmiError('timeout', `no reply to Ping within ${this.opts.actionTimeout} ms: connection presumed dead`));
      },
    );
  }

  private closed(gen: number): void {
    const p = this.phase;
    if (p.kind === 'connecting' && p.gen === gen) {
      const err = p.socketError;
      if (err?.code === 'ECONNREFUSED') {
        this.attemptFailed(gen, new AmiError('refused', `connection refused by ${this.addr} (Asterisk not running, or manager.conf not enabled on that port)`));
      } else if (err?.code === 'ETIMEDOUT') {
        this.attemptFailed(gen, new AmiError('timeout', `TCP connect to ${this.addr} timed out`));
      } else if (err) {
        this.attemptFailed(gen, new AmiError('network', `cannot reach ${this.addr}: ${err.code ?? err.message}`));
      } else {
        this.attemptFailed(gen, new AmiError('closed', `${this.addr} closed the connection before answering Login`));
      }
    } else if (p.kind === 'ready' && p.gen === gen) {
      this.lost(p, new AmiError('closed', `AMI connection to ${this.addr} closed`));
    }
  }

  private attemptFailed(gen: number, err: AmiError): void {
    const p = this.phase;
    if (p.kind !== 'connecting' || p.gen !== gen) return;
    clearTimeout(p.timer);
    p.mgr.disconnect();
    if (err.kind === 'auth') this.counters.loginFailures++;
    else this.counters.connectFailures++;
    this.lastError = { kind: err.kind, message: err.message, at: this.clock.now() };
    this.failures++;
    const retryInMs = this.schedule();
    this.logFailure(err, retryInMs);
    this.emit('failure', err);
  }

  private lost(r: Ready, err: AmiError): void {
    if (this.phase !== r) return;
    if (r.ping) clearInterval(r.ping);
    this.counters.disconnects++;
    this.lastError = { kind: err.kind, message: err.message, at: this.clock.now() };
    this.failures = 0;
    const retryInMs = this.schedule();
    this.failPending(new AmiError('disconnected', `AMI connection lost: ${err.message}`));
    r.mgr.disconnect();
    this.log.warn({ host: this.opts.host, port: this.opts.port, reason: err.message, retryInMs }, 'AMI connection lost: reconnecting');
    this.emit('down', err);
  }

  /** Arms the next attempt; returns its delay. */
  private schedule(): number {
    const base = Math.max(MIN_DELAY, this.opts.reconnectMin);
    const delay = Math.min(Math.max(base, this.opts.reconnectMax), base * 2 ** Math.min(30, Math.max(0, this.failures - 1)));
    const timer = setTimeout(() => {
      if (this.phase.kind === 'waiting' && this.phase.timer === timer) this.attempt();
    }, delay);
    this.phase = { kind: 'waiting', timer };
    return delay;
  }

  private logFailure(err: AmiError, retryInMs: number): void {
    const key = `${err.kind}:${err.message}`;
    const now = this.clock.now();
    const fields = { kind: err.kind, host: this.opts.host, port: this.opts.port, user: this.username, failures: this.failures, retryInMs };
    if (key !== this.lastLogged.key || now - this.lastLogged.at >= REPEAT_LOG_MS) {
      const repeats = key === this.lastLogged.key ? this.lastLogged.repeats : 0;
      const line = repeats > 0 ? { ...fields, repeatsSinceLastLine: repeats } : fields;
      if (err.kind === 'auth') this.log.error(line, `AMI login failed: ${err.message}`);
      else this.log.warn(line, `AMI connect failed: ${err.message}`);
      this.lastLogged = { key, at: now, repeats: 0 };
    } else {
      this.lastLogged.repeats++;
      this.log.debug(fields, `AMI connect failed again: ${err.message}`);
    }
  }

  private received(gen: number, raw: createManager.RawMessage): void {
    const p = this.phase;
    if ((p.kind !== 'connecting' && p.kind !== 'ready') || p.gen !== gen) return;
    const e = normalizeMessage(raw);
    this.lastEventAt = this.clock.now();
    const id = e['actionid'];
    if (id !== undefined && id.startsWith(ID_PREFIX)) {
      this.collect(id, e);
      return;
    }
    if (p.kind === 'connecting') p.early.push(e);
    else this.emit('event', e);
  }

  private collect(id: string, e: AmiMessage): void {
    const entry = this.pending.get(id);
    const list = entry?.list;
    if (!entry || !list) {
      this.log.debug({ actionId: id, event: e['event'] }, 'AMI list item for no waiting list (timed out?): dropped');
      return;
    }
    if (same(e['eventlist'], 'complete')) {
      this.untrack(id);
      list.resolve({ response: list.response ?? {}, items: list.items, complete: e });
    } else if (same(e['eventlist'], 'cancelled')) {
      this.untrack(id);
      entry.reject(new AmiError('rejected', `${entry.name}: list cancelled by Asterisk`, e));
    } else {
      list.items.push(e);
      this.rearm(id, entry);
    }
  }

  private send(fields: AmiFields, isList: boolean): Promise<AmiList> {
    const name = String(fields['Action'] ?? fields['action'] ?? 'action');
    const p = this.phase;
    if (p.kind !== 'ready') return Promise.reject(new AmiError('disconnected', `AMI not connected: ${name} not sent`));
    const id = `${ID_PREFIX}${++this.seq}`;
    const wire: Record<string, string> = {};
    for (const [k, v] of Object.entries(sanitizeFields(fields))) if (k.toLowerCase() !== 'actionid') wire[k.toLowerCase()] = v;
    wire['actionid'] = id;
    return new Promise<AmiList>((resolve, reject) => {
      const list: ListState | null = isList ? { response: null, items: [], resolve } : null;
      const entry: Pending = { name, mgr: p.mgr, timer: setTimeout(() => undefined, 0), reject, list };
      this.pending.set(id, entry);
      this.rearm(id, entry);
      p.mgr.action(wire, (err, res) => {
        if (this.pending.get(id) !== entry) return;
        if (err) {
          this.untrack(id);
          const r = normalizeMessage(err);
          reject(new AmiError('rejected', `${name}: ${r['message'] || 'Response: Error'}`, r));
          return;
        }
        const response = normalizeMessage(res);
        if (!list || !same(response['eventlist'], 'start')) {
          this.untrack(id);
          resolve({ response, items: [], complete: null });
          return;
        }
        list.response = response;
        this.rearm(id, entry);
      });
    });
  }

  private rearm(id: string, entry: Pending): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      if (this.pending.get(id) !== entry) return;
      this.untrack(id);
      entry.mgr.removeAllListeners(id);
      this.counters.actionTimeouts++;
      entry.reject(new AmiError('timeout', `${entry.name}: no reply within ${this.opts.actionTimeout} ms`));
    }, this.opts.actionTimeout);
  }

  private untrack(id: string): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.pending.delete(id);
  }

  private failPending(err: AmiError): void {
    const all = [...this.pending.entries()];
    this.pending.clear();
    for (const [id, entry] of all) {
      clearTimeout(entry.timer);
      entry.mgr.removeAllListeners(id);
      entry.reject(err);
    }
  }
}
