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

/**
 * The fields a call uses, each its own string: the header lines and their Map are dropped once parsed, so a call
 * held in Dial keeps neither them nor the chunk they were cut from.
 */
export function parseRequest(lines: readonly string[]): AgiRequest {
  const headers = new Map<string, string>();
  for (const line of lines) {
    const [k, v] = parseHeaderLine(line);
    headers.set(k, v);
  }
  if (!headers.has('agi_request') && !headers.has('agi_network')) {
    throw new AgiProtocolError('header block has neither agi_request nor agi_network');
  }
  const args: string[] = [];
  for (let i = 1; headers.has(`agi_arg_${i}`); i++) args.push(ownString(headers.get(`agi_arg_${i}`) ?? ''));
  const h = (k: string): string => ownString(headers.get(k) ?? '');
  const request = h('agi_request');
  const { script, params } = scriptFrom(headers.get('agi_network_script'), request);
  const { callerCode, leadId } = parseCallerCode(h('agi_calleridname'), h('agi_callerid'));
  return {
    network: h('agi_network') === 'yes',
    script,
    params,
    request,
    channel: h('agi_channel'),
    language: h('agi_language'),
    type: h('agi_type'),
    uniqueid: h('agi_uniqueid'),
    version: h('agi_version'),
    callerId: h('agi_callerid'),
    callerIdName: h('agi_calleridname'),
    dnid: h('agi_dnid'),
    rdnis: h('agi_rdnis'),
    context: h('agi_context'),
    extension: h('agi_extension'),
    priority: h('agi_priority'),
    accountCode: h('agi_accountcode'),
    threadId: h('agi_threadid'),
    args,
    callerCode,
    leadId,
  };
}
