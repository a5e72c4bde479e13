import pino, { type Bindings, type Logger } from 'pino';
import { oncePerObject } from './once-per-object.js';
import { ownString } from './own-string.js';

export type { Logger };

/**
 * Paths pino blanks in every line: each place a secret can ride along in an object the daemon logs (the settings,
 * or their ami/db parts). Named paths, no wildcards: a wildcard path makes redaction walk every logged object,
 * which is measurable on the call path.
 */
export const REDACT_PATHS = [
  'secret',
  'password',
  'sharedKey',
  'agi.sharedKey',
  'config.agi.sharedKey',
  'settings.agi.sharedKey',
  'ami.secret',
  'db.password',
  'config.ami.secret',
  'config.db.password',
  'settings.ami.secret',
  'settings.db.password',
];

export interface LogOptions {
  level: string;
  pretty?: boolean;
}

/** Log lines are written together once this many bytes wait, or LOG_FLUSH_MS after the first, whichever comes first. */
const LOG_BATCH_BYTES = 4096;
const LOG_FLUSH_MS = 50;

/**
 * JSON to stdout for journald, written asynchronously (a line never blocks the event loop on a slow journal) and in
 * batches (one write for up to 4 KiB or 50 ms of lines, not one per line through the thread pool); what is still
 * buffered is written out synchronously when the process exits, on every exit path but SIGKILL, which can lose the
 * last 50 ms of lines. `pretty` prints one readable line per record without another dependency.
 */
export function createLogger(opts: LogOptions, destination?: NodeJS.WritableStream): Logger {
  const base: pino.LoggerOptions = {
    level: opts.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: isoTime,
  };
  if (opts.pretty) {
    return pino(base, prettyStream(destination ?? process.stdout));
  }
  if (destination) return pino(base, destination);
  const stdout = pino.destination({ dest: 1, sync: false, minLength: LOG_BATCH_BYTES });
  let waiting = false;
  const timer = setInterval(() => {
    if (!waiting) return;
    waiting = false;
    stdout.flush();
  }, LOG_FLUSH_MS);
  timer.unref();
  process.once('exit', () => {
    clearInterval(timer);
    try {
      stdout.flushSync();
    } catch {
      /* stdout already gone: nothing left to tell anyone */
    }
  });
  // a line below LOG_BATCH_BYTES waits for the timer, which only writes when a line came
  const batched = {
    write(line: string): boolean {
      waiting = true;
      return stdout.write(line);
    },
  };
  return pino(base, batched);
}

/**
 * `,"time":"<ISO 8601>"`, the text pino's isoTime gives: Date#toISOString is a call into V8's C++ (some 4,000
 * instructions) on every line, so the part up to the second is made once a second and the milliseconds added.
 */
let isoSecond = Number.NaN;
let isoPrefix = '';
export function isoTime(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== isoSecond) {
    const iso = new Date(second * 1000).toISOString();
    // outside years 0000-9999 toISOString writes a sign and six digits: no prefix to reuse
    if (iso.length !== 24) return `,"time":"${new Date(now).toISOString()}"`;
    isoSecond = second;
    isoPrefix = `,"time":"${iso.slice(0, 20)}`;
  }
  const ms = now - second * 1000;
  return `${isoPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

function prettyStream(out: NodeJS.WritableStream): NodeJS.WritableStream & { write(s: string): boolean } {
  return {
    write(line: string): boolean {
      try {
        const rec = JSON.parse(line) as Record<string, unknown>;
        const { time, level, msg, pid: _pid, hostname: _h, ...rest } = rec;
        const extra = Object.entries(rest)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
        return out.write(`${String(time)} ${LEVELS[Number(level)] ?? String(level)} ${String(msg ?? '')} ${extra}\n`);
      } catch {
        return out.write(line);
      }
    },
  } as NodeJS.WritableStream & { write(s: string): boolean };
}

/** All but the last four digits masked, so logs can be shared without leaking who was called. */
export function maskNumber(n: string, show: boolean): string {
  if (show || n.length <= 4) return n;
  return '*'.repeat(n.length - 4) + n.slice(-4);
}

/**
 * The parent of every call's logger: a child of `parent` with no bindings of its own, so lines read the same. pino
 * gives a child of the root logger a formatters object of its own; a child of a child shares its parent's, which
 * a call held in Dial then does not keep a copy of.
 */
const callBase = oncePerObject((parent: Logger): Logger => parent.child({}));

/**
 * A call's child logger. pino builds the child's bound fields as one string by `+`, a tree of a dozen pieces; a call
 * held in Dial keeps its logger for minutes, so the tree is replaced by the same characters in one flat string.
 */
export function callLogger(parent: Logger, bindings: Bindings): Logger {
  const child = callBase(parent).child(bindings);
  const held = child as unknown as Record<symbol, unknown>;
  const chindings = held[pino.symbols.chindingsSym];
  if (typeof chindings === 'string') held[pino.symbols.chindingsSym] = ownString(chindings);
  return child;
}
