import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import {
  AgiClosedError,
  AgiDeadChannelError,
  AgiError,
  AgiInterruptedError,
  AgiInvalidCommandError,
  AgiProtocolError,
  AgiSyntaxError,
  AgiTimeoutError,
} from './errors.js';
import { checkVariableName, quoteArg } from './quote.js';
import { ReplyDecoder, type AgiReply } from './reply.js';
import { parseRequest, type AgiRequest } from './request.js';

export interface AgiChannelLimits {
  /** ms to receive the whole header block. */
  readonly headerTimeout: number;
  /** ms to wait for a reply, for every command sent without an explicit timeout of null. */
  readonly commandTimeout: number;
  readonly maxHeaderBytes: number;
  readonly maxLineBytes: number;
  /**
   * ms a command sent with no timeout (EXEC Dial: the whole phone call) may stay unanswered; 0 = for ever.
   * Past it the connection is destroyed and the command fails with AgiInterruptedError: a peer that vanished
   * without a FIN must not keep its call in the live set for ever.
   */
  readonly maxCallDuration?: number;
  /** Told the round trip of every command that has a timeout (all but EXEC Dial), for the metrics histogram. */
  readonly observeCommand?: (verb: string, seconds: number) => void;
}

/** `EXEC Dial "…"` → `EXEC Dial`, `GET FULL VARIABLE "…"` → `GET FULL VARIABLE`: a bounded label. */
export function commandVerb(line: string): string {
  const q = line.indexOf(' "');
  const head = q >= 0 ? line.slice(0, q) : line;
  return head.startsWith('SET VARIABLE') ? 'SET VARIABLE' : head;
}

/** ms a half-closed socket waits for the peer's own close before it is destroyed. */
const LINGER_MS = 1000;

/** The channel an accepted socket feeds: the socket's listeners are shared functions, not three closures per connection. */
const CHANNEL = Symbol('agiChannel');
type ChannelSocket = Socket & { [CHANNEL]?: AgiChannel };

interface PendingCommand {
  readonly line: string;
  readonly timeoutMs: number | null;
  readonly resolve: (r: AgiReply) => void;
  readonly reject: (e: Error) => void;
}

/**
 * One FastAGI connection: reads the header block once, then sends commands strictly one at a time
 * and matches each reply to its command. `HANGUP` lines are out-of-band: they set `hungUp` and
 * never consume a reply. Every way the socket can end settles every pending command.
 */
export class AgiChannel extends EventEmitter {
  hungUp = false;
  closed = false;
  /** We half-closed: Asterisk answers with one more `HANGUP` whatever the channel's state (res_agi.c:4478-4489). */
  closing = false;
  /** Commands whose reply was received, for tests and the benchmark. */
  commandsSent = 0;

  /** Received text not yet cut into lines: whole lines only, decoded, less their last line's end. */
  private buf = '';
  /** Bytes after the last newline received (rare: a line split between two reads), kept undecoded. */
  private partial: Buffer | null = null;
  private headerLines: string[] | null = [];
  private headerBytes = 0;
  private headerTimer: NodeJS.Timeout | null = null;
  private requestWaiter: { resolve: (r: AgiRequest) => void; reject: (e: Error) => void } | null = null;
  private readonly decoder = new ReplyDecoder();
  /** Commands sent while another is in flight; made on the first (the call flow sends one at a time). */
  private queue: PendingCommand[] | null = null;
  private inFlight: PendingCommand | null = null;
  private sentAt = 0;
  /**
   * A command's time limit: one Timeout per connection, re-armed for each command (refresh) while the limit stays
   * the same, rather than a new timer per command and a clearTimeout per reply. A reply leaves it running: when it
   * fires, only the command that armed it, still unanswered, has waited its whole limit. EXEC Dial is bounded by
   * maxCallDuration on the same timer, or by none (then no timer is kept while a call is held).
   */
  private timer: NodeJS.Timeout | null = null;
  private timerMs = 0;
  private timed: PendingCommand | null = null;
  /** After close(): destroys the socket if the peer has not closed its side by then. */
  private linger: NodeJS.Timeout | null = null;
  private closeReason: Error | null = null;
  private inFlightAtClose = false;

  constructor(
    readonly socket: Socket,
    private readonly limits: AgiChannelLimits,
  ) {
    super();
    socket.setNoDelay(true);
    (socket as ChannelSocket)[CHANNEL] = this;
    socket.on('data', AgiChannel.socketData);
    socket.on('error', AgiChannel.socketError);
    socket.on('close', AgiChannel.socketClose);
  }

  private static socketData(this: ChannelSocket, chunk: Buffer): void {
    this[CHANNEL]?.onData(chunk);
  }

  private static socketError(this: ChannelSocket, err: Error): void {
    const ch = this[CHANNEL];
    if (ch) ch.closeReason ??= err;
  }

  private static socketClose(this: ChannelSocket): void {
    this[CHANNEL]?.onClose();
  }

  private static timerFired(ch: AgiChannel): void {
    const p = ch.timed;
    if (!p || ch.inFlight !== p) return;
    if (p.timeoutMs !== null) ch.fail(new AgiTimeoutError(p.line, p.timeoutMs));
    else ch.fail(new AgiInterruptedError(p.line, `pending longer than agi.maxCallDuration (${ch.timerMs} ms): the daemon gave up on it`));
  }

  /** `ms` null: no limit, and no timer kept meanwhile. */
  private arm(p: PendingCommand, ms: number | null): void {
    this.timed = p;
    if (ms === null) {
      this.stopTimer();
      return;
    }
    if (this.timer && this.timerMs === ms) {
      this.timer.refresh();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timerMs = ms;
    this.timer = setTimeout(AgiChannel.timerFired, ms, this);
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Resolves with the parsed header block; rejects on timeout, oversize, garbage or close. */
  readRequest(): Promise<AgiRequest> {
    return new Promise((resolve, reject) => {
      this.requestWaiter = { resolve, reject };
      this.headerTimer = setTimeout(
        () => this.fail(new AgiProtocolError(`no complete AGI header within ${this.limits.headerTimeout} ms`)),
        this.limits.headerTimeout,
      );
    });
  }

  /** Sends one raw command line. `timeoutMs: null` waits up to maxCallDuration (EXEC Dial holds for the whole phone call). */
  send(line: string, timeoutMs: number | null = this.limits.commandTimeout): Promise<AgiReply> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new AgiClosedError(line));
        return;
      }
      // a command with no timeout (EXEC Dial) is kept for the whole phone call; no copy of its own is needed: the
      // socket write flattens a string built of pieces in place (V8's String::Flatten keeps the flat result in it)
      const p = { line, timeoutMs, resolve, reject };
      if (this.inFlight) (this.queue ??= []).push(p);
      else this.start(p);
    });
  }

  exec(app: string, data: string, timeoutMs: number | null = this.limits.commandTimeout): Promise<AgiReply> {
    return this.send(`EXEC ${app} ${quoteArg(data)}`, timeoutMs);
  }

  getFullVariable(expression: string): Promise<AgiReply> {
    return this.send(`GET FULL VARIABLE ${quoteArg(expression)}`);
  }

  setVariable(name: string, value: string): Promise<AgiReply> {
    return this.send(`SET VARIABLE ${checkVariableName(name)} ${quoteArg(value)}`);
  }

  /** Closing the socket ends the AGI; it never hangs up the channel (Asterisk continues the dialplan). */
  close(): void {
    this.closing = true;
    if (this.socket.destroyed) return;
    this.socket.end();
    // a peer that never closes its side must not hold the socket. Asterisk answers our half-close with one HANGUP and
    // closes (captures/multi SUMMARY.md fact 13; res_agi.c:4478-4489): the socket's close clears this, so nearly
    // every call leaves no timer to fire a second later
    this.linger ??= setTimeout(AgiChannel.lingerOver, LINGER_MS, this).unref();
  }

  private static lingerOver(ch: AgiChannel): void {
    ch.linger = null;
    ch.socket.destroy();
  }

  /**
   * The daemon gives up on this connection now: the socket is destroyed (a FIN; res_agi blocked in Dial would never
   * answer our half-close) and the command in flight fails with AgiInterruptedError(reason), so the call flow records
   * its attempt before the process goes. FAILOVER_STATUS stays DIALING on the channel: the dialplan never dials again.
   */
  interrupt(reason: string): void {
    this.fail(new AgiInterruptedError(this.inFlight?.line ?? '', reason));
  }

  private sendNext(): void {
    const next = this.queue?.shift();
    if (next) this.start(next);
  }

  private start(next: PendingCommand): void {
    this.inFlight = next;
    if (this.limits.observeCommand) this.sentAt = performance.now();
    // a Node timer longer than 2^31-1 ms would fire after 1 ms
    if (next.timeoutMs !== null) this.arm(next, next.timeoutMs);
    else this.arm(next, this.limits.maxCallDuration ? Math.min(this.limits.maxCallDuration, 2147483647) : null);
    this.socket.write(`${next.line}\n`);
  }

  private settle(fn: (p: PendingCommand) => void): void {
    const p = this.inFlight;
    if (!p) return;
    this.inFlight = null;
    // answered: a later firing is not its
    this.timed = null;
    this.commandsSent++;
    if (this.limits.observeCommand && p.timeoutMs !== null) {
      this.limits.observeCommand(commandVerb(p.line), (performance.now() - this.sentAt) / 1000);
    }
    fn(p);
    if (!this.closed) this.sendNext();
  }

  /**
   * Bytes are decoded a whole line at a time: a newline byte is never part of a UTF-8 character, so no character is
   * cut, and no StringDecoder (with a buffer of its own) is kept per connection for the rare line split between reads.
   */
  private onData(chunk: Buffer): void {
    const bytes = this.partial ? Buffer.concat([this.partial, chunk]) : chunk;
    const end = bytes.lastIndexOf(0x0a) + 1;
    this.partial = end < bytes.length ? Buffer.from(bytes.subarray(end)) : null;
    if (end > 0) this.buf += bytes.toString('utf8', 0, end);
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      let line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      // Asterisk ends lines with \n only; a \r in the header is part of a value (and makes a number invalid)
      if (!this.headerLines && line.endsWith('\r')) line = line.slice(0, -1);
      this.onLine(line);
      if (this.closed) return;
    }
    const limit = this.headerLines ? this.limits.maxHeaderBytes : this.limits.maxLineBytes;
    if ((this.partial?.length ?? 0) > limit) {
      this.fail(new AgiProtocolError(`line longer than ${limit} bytes from Asterisk`));
    }
  }

  private onLine(line: string): void {
    if (this.headerLines) {
      this.headerBytes += line.length + 1;
      if (this.headerBytes > this.limits.maxHeaderBytes) {
        this.fail(new AgiProtocolError(`AGI header block larger than ${this.limits.maxHeaderBytes} bytes`));
        return;
      }
      if (line !== '') {
        this.headerLines.push(line);
        return;
      }
      const lines = this.headerLines;
      this.headerLines = null;
      if (this.headerTimer) clearTimeout(this.headerTimer);
      this.headerTimer = null;
      try {
        const req = parseRequest(lines);
        this.requestWaiter?.resolve(req);
        this.requestWaiter = null;
      } catch (err) {
        this.fail(err instanceof Error ? err : new AgiProtocolError(String(err)));
      }
      return;
    }
    let msg;
    try {
      msg = this.decoder.push(line);
    } catch (err) {
      this.fail(err instanceof Error ? err : new AgiProtocolError(String(err)));
      return;
    }
    if (!msg) return;
    switch (msg.kind) {
      case 'hangup':
        // the HANGUP that follows our half-close is not a caller hangup (captures/multi, fact 13)
        if (!this.hungUp && !this.closing) {
          this.hungUp = true;
          this.emit('hangup');
        }
        return;
      case 'reply':
        if (!this.inFlight) {
          this.emit('unsolicited', line);
          return;
        }
        this.settle((p) => p.resolve(msg.reply));
        return;
      case 'invalid':
        this.settle((p) =>
          p.reject(msg.code === 510 ? new AgiInvalidCommandError(p.line) : new AgiDeadChannelError(p.line)),
        );
        return;
      case 'syntax':
        this.settle((p) => p.reject(new AgiSyntaxError(p.line, msg.usage)));
        return;
    }
  }

  /** Ends the connection for good: everything pending rejects with `err`. */
  private fail(err: AgiError | Error): void {
    if (this.closed) return;
    this.closeReason ??= err;
    this.emit('protocolError', err);
    this.socket.destroy();
    this.onClose();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.headerTimer) clearTimeout(this.headerTimer);
    if (this.linger) clearTimeout(this.linger);
    this.linger = null;
    this.stopTimer();
    this.timed = null;
    const reason = this.closeReason;
    if (this.requestWaiter) {
      this.requestWaiter.reject(reason ?? new AgiProtocolError('connection closed before the AGI header was complete'));
      this.requestWaiter = null;
    }
    this.inFlightAtClose = this.inFlight !== null;
    const queued = this.queue ?? [];
    const pending = this.inFlight ? [this.inFlight, ...queued] : [...queued];
    this.inFlight = null;
    this.queue = null;
    pending.forEach((p, i) => {
      // the command in flight learns the real reason (timeout, garbage); the queued ones were never sent
      p.reject(i === 0 && this.inFlightAtClose && reason instanceof AgiError ? reason : new AgiClosedError(p.line));
    });
    this.emit('close');
  }
}
