import { connect, type Socket } from 'node:net';
import { dialStatusFor, reasonPhrase, type Driver } from './sip-tables.js';

/**
 * Plays Asterisk 20's side of a FastAGI call: connects like res_agi.c's launch_netscript, sends the same header
 * block as the captures, and answers commands with the reply texts res_agi.c sends. Carriers are scripted.
 */

export type Behaviour =
  /** 200 OK; Dial returns -1 when the call ends after talkMs; callerHangsUp adds the HANGUP line after it. */
  | { readonly kind: 'answer'; readonly talkMs?: number; readonly callerHangsUp?: boolean }
  /** A final SIP response; DIALSTATUS and cause follow the carrier's driver (SIP/ = chan_sip, PJSIP/ = pjsip). */
  | { readonly kind: 'reject'; readonly sip: number; readonly afterMs?: number }
  /** 180 Ringing, nobody answers: Dial's own timeout, NOANSWER, cause 0, tech `SIP 180 Ringing`. */
  | { readonly kind: 'ring-no-answer'; readonly afterMs?: number }
  /** Swallows the INVITE: CHANUNAVAIL cause 18 after timer B, no cause record. */
  | { readonly kind: 'blackhole'; readonly afterMs?: number }
  /** Qualify says unreachable: CHANUNAVAIL at once, cause 20 (chan_sip) or 3 (PJSIP), no INVITE, no cause record. */
  | { readonly kind: 'unreachable' }
  /** No ringing or early media within the progress timeout: CHANUNAVAIL, cause 0. */
  | { readonly kind: 'no-progress'; readonly afterMs?: number }
  /** Dead carrier with qualify=no where the CONGESTION timer wins the race: CONGESTION, cause 0. */
  | { readonly kind: 'congestion-no-code'; readonly afterMs?: number }
  /** The caller hangs up while it rings: `200 result=-1`, then `HANGUP`; DIALSTATUS CANCEL. */
  | { readonly kind: 'caller-hangup'; readonly afterMs?: number };

export interface SimCallOptions {
  readonly port: number;
  readonly host?: string;
  readonly script?: string;
  readonly args?: readonly string[];
  readonly extension?: string;
  readonly uniqueid?: string;
  readonly callerId?: string;
  readonly callerIdName?: string;
  /** Keyed by the carrier's Asterisk name in the Dial string (`...@carrier-primary`, `IAX2/carrier-c/...`). A list plays in turn per Dial. */
  readonly carriers: Readonly<Record<string, Behaviour | readonly Behaviour[]>>;
  /** Send `HANGUP` after the reply to the Nth command (0 = right after the header block). */
  readonly hangupAfterCommand?: number;
  /** Reply to the Nth command (1-based) with these raw bytes instead of the real reply. */
  readonly rawReplies?: Readonly<Record<number, string>>;
  /** Split every reply into two TCP segments. */
  readonly splitReplies?: boolean;
  /** Close the socket from Asterisk's side after the reply to the Nth command (as if Asterisk died). */
  readonly dropAfterCommand?: number;
  /** Close the socket from Asterisk's side after this many ms, whatever is pending. */
  readonly maxCallMs?: number;
}

export interface SimCallResult {
  readonly commands: string[];
  /** The data of every EXEC Dial that placed a call, as Asterisk's parse_args() read it. */
  readonly dials: string[];
  /** EXEC Dial received after the caller hung up: app_dial places no call for these. */
  readonly deadDials: string[];
  readonly vars: Map<string, string>;
  readonly hangupSent: boolean;
  readonly durationMs: number;
  /** ms from connect until the daemon's side closed the socket (Asterisk would see the AGI end here). */
  readonly closedAfterMs: number;
}

export function header(opts: Pick<SimCallOptions, 'script' | 'args' | 'extension' | 'uniqueid' | 'callerId' | 'callerIdName' | 'port'>): string {
  const script = opts.script ?? 'outbound-failover';
  const ext = opts.extension ?? '15552345678';
  const lines = [
    'agi_network: yes',
    ...(script ? [`agi_network_script: ${script}`] : []),
    `agi_request: agi://127.0.0.1:${opts.port}/${script}`,
    `agi_channel: Local/${ext}@outbound-failover-00000005;2`,
    'agi_language: en',
    'agi_type: Local',
    `agi_uniqueid: ${opts.uniqueid ?? '1795412731.14'}`,
    'agi_version: GIT-20-516d2c60ac',
    `agi_callerid: ${opts.callerId ?? '5550000'}`,
    `agi_calleridname: ${opts.callerIdName ?? 'Lab'}`,
    'agi_callingpres: 0',
    'agi_callingani2: 0',
    'agi_callington: 0',
    'agi_callingtns: 0',
    'agi_dnid: unknown',
    'agi_rdnis: unknown',
    'agi_context: outbound-failover',
    `agi_extension: ${ext}`,
    'agi_priority: 2',
    'agi_enhanced: 0.0',
    'agi_accountcode: ',
    'agi_threadid: 140472248538816',
    ...(opts.args ?? []).map((a, i) => `agi_arg_${i + 1}: ${a}`),
  ];
  return `${lines.join('\n')}\n\n`;
}

/** res_agi.c parse_args(): split on space/tab, double quotes group, backslash escapes the next character. */
export function parseArgs(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  let escaped = false;
  let have = false;
  for (const ch of line) {
    if (escaped) {
      cur += ch;
      escaped = false;
      have = true;
    } else if (ch === '\\') {
      escaped = true;
    } else if (ch === '"') {
      inQuote = !inQuote;
      have = true;
    } else if (!inQuote && (ch === ' ' || ch === '\t')) {
      if (have) out.push(cur);
      cur = '';
      have = false;
    } else {
      cur += ch;
      have = true;
    }
  }
  if (have) out.push(cur);
  return out;
}

/** Expands `${VAR}` and `${FUNC(args)}` with nesting, as GET FULL VARIABLE does, for the functions the daemon reads. */
export function expand(expr: string, vars: Map<string, string>, causes: Map<string, string>): string {
  let out = '';
  let i = 0;
  while (i < expr.length) {
    if (expr[i] === '$' && expr[i + 1] === '{') {
      let depth = 1;
      let j = i + 2;
      while (j < expr.length && depth > 0) {
        if (expr[j] === '$' && expr[j + 1] === '{') {
          depth++;
          j += 2;
          continue;
        }
        if (expr[j] === '}') depth--;
        j++;
      }
      const inner = expand(expr.slice(i + 2, j - 1), vars, causes);
      out += evaluate(inner, vars, causes);
      i = j;
    } else {
      out += expr[i];
      i++;
    }
  }
  return out;
}

function evaluate(name: string, vars: Map<string, string>, causes: Map<string, string>): string {
  const fn = /^([A-Z_]+)\((.*)\)$/.exec(name);
  if (!fn) return vars.get(name) ?? '';
  const [, f, argText = ''] = fn;
  if (f === 'HANGUPCAUSE_KEYS') return [...causes.keys()].join(',');
  if (f === 'HANGUPCAUSE') {
    const args = argText.split(',');
    if (args.length !== 2) return ''; // "The HANGUPCAUSE function must have 2 parameters"
    const tech = causes.get(args[0] ?? '');
    if (tech === undefined) return '';
    return args[1] === 'tech' ? tech : '';
  }
  return '';
}

interface Leg {
  readonly channel: string;
  readonly carrier: string;
  readonly driver: Driver;
}

function parseLegs(dialData: string, counter: { n: number }): Leg[] {
  const chans = (dialData.split(',')[0] ?? '').split('&');
  return chans.map((ch) => {
    const slash = ch.indexOf('/');
    const tech = ch.slice(0, slash);
    const rest = ch.slice(slash + 1);
    const at = rest.lastIndexOf('@');
    const carrier = at >= 0 ? rest.slice(at + 1) : (rest.split('/')[0] ?? '');
    counter.n++;
    const driver: Driver = tech === 'PJSIP' ? 'pjsip' : tech === 'IAX2' ? 'iax2' : 'chan_sip';
    return { channel: `${tech}/${carrier}-${counter.n.toString(16).padStart(8, '0')}`, carrier, driver };
  });
}

interface LegResult {
  status: string;
  cause: number;
  tech: string | null;
  delay: number;
  answered: boolean;
  talkMs: number;
  callerHangsUp: boolean;
  callerHangupDuringDial: boolean;
}

function playLeg(leg: Leg, b: Behaviour): LegResult {
  const base = { answered: false, talkMs: 0, callerHangsUp: false, callerHangupDuringDial: false };
  switch (b.kind) {
    case 'answer':
      return { ...base, status: 'ANSWER', cause: 16, tech: 'SIP 200 OK', delay: 0, answered: true, talkMs: b.talkMs ?? 0, callerHangsUp: b.callerHangsUp ?? false };
    case 'reject': {
      const { dialStatus, cause } = dialStatusFor(b.sip, leg.driver);
      return { ...base, status: dialStatus, cause, tech: leg.driver === 'iax2' ? null : `SIP ${b.sip} ${reasonPhrase(b.sip)}`, delay: b.afterMs ?? 0 };
    }
    case 'ring-no-answer':
      return { ...base, status: 'NOANSWER', cause: 0, tech: 'SIP 180 Ringing', delay: b.afterMs ?? 0 };
    case 'blackhole':
      return { ...base, status: 'CHANUNAVAIL', cause: 18, tech: null, delay: b.afterMs ?? 0 };
    case 'unreachable':
      return { ...base, status: 'CHANUNAVAIL', cause: leg.driver === 'pjsip' ? 3 : 20, tech: null, delay: 0 };
    case 'no-progress':
      return { ...base, status: 'CHANUNAVAIL', cause: 0, tech: null, delay: b.afterMs ?? 0 };
    case 'congestion-no-code':
      return { ...base, status: 'CONGESTION', cause: 0, tech: null, delay: b.afterMs ?? 0 };
    case 'caller-hangup':
      return { ...base, status: 'CANCEL', cause: 16, tech: 'SIP 180 Ringing', delay: b.afterMs ?? 0, callerHangupDuringDial: true };
  }
}

const DEAD_OK = /^(exec|get full variable|get variable|set variable|noop|verbose|database)\b/i;
const KNOWN = /^(exec|get full variable|get variable|set variable|noop|verbose|answer|hangup|database|channel status)\b/i;

/** One simulated call against the daemon; resolves when the daemon closes the connection. */
export function simulateCall(opts: SimCallOptions): Promise<SimCallResult> {
  const started = Date.now();
  const vars = new Map<string, string>();
  const causes = new Map<string, string>();
  const commands: string[] = [];
  const dials: string[] = [];
  const deadDials: string[] = [];
  const perCarrier = new Map<string, number>();
  const counter = { n: 2 };
  let hungUp = false;
  let hangupSent = false;
  return new Promise((resolve, reject) => {
    const sock: Socket = connect(opts.port, opts.host ?? '127.0.0.1');
    let buf = '';
    let busy = Promise.resolve();
    const write = async (text: string): Promise<void> => {
      if (sock.destroyed) return;
      if (opts.splitReplies && text.length > 3) {
        const cut = Math.floor(text.length / 2);
        sock.write(text.slice(0, cut));
        await new Promise((r) => setTimeout(r, 5));
        if (!sock.destroyed) sock.write(text.slice(cut));
      } else sock.write(text);
    };
    const sendHangup = async (): Promise<void> => {
      hungUp = true;
      hangupSent = true;
      await write('HANGUP\n');
    };
    const behaviourFor = (carrier: string): Behaviour => {
      const b = opts.carriers[carrier];
      if (!b) return { kind: 'unreachable' };
      if (!Array.isArray(b)) return b as Behaviour;
      const n = perCarrier.get(carrier) ?? 0;
      perCarrier.set(carrier, n + 1);
      return (b as readonly Behaviour[])[Math.min(n, (b as readonly Behaviour[]).length - 1)] as Behaviour;
    };
    const runDial = async (data: string): Promise<string> => {
      if (hungUp) {
        // app_dial: "Caller hung up before dial." DIALSTATUS=CANCEL, -1, no channel is requested
        deadDials.push(data);
        vars.set('DIALSTATUS', 'CANCEL');
        return '200 result=-1\n';
      }
      dials.push(data);
      const legs = parseLegs(data, counter);
      const results = legs.map((leg) => ({ leg, r: playLeg(leg, behaviourFor(leg.carrier)) }));
      const winner = results.find((x) => x.r.answered);
      const delay = winner ? winner.r.talkMs : Math.max(0, ...results.map((x) => x.r.delay));
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      for (const { leg, r } of results) if (r.tech !== null) causes.set(leg.channel, r.tech);
      let status: string;
      let cause: number;
      if (winner) {
        status = 'ANSWER';
        cause = 16;
        vars.set('DIALEDTIME', String(Math.round(delay / 1000)));
        vars.set('ANSWEREDTIME', String(Math.round(winner.r.talkMs / 1000)));
        vars.set('DIALEDPEERNUMBER', winner.leg.channel);
      } else {
        const hang = results.find((x) => x.r.callerHangupDuringDial);
        const busy = results.filter((x) => x.r.status === 'BUSY').length;
        const cong = results.filter((x) => x.r.status === 'CONGESTION').length;
        const nochan = results.filter((x) => x.r.status === 'CHANUNAVAIL').length;
        status = hang ? 'CANCEL' : busy ? 'BUSY' : cong ? 'CONGESTION' : nochan ? 'CHANUNAVAIL' : 'NOANSWER';
        cause = (results[results.length - 1]?.r.cause ?? 0);
        vars.set('DIALEDTIME', String(Math.round(delay / 1000)));
        vars.set('ANSWEREDTIME', '');
      }
      vars.set('DIALSTATUS', status);
      vars.set('HANGUPCAUSE', String(cause));
      const callerGone = results.some((x) => x.r.callerHangupDuringDial) || (winner?.r.callerHangsUp ?? false);
      if (callerGone) {
        await write('200 result=-1\n');
        await sendHangup();
        return '';
      }
      return winner ? '200 result=-1\n' : '200 result=0\n';
    };
    const answer = async (line: string): Promise<string> => {
      const argv = parseArgs(line);
      const verb = (argv[0] ?? '').toLowerCase();
      if (!KNOWN.test(line)) return '510 Invalid or unknown command\n';
      if (hungUp && !DEAD_OK.test(line)) return '511 Command Not Permitted on a dead channel or intercept routine\n';
      if (verb === 'exec') {
        const app = argv[1] ?? '';
        if (app.toLowerCase() === 'dial') return runDial(argv[2] ?? '');
        if (app.toLowerCase() === 'hangupcauseclear') {
          causes.clear();
          return '200 result=0\n';
        }
        return '200 result=-2\n';
      }
      const words = argv.map((a) => a.toLowerCase());
      if (words[0] === 'get' && words[1] === 'full' && words[2] === 'variable') {
        if (argv.length < 4) return '520-Invalid command syntax.  Proper usage follows:\nUsage: GET FULL VARIABLE <variablename> [<channel name>]\n520 End of proper usage.\n';
        return `200 result=1 (${expand(argv[3] ?? '', vars, causes)})\n`;
      }
      if (words[0] === 'get' && words[1] === 'variable') {
        const v = vars.get(argv[2] ?? '');
        return v === undefined ? '200 result=0\n' : `200 result=1 (${v})\n`;
      }
      if (words[0] === 'set' && words[1] === 'variable') {
        if (argv.length !== 4) return '520-Invalid command syntax.  Proper usage follows:\nUsage: SET VARIABLE <variablename> <value>\n520 End of proper usage.\n';
        vars.set(argv[2] ?? '', argv[3] ?? '');
        return '200 result=1\n';
      }
      return '200 result=0\n';
    };
    const onLine = async (line: string): Promise<void> => {
      commands.push(line);
      const n = commands.length;
      const raw = opts.rawReplies?.[n];
      const reply = raw !== undefined ? raw : await answer(line);
      if (reply) await write(reply);
      if (opts.hangupAfterCommand === n && !hungUp) await sendHangup();
      if (opts.dropAfterCommand === n) sock.destroy();
    };
    sock.setEncoding('utf8');
    if (opts.maxCallMs !== undefined) setTimeout(() => sock.destroy(), opts.maxCallMs).unref();
    sock.on('connect', () => {
      void (async () => {
        await write(header({ ...opts, port: opts.port }));
        if (opts.hangupAfterCommand === 0) await sendHangup();
      })();
    });
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        busy = busy.then(() => onLine(line));
      }
    });
    sock.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') reject(err);
    });
    let closedAfterMs = -1;
    sock.on('end', () => {
      if (closedAfterMs < 0) closedAfterMs = Date.now() - started;
    });
    sock.on('close', () => {
      if (closedAfterMs < 0) closedAfterMs = Date.now() - started;
      void busy.then(() => resolve({ commands, dials, deadDials, vars, hangupSent, durationMs: Date.now() - started, closedAfterMs }));
    });
  });
}
