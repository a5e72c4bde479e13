/**
 * What Asterisk 20 does with each SIP final response, per channel driver, as the wire reference records it
 * (hangup_sip2cause / ast_sip_hangup_sip2cause, chan_sip handle_response, app_dial handle_cause).
 */
export type Driver = 'chan_sip' | 'pjsip' | 'iax2';

const REASONS: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 183: 'Session Progress', 200: 'OK', 302: 'Moved Temporarily', 400: 'Bad Request', 401: 'Unauthorized',
  402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found', 407: 'Proxy Authentication Required', 408: 'Request Timeout', 410: 'Gone',
  480: 'Temporarily Unavailable', 483: 'Too Many Hops', 484: 'Address Incomplete', 486: 'Busy Here', 487: 'Request Terminated',
  415: 'Unsupported Media Type', 420: 'Bad Extension', 421: 'Extension Required', 481: 'Call/Transaction Does Not Exist',
  488: 'Not Acceptable Here', 491: 'Request Pending', 493: 'Undecipherable', 500: 'Server Internal Error', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Server Time-out', 600: 'Busy Everywhere', 603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
};

export function reasonPhrase(code: number): string {
  return REASONS[code] ?? 'Unknown';
}

/** SIP → Q.850, identical in both drivers except 302 (PJSIP only). */
export function sip2cause(code: number, driver: Driver): number {
  const table: Record<number, number> = {
    401: 21, 403: 21, 404: 1, 405: 127, 407: 21, 408: 18, 409: 41, 410: 22, 411: 127, 413: 127, 414: 127, 415: 127,
    420: 3, 480: 19, 481: 127, 482: 127, 483: 19, 484: 28, 485: 1, 486: 17, 487: 127, 488: 58, 491: 127, 493: 127,
    500: 38, 501: 29, 502: 27, 503: 34, 504: 102, 505: 127, 600: 17, 603: 21, 604: 1, 606: 58,
  };
  if (code === 302 && driver === 'pjsip') return 23;
  const c = table[code];
  if (c !== undefined) return c;
  if (code >= 400 && code < 500) return 127;
  if (code >= 500 && code < 600) return 34;
  if (code >= 600 && code < 700) return 127;
  return 16;
}

/** app_dial's handle_cause over one failed leg. */
export function dialStatusFromCause(cause: number): 'BUSY' | 'CONGESTION' | 'CHANUNAVAIL' | 'NOANSWER' {
  if (cause === 17) return 'BUSY';
  if (cause === 34) return 'CONGESTION';
  if (cause === 16 || cause === 19) return 'NOANSWER';
  return 'CHANUNAVAIL';
}

export function dialStatusFor(code: number, driver: Driver): { dialStatus: string; cause: number } {
  const cause = sip2cause(code, driver);
  if (driver === 'chan_sip') {
    if ([486, 600, 603, 300, 301, 302, 305, 480].includes(code)) return { dialStatus: 'BUSY', cause: code === 302 ? 16 : cause };
    // 401/407 that chan_sip cannot answer end as CONGESTION/21 (multi/sip_401_*, sip_407_*)
    if ([401, 407, 410, 482, 500, 502, 503, 504].includes(code)) return { dialStatus: 'CONGESTION', cause };
    if (code === 487) return { dialStatus: 'NOANSWER', cause: 16 };
    if (code === 483) return { dialStatus: 'NOANSWER', cause: 19 };
    if (code >= 500 && code < 600) return { dialStatus: 'CONGESTION', cause: 34 };
    return { dialStatus: 'CHANUNAVAIL', cause };
  }
  return { dialStatus: dialStatusFromCause(cause), cause };
}
