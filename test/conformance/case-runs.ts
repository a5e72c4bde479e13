import { checkDialTemplate } from '../../src/routing/dial-string.js';
import type { CaptureCase, CapturedAttempt, CapturedConnection } from './capture-reader.js';
import { dialParts, numberIn } from './dial-match.js';
import type { ExpectedConnection } from './expected.js';

/**
 * Turns a capture into replays against the daemon: which captured Dials the daemon may place, the channel each
 * connection starts from, and the carriers and routes the daemon is configured with so that its Dial strings
 * can be compared with the captured ones byte for byte.
 */

export interface CarrierSpec {
  readonly name: string;
  readonly dial: string;
  readonly ringTimeout: number;
  readonly progressTimeout: number;
  readonly dialOptions: string;
  readonly retryAfterRinging: boolean;
}

export interface RouteSpec {
  readonly name: string;
  readonly strategy: 'failover' | 'simultaneous';
  readonly carriers: readonly string[];
}

export interface RunConnection {
  readonly captured: CapturedConnection;
  readonly attempts: readonly CapturedAttempt[];
  readonly extras: readonly CapturedAttempt[];
  /** `fresh`: a new channel (fact 1); `previous`: whatever the previous connection left (fact 12); `after-a1`: the channel after the capture's attempt 1. */
  readonly start: 'fresh' | 'previous' | 'after-a1';
  readonly expected: ExpectedConnection;
  /** FAILOVER_CARRIER the daemon must set, where the contract pins it (a sequential stop or answer). */
  readonly carrier: string | null;
}

export interface ConformanceRun {
  readonly id: string;
  readonly capture: CaptureCase;
  readonly connections: readonly RunConnection[];
  readonly carriers: readonly CarrierSpec[];
  readonly routes: readonly RouteSpec[];
  readonly notes: readonly string[];
}

/** The carrier names of the captures are their chan_sip peers / PJSIP endpoints; one without `@peer` is named for its endpoint. */
function carrierName(template: string): string {
  const at = /@([A-Za-z0-9_.-]+)$/.exec(template);
  if (at) return at[1] as string;
  const ep = /^[A-Za-z0-9]+\/([A-Za-z0-9_.-]+)\//.exec(template);
  return ep ? `${ep[1] as string}-uri` : template.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64);
}

function timers(t: string): { ringTimeout: number; progressTimeout: number } {
  const [ring = '60', progress] = t.split('^');
  return { ringTimeout: Number(ring), progressTimeout: progress === undefined ? 0 : Number(progress) };
}

/** Carriers for one captured Dial (one per channel); null with the reason when config validation would refuse one. */
function carriersOf(a: CapturedAttempt, retryAfterRinging: boolean): { carriers: CarrierSpec[] } | { refused: string } {
  const p = dialParts(a.dial, numberIn(a.dial));
  const out: CarrierSpec[] = [];
  for (const template of p.channels) {
    const why = checkDialTemplate(template);
    if (why) return { refused: `attempt ${a.attempt} dials ${JSON.stringify(a.dial)}: a carrier "${template}" is refused by config validation (${why.split(' (')[0]})` };
    // tT as the captures' probe sent, so the daemon's Dial bytes can equal the captured ones
    out.push({ name: carrierName(template), dial: template, ...timers(p.timers), dialOptions: 'tT', retryAfterRinging });
  }
  return { carriers: out };
}

const stops = (e: ExpectedConnection): boolean => {
  const last = e.verdicts.at(-1);
  return last === 'stop' || last === 'answered';
};

/** Every replay of one capture: the capture itself, from attempt 2 when attempt 1 stops, and with retryAfterRinging. */
export function runsFor(c: CaptureCase, expected: Readonly<Record<string, readonly ExpectedConnection[]>>): ConformanceRun[] {
  const variants: { id: string; from: 1 | 2; retry: boolean }[] = [{ id: c.name, from: 1, retry: false }];
  if (expected[`${c.name}@a2`]) variants.push({ id: `${c.name}@a2`, from: 2, retry: false });
  if (expected[`${c.name}+retryAfterRinging`]) variants.push({ id: `${c.name}+retryAfterRinging`, from: 1, retry: true });
  const out: ConformanceRun[] = [];
  for (const v of variants) {
    const rows = expected[v.id];
    if (!rows) throw new Error(`no expected row for ${v.id}`);
    if (rows.length !== c.connections.length) throw new Error(`${v.id}: ${rows.length} expected rows for ${c.connections.length} connections`);
    const notes: string[] = [];
    const carriers = new Map<string, CarrierSpec>();
    const routes: RouteSpec[] = [];
    const connections: RunConnection[] = [];
    c.connections.forEach((conn, i) => {
      const exp = rows[i] as ExpectedConnection;
      const all = conn.attempts.filter((a) => !a.extra).slice(v.from - 1);
      const extras = conn.attempts.filter((a) => a.extra);
      const attempts: CapturedAttempt[] = [];
      const names: string[] = [];
      let simultaneous = false;
      for (const a of all) {
        const r = carriersOf(a, v.retry);
        if ('refused' in r) {
          notes.push(`${r.refused}; this and later attempts are not replayed`);
          break;
        }
        attempts.push(a);
        simultaneous ||= r.carriers.length > 1;
        for (const cs of r.carriers) {
          carriers.set(cs.name, cs);
          if (!names.includes(cs.name)) names.push(cs.name);
        }
      }
      if (attempts.length === 0) return;
      const tech = (attempts[0] as CapturedAttempt).dial.split('/')[0] ?? 'SIP';
      if (stops(exp) && !simultaneous) {
        // a carrier after the stopping one, so the stop is the daemon's decision, not the end of its list
        const tertiary: CarrierSpec = { name: 'carrier-tertiary', dial: `${tech}/\${number}@carrier-tertiary`, ringTimeout: 60, progressTimeout: 5, dialOptions: 'tT', retryAfterRinging: v.retry };
        carriers.set(tertiary.name, tertiary);
        names.push(tertiary.name);
      }
      routes.push({ name: conn.script, strategy: simultaneous ? 'simultaneous' : 'failover', carriers: names });
      // the carrier of the Dial the call must end on (a capture may hold Dials after it, for the @a2 replay)
      const lastDial = (attempts[Math.min(exp.verdicts.length, attempts.length) - 1] as CapturedAttempt).dial;
      connections.push({
        captured: conn,
        attempts,
        extras,
        start: i > 0 ? 'previous' : v.from === 2 ? 'after-a1' : 'fresh',
        expected: exp,
        carrier: stops(exp) && !simultaneous ? carrierName(dialParts(lastDial, numberIn(lastDial)).channels[0] ?? '') : null,
      });
    });
    if (connections.length === 0) continue;
    out.push({ id: v.id, capture: c, connections, carriers: [...carriers.values()], routes, notes });
  }
  return out;
}

/** Runs with the same carriers and routes share one daemon. */
export function configKey(r: ConformanceRun): string {
  return JSON.stringify({ carriers: [...r.carriers].sort((a, b) => a.name.localeCompare(b.name)), routes: r.routes });
}
