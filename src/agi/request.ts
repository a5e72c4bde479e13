import { ownString } from '../own-string.js';
import { AgiProtocolError } from './errors.js';

/** The header block Asterisk sends at connect, parsed once (res_agi.c launch_netscript + setup_env). */
export interface AgiRequest {
  readonly network: boolean;
  /** Script path without leading `/` or query string, e.g. `outbound-failover`: what selects the route. */
  readonly script: string;
  /** Query parameters of the script path (`outbound-failover?route=x`). */
  readonly params: ReadonlyMap<string, string>;
  readonly request: string;
  readonly channel: string;
  readonly language: string;
  readonly type: string;
  readonly uniqueid: string;
  readonly version: string;
  readonly callerId: string;
  readonly callerIdName: string;
  readonly dnid: string;
  readonly rdnis: string;
  readonly context: string;
  readonly extension: string;
  readonly priority: string;
  readonly accountCode: string;
  readonly threadId: string;
  /** agi_arg_1 … agi_arg_N, in order. */
  readonly args: readonly string[];
  /** VICIdial's 20-character caller code (`V`/`M`/`Y` + MDDhhmmss + lead id), when the call carries one. */
  readonly callerCode: string | null;
  readonly leadId: number | null;
}

/** Splits on the first `": "` only: values such as `agi://127.0.0.1:4573/x` or `sip:alice@example.com` hold colons. */
export function parseHeaderLine(line: string): [string, string] {
  const sep = line.indexOf(': ');
  if (sep > 0) return [line.slice(0, sep), line.slice(sep + 2)];
  if (line.endsWith(':') && line.length > 1) return [line.slice(0, -1), ''];
  throw new AgiProtocolError(`malformed AGI header line: ${JSON.stringify(line.slice(0, 200))}`);
}

const CALLER_CODE = /^[VMY]\d{19}$/;

/** VICIdial puts lead_id in characters 10-19 of the caller code (FastAGI_log.pl: substr(code,10,10)+0). */
export function parseCallerCode(...candidates: string[]): { callerCode: string | null; leadId: number | null } {
  for (const c of candidates) {
    const v = c.trim();
    if (CALLER_CODE.test(v)) return { callerCode: v, leadId: Number(v.slice(10)) };
  }
  return { callerCode: null, leadId: null };
}

/** Most AGI URLs carry no query: they share this one, instead of an empty Map per call. */
const NO_PARAMS: ReadonlyMap<string, string> = new Map();

function scriptFrom(networkScript: string | undefined, request: string): { script: string; params: ReadonlyMap<string, string> } {
  let raw = networkScript;
  if (raw === undefined) {
    // agi_network_script is absent when the path is empty; fall back to the URL in agi_request
    const m = /^[a-z]+:\/\/[^/]*\/?(.*)$/i.exec(request);
    raw = m?.[1] ?? '';
  }
  const q = raw.indexOf('?');
  const path = (q >= 0 ? raw.slice(0, q) : raw).replace(/^\/+|\/+$/g, '');
  if (q < 0) return { script: ownString(path), params: NO_PARAMS };
  const params = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(raw.slice(q + 1))) params.set(k, ownString(v));
  return { script: ownString(path), params };
}

/** The header lines parseRequest keeps, by name; a name seen twice keeps its last value, as a Map would. */
interface HeaderFields {
  request?: string;
  network?: string;
  networkScript?: string;
  channel?: string;
  language?: string;
  type?: string;
  uniqueid?: string;
  version?: string;
  callerId?: string;
  callerIdName?: string;
  dnid?: string;
  rdnis?: string;
  context?: string;
  extension?: string;
  priority?: string;
  accountCode?: string;
  threadId?: string;
}

/** Arguments past this are not read: a bound, so a hostile header line cannot size the array (a dialplan passes a few). */
const MAX_ARGS = 1024;

/** One header line into `f` or `args`; unknown names are skipped. A switch, not a Map: each line's key is a fresh string, which a Map would hash. */
function take(f: HeaderFields, args: (string | undefined)[], key: string, v: string): void {
  switch (key) {
    case 'agi_request': f.request = v; return;
    case 'agi_network': f.network = v; return;
    case 'agi_network_script': f.networkScript = v; return;
    case 'agi_channel': f.channel = v; return;
    case 'agi_language': f.language = v; return;
    case 'agi_type': f.type = v; return;
    case 'agi_uniqueid': f.uniqueid = v; return;
    case 'agi_version': f.version = v; return;
    case 'agi_callerid': f.callerId = v; return;
    case 'agi_calleridname': f.callerIdName = v; return;
    case 'agi_dnid': f.dnid = v; return;
    case 'agi_rdnis': f.rdnis = v; return;
    case 'agi_context': f.context = v; return;
    case 'agi_extension': f.extension = v; return;
    case 'agi_priority': f.priority = v; return;
    case 'agi_accountcode': f.accountCode = v; return;
    case 'agi_threadid': f.threadId = v; return;
  }
  if (!key.startsWith('agi_arg_')) return;
  const n = Number(key.slice(8));
  // `agi_arg_01` is not `agi_arg_1`: the name must be the number written plainly
  if (Number.isInteger(n) && n >= 1 && n <= MAX_ARGS && String(n) === key.slice(8)) args[n - 1] = v;
}

/**
 * The fields a call uses, each its own string: the header lines are dropped once parsed, so a call held in Dial
 * keeps neither them nor the chunk they were cut from.
 */
export function parseRequest(lines: readonly string[]): AgiRequest {
  const f: HeaderFields = {};
  const given: (string | undefined)[] = [];
  for (const line of lines) {
    const sep = line.indexOf(': ');
    if (sep > 0) take(f, given, line.slice(0, sep), line.slice(sep + 2));
    else {
      const [k, v] = parseHeaderLine(line);
      take(f, given, k, v);
    }
  }
  if (f.request === undefined && f.network === undefined) {
    throw new AgiProtocolError('header block has neither agi_request nor agi_network');
  }
  // agi_arg_1, agi_arg_2, … up to the first one missing
  const args: string[] = [];
  for (const a of given) {
    if (a === undefined) break;
    args.push(ownString(a));
  }
  const own = (v: string | undefined): string => (v === undefined ? '' : ownString(v));
  const request = own(f.request);
  const { script, params } = scriptFrom(f.networkScript, request);
  const callerId = own(f.callerId);
  const callerIdName = own(f.callerIdName);
  const { callerCode, leadId } = parseCallerCode(callerIdName, callerId);
  return {
    network: f.network === 'yes',
    script,
    params,
    request,
    channel: own(f.channel),
    language: own(f.language),
    type: own(f.type),
    uniqueid: own(f.uniqueid),
    version: own(f.version),
    callerId,
    callerIdName,
    dnid: own(f.dnid),
    rdnis: own(f.rdnis),
    context: own(f.context),
    extension: own(f.extension),
    priority: own(f.priority),
    accountCode: own(f.accountCode),
    threadId: own(f.threadId),
    args,
    callerCode,
    leadId,
  };
}
