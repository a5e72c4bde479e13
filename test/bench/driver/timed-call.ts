import { connect } from 'node:net';
import { causeText } from '../../../src/routing/q850.js';
import { expand, header, parseArgs, type CauseEntry } from '../../sim/agi-sim.js';
import { dialStatusFor, reasonPhrase, sip2cause, type Driver } from '../../sim/sip-tables.js';

/**
 * The Asterisk side of one call, timed with hrtime. It sends the simulator's header block and the same reply texts
 * as test/sim/agi-sim.ts, but answers synchronously and records when each command arrives: simulateCall() has no
 * timing hooks, and its per-line promise chain would cost the shared CPU more than the servers being measured.
 * fidelity.ts checks the servers against the real simulateCall() first.
 */

export type BenchBehaviour =
  | { readonly kind: 'answer' }
  /** A final SIP response, DIALSTATUS and cause by the carrier's driver as in the simulator. */
  | { readonly kind: 'reject'; readonly sip: number }
  /** Answers, but the Dial reply waits for `release` (a long talkMs): the AGI connection stays open meanwhile. */
  | { readonly kind: 'held'; readonly release: Promise<void> }
  /** Answers, and the Dial reply comes after `ms`: a call that sits in an answered Dial for its talk time. */
  | { readonly kind: 'hold'; readonly ms: number };

export interface TimedCallOptions {
  readonly port: number;
  readonly number: string;
  readonly uniqueid: string;
  readonly carriers: Readonly<Record<string, BenchBehaviour>>;
  /** Told when the first EXEC Dial arrives (the held-calls ramp waits for it). */
  readonly onDial?: () => void;
  /** Resolved when the driver gives up on the call (the end of a measurement): the socket is destroyed. */
  readonly abort?: Promise<void>;
}

export interface TimedCallResult {
  readonly ok: boolean;
  readonly error: string | null;
  readonly commands: number;
  readonly dials: number;
  /** µs from the header block written to the first command received. */
  readonly headerToFirstUs: number;
  /** µs from the header block written to the first EXEC Dial received. */
  readonly headerToDialUs: number;
  /** µs from each Dial result written to the next command received (or to the close, after the last). */
  readonly afterDialUs: readonly number[];
  readonly vars: ReadonlyMap<string, string>;
}

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

function driverOf(tech: string): Driver {
  return tech === 'PJSIP' ? 'pjsip' : tech === 'IAX2' ? 'iax2' : 'chan_sip';
}

export function timedCall(o: TimedCallOptions): Promise<TimedCallResult> {
  return new Promise((resolve) => {
    const vars = new Map<string, string>();
    const causes = new Map<string, CauseEntry>();
    const afterDialUs: number[] = [];
    let commands = 0;
    let dials = 0;
    let headerAt = 0;
    let headerToFirstUs = -1;
    let headerToDialUs = -1;
    let dialReplyAt = 0;
    // the simulator numbers channels from 00000000, so the daemon asks for the keys it asked for in fidelity.ts
    let legs = -1;
    let buf = '';
    let error: string | null = null;
    const sock = connect(o.port, '127.0.0.1');
    sock.setNoDelay(true);
    sock.setEncoding('utf8');
    void o.abort?.then(() => {
      if (sock.destroyed) return;
      error = 'aborted';
      sock.destroy();
    });

    const dialReply = (text: string): void => {
      if (sock.destroyed) return;
      sock.write(text);
      dialReplyAt = nowUs();
    };

    const runDial = (data: string): string | null => {
      dials++;
      const chans = (data.split(',')[0] ?? '').split('&');
      let answered: BenchBehaviour | null = null;
      let status = 'CHANUNAVAIL';
      let cause = 0;
      for (const ch of chans) {
        const slash = ch.indexOf('/');
        const tech = ch.slice(0, slash);
        const rest = ch.slice(slash + 1);
        const at = rest.lastIndexOf('@');
        const carrier = at >= 0 ? rest.slice(at + 1) : (rest.split('/')[0] ?? '');
        const channel = `${tech}/${carrier}-${(++legs).toString(16).padStart(8, '0')}`;
        const b = o.carriers[carrier];
        const driver = driverOf(tech);
        if (!b) {
          cause = driver === 'pjsip' ? 3 : 20;
          continue;
        }
        if (b.kind === 'reject') {
          const r = dialStatusFor(b.sip, driver);
          status = r.dialStatus;
          cause = r.cause;
          if (driver !== 'iax2') causes.set(channel, { tech: `SIP ${b.sip} ${reasonPhrase(b.sip)}`, ast: causeText(sip2cause(b.sip, driver)) });
        } else {
          answered = b;
          causes.set(channel, { tech: 'SIP 200 OK', ast: 'Normal Clearing' });
          vars.set('DIALEDPEERNUMBER', channel);
        }
      }
      vars.set('DIALEDTIME', '0');
      if (answered) {
        vars.set('DIALSTATUS', 'ANSWER');
        vars.set('HANGUPCAUSE', '16');
        vars.set('ANSWEREDTIME', '0');
        if (answered.kind === 'held') {
          void answered.release.then(() => dialReply('200 result=-1\n'));
          return null;
        }
        if (answered.kind === 'hold') {
          setTimeout(() => dialReply('200 result=-1\n'), answered.ms);
          return null;
        }
        return '200 result=-1\n';
      }
      vars.set('DIALSTATUS', status);
      vars.set('HANGUPCAUSE', String(cause));
      vars.set('ANSWEREDTIME', '');
      return '200 result=0\n';
    };

    const answer = (line: string): string | null => {
      const argv = parseArgs(line);
      const w = argv.map((a) => a.toLowerCase());
      if (w[0] === 'exec') {
        if (w[1] === 'dial') return runDial(argv[2] ?? '');
        if (w[1] === 'hangupcauseclear') {
          causes.clear();
          return '200 result=0\n';
        }
        return '200 result=-2\n';
      }
      if (w[0] === 'get' && w[1] === 'full' && w[2] === 'variable') return `200 result=1 (${expand(argv[3] ?? '', vars, causes)})\n`;
      if (w[0] === 'get' && w[1] === 'variable') {
        const v = vars.get(argv[2] ?? '');
        return v === undefined ? '200 result=0\n' : `200 result=1 (${v})\n`;
      }
      if (w[0] === 'set' && w[1] === 'variable') {
        vars.set(argv[2] ?? '', argv[3] ?? '');
        return '200 result=1\n';
      }
      return '510 Invalid or unknown command\n';
    };

    const onLine = (line: string): void => {
      const t = nowUs();
      commands++;
      if (commands === 1) headerToFirstUs = t - headerAt;
      if (dialReplyAt > 0) {
        afterDialUs.push(t - dialReplyAt);
        dialReplyAt = 0;
      }
      const isDial = /^exec\s+dial\b/i.test(line);
      if (isDial && headerToDialUs < 0) {
        headerToDialUs = t - headerAt;
        o.onDial?.();
      }
      const reply = answer(line);
      if (reply === null) return;
      if (isDial) dialReply(reply);
      else sock.write(reply);
    };

    sock.on('connect', () => {
      sock.write(header({ port: o.port, args: [o.number], uniqueid: o.uniqueid, extension: o.number }));
      headerAt = nowUs();
    });
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        onLine(line);
      }
    });
    sock.on('error', (err) => {
      error = (err as NodeJS.ErrnoException).code ?? err.message;
    });
    sock.on('close', () => {
      // the daemon closing after the last Dial result counts as its "next command": the end of its work
      if (dialReplyAt > 0) afterDialUs.push(nowUs() - dialReplyAt);
      resolve({ ok: error === null && dials > 0, error, commands, dials, headerToFirstUs, headerToDialUs, afterDialUs, vars });
    });
  });
}
