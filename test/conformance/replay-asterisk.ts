import { connect } from 'node:net';
import { parseArgs } from '../sim/agi-sim.js';
import type { CapturedAttempt } from './capture-reader.js';
import { afterDial, clearCauses, expand, lookup, setVariable, withSets, type AsteriskLogLine, type ChannelState } from './channel-state.js';
import { matchDial } from './dial-match.js';

/**
 * Plays Asterisk's side of one FastAGI connection from a capture: connects to the daemon as res_agi's
 * launch_netscript does (res_agi.c:2230-2279), sends the captured header bytes, and answers each command from the
 * captured channel state with res_agi.c's reply texts (REFERENCE.md §1.3).
 */

export interface ReplayPlan {
  readonly port: number;
  readonly header: Buffer;
  /** The captured Dials the daemon may place, in order. */
  readonly attempts: readonly CapturedAttempt[];
  /** Dials the probe forced after a daemon would have stopped: Asterisk's answer if the daemon dials past the end. */
  readonly extras: readonly CapturedAttempt[];
  readonly initial: ChannelState;
  /** The number the daemon is expected to dial (the header's agi_extension). */
  readonly number: string;
  readonly hangupAfterClose: boolean;
  /** Captured Dial durations are cut to at most this (ms). */
  readonly maxDialMs?: number;
  /** The whole connection, from connect to close. */
  readonly timeoutMs?: number;
}

export interface ReplayedDial {
  readonly data: string;
  /** The capture attempt that answered it; null when the capture had none. */
  readonly attempt: CapturedAttempt | null;
  readonly match: string;
}

export interface LoggedLine extends AsteriskLogLine {
  readonly command: string;
}

export interface ReplayResult {
  readonly commands: readonly string[];
  readonly sets: readonly { readonly name: string; readonly value: string; readonly index: number }[];
  /** Command index of each EXEC Dial. */
  readonly dialIndexes: readonly number[];
  readonly dials: readonly ReplayedDial[];
  /** Breaches the replay itself saw: a Dial for another carrier, a Dial the capture has no attempt for, no close. */
  readonly violations: readonly string[];
  /** What Asterisk would have logged while evaluating the daemon's reads. */
  readonly asteriskLog: readonly LoggedLine[];
  /** Commands outside the contract, answered as res_agi would. */
  readonly unexpected: readonly string[];
  readonly state: ChannelState;
  /** "→ command" / "← reply" lines, for failure messages. */
  readonly transcript: readonly string[];
}

/** Commands res_agi allows on a hung-up channel (`dead` = 1 in commands[], res_agi.c:3911-3958). */
const DEAD_OK = ['exec', 'get full variable', 'get variable', 'set variable', 'noop', 'verbose', 'database'];
const KNOWN = [...DEAD_OK, 'answer', 'hangup', 'channel status'];

const usage = (u: string): string => `520-Invalid command syntax.  Proper usage follows:\nUsage: ${u}\n520 End of proper usage.\n`;

export function replay(plan: ReplayPlan): Promise<ReplayResult> {
  const maxDialMs = plan.maxDialMs ?? 50;
  const commands: string[] = [];
  const sets: { name: string; value: string; index: number }[] = [];
  const dialIndexes: number[] = [];
  const dials: ReplayedDial[] = [];
  const violations: string[] = [];
  const asteriskLog: LoggedLine[] = [];
  const unexpected: string[] = [];
  const transcript: string[] = [];
  let state = plan.initial;

  return new Promise((resolve, reject) => {
    // allowHalfOpen: the daemon half-closes, and Asterisk still writes its last HANGUP after that (fact 13)
    const sock = connect({ port: plan.port, host: '127.0.0.1', allowHalfOpen: true });
    let chain: Promise<void> = Promise.resolve();
    let buf = '';
    let connected = false;
    const write = (text: string): void => {
      transcript.push(...text.split('\n').filter(Boolean).map((l) => `← ${l}`));
      if (!sock.destroyed && sock.writable) sock.write(text);
    };
    const timer = setTimeout(() => {
      violations.push(`the daemon did not close the connection within ${plan.timeoutMs ?? 3000} ms (last command: ${commands.at(-1) ?? 'none'})`);
      sock.destroy();
    }, plan.timeoutMs ?? 3000);

    const dial = async (data: string): Promise<string | null> => {
      const k = dials.length;
      const captured = plan.attempts[k];
      if (!captured) {
        violations.push(`Dial #${k + 1} ${JSON.stringify(data)}: the daemon dialed again: would ring the callee twice (the capture has ${plan.attempts.length} Dial${plan.attempts.length === 1 ? '' : 's'} for it)`);
        const extra = plan.extras[k - plan.attempts.length];
        if (extra) {
          dials.push({ data, attempt: extra, match: `answered from the probe's forced ${extra.label || 'extra Dial'}` });
          state = afterDial(state, extra);
          return `${extra.dialReply}\n`;
        }
        dials.push({ data, attempt: null, match: 'no capture' });
        if (state.hungUp) {
          // "Caller hung up before dial": -1 at once, DIALSTATUS CANCEL, no channel requested (app_dial.c:2488-2503; fact 8)
          state = setVariable(state, 'DIALSTATUS', 'CANCEL');
          return '200 result=-1\n';
        }
        sock.destroy(); // no capture says what this Dial would have done
        return null;
      }
      const m = matchDial(data, plan.number, captured.dial);
      if (!m.ok) violations.push(`Dial #${k + 1} ${m.detail}`);
      dials.push({ data, attempt: captured, match: m.detail });
      await new Promise((r) => setTimeout(r, Math.min(captured.dialSeconds * 1000, maxDialMs)));
      state = afterDial(state, captured);
      // res_agi writes HANGUP between commands once the channel read fails (res_agi.c:4362-4374): right after
      // Dial's reply, before the reply to the next command (answer_caller_hangup, seq_ringout_then_cancel: 1 ms later)
      return captured.hangupAfterDial ? `${captured.dialReply}\nHANGUP\n` : `${captured.dialReply}\n`;
    };

    const answer = async (line: string): Promise<string | null> => {
      const argv = parseArgs(line);
      const words = argv.map((a) => a.toLowerCase());
      const verb = KNOWN.find((k) => words.slice(0, k.split(' ').length).join(' ') === k);
      if (!verb) {
        unexpected.push(line);
        return '510 Invalid or unknown command\n';
      }
      if (state.hungUp && !DEAD_OK.includes(verb)) return '511 Command Not Permitted on a dead channel or intercept routine\n';
      const cmd = commands.length - 1;
      switch (verb) {
        case 'exec': {
          const app = words[1] ?? '';
          if (app === 'dial') {
            dialIndexes.push(cmd);
            return dial(argv[2] ?? '');
          }
          if (app === 'hangupcauseclear') {
            state = clearCauses(state);
            return '200 result=0\n';
          }
          unexpected.push(line);
          return '200 result=-2\n';
        }
        case 'get full variable': {
          if (argv.length < 4) return usage('GET FULL VARIABLE <variablename> [<channel name>]');
          const r = expand(argv[3] ?? '', state);
          asteriskLog.push(...r.log.map((l) => ({ ...l, command: line })));
          // a SET() in the expression sets the variable as SET VARIABLE would (func_logic.c:266-286)
          for (const [name, value] of r.sets ?? []) sets.push({ name, value, index: cmd });
          state = withSets(state, r);
          return `200 result=1 (${r.value})\n`;
        }
        case 'get variable': {
          if (argv.length !== 3) return usage('GET VARIABLE <variablename>');
          const name = argv[2] ?? '';
          if (name.endsWith(')')) {
            const r = lookup(name, state);
            asteriskLog.push(...r.log.map((l) => ({ ...l, command: line })));
            return r.ok ? `200 result=1 (${r.value})\n` : '200 result=0\n';
          }
          if (name === 'HANGUPCAUSE') return `200 result=1 (${state.hangupCause})\n`;
          const v = state.vars.get(name);
          return v === undefined ? '200 result=0\n' : `200 result=1 (${v})\n`;
        }
        case 'set variable': {
          if (argv.length !== 4) return usage('SET VARIABLE <variablename> <value>');
          sets.push({ name: argv[2] ?? '', value: argv[3] ?? '', index: cmd });
          state = setVariable(state, argv[2] ?? '', argv[3] ?? '');
          return '200 result=1\n';
        }
        case 'noop':
          return '200 result=0\n';
        case 'verbose':
          return '200 result=1\n';
        default:
          unexpected.push(line);
          return verb === 'channel status' ? '200 result=6\n' : verb === 'hangup' ? '200 result=1\n' : '200 result=0\n';
      }
    };

    sock.setEncoding('utf8');
    sock.on('connect', () => {
      connected = true;
      transcript.push(`← (header block, ${plan.header.length} bytes)`);
      sock.write(plan.header);
    });
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        chain = chain.then(async () => {
          if (sock.destroyed) return; // a dropped connection answers nothing more
          commands.push(line);
          transcript.push(`→ ${line}`);
          const reply = await answer(line);
          if (reply !== null) write(reply);
        });
      }
    });
    sock.on('end', () => {
      // the daemon half-closed: run_agi() ends and writes one more HANGUP, then closes (res_agi.c:4478-4489; fact 13)
      void chain.then(() => {
        if (buf !== '') violations.push(`the daemon left a command without its newline: ${JSON.stringify(buf)}`);
        if (plan.hangupAfterClose) write('HANGUP\n');
        sock.end();
      });
    });
    sock.on('error', (err) => {
      if (!connected) reject(err);
      // EPIPE/ECONNRESET after the daemon closed fully: Asterisk tolerates it too
    });
    sock.on('close', () => {
      clearTimeout(timer);
      void chain.then(() =>
        resolve({ commands, sets, dialIndexes, dials, violations, asteriskLog, unexpected, state, transcript }),
      );
    });
  });
}
