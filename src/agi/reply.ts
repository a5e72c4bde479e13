import { AgiProtocolError } from './errors.js';

/** A `200 result=…` reply: `result` as sent, its integer value when it is one, the `(data)` part, and trailing key=value pairs. */
export interface AgiReply {
  readonly code: 200;
  readonly result: string;
  readonly resultInt: number | null;
  readonly data: string | null;
  readonly extra: Readonly<Record<string, string>>;
}

/** One unit the reply decoder hands to the channel. */
export type AgiMessage =
  | { readonly kind: 'reply'; readonly reply: AgiReply }
  | { readonly kind: 'hangup' }
  | { readonly kind: 'invalid'; readonly code: 510 | 511 }
  | { readonly kind: 'syntax'; readonly usage: string };

const HEAD = '200 result=';
/** The first whitespace after the result, as `\S*` would end it; global so that lastIndex can start the search. */
const WHITESPACE = /\s/g;
const EXTRA_PAIRS = /^(?: [A-Za-z_]+=\S*)+$/;
const INTEGER = /^-?\d+$/;

/** Parses `200 result=X[ (data)][ key=value…]`; the data may itself hold parentheses and spaces. */
export function parseReply200(line: string): AgiReply {
  if (!line.startsWith(HEAD)) throw new AgiProtocolError(`not a 200 reply: ${JSON.stringify(line.slice(0, 200))}`);
  // every reply of a call passes here: an index search, not a regex with two captures
  WHITESPACE.lastIndex = HEAD.length;
  const end = WHITESPACE.exec(line)?.index ?? line.length;
  const result = line.slice(HEAD.length, end);
  let rest = end < line.length ? line.slice(end) : '';
  let data: string | null = null;
  if (rest.startsWith(' (')) {
    if (rest.endsWith(')')) {
      data = rest.slice(2, -1);
      rest = '';
    } else {
      // data followed by key=value pairs: the data ends at the last ") " after which only pairs follow
      let cut = rest.lastIndexOf(') ');
      while (cut > 0 && !EXTRA_PAIRS.test(rest.slice(cut + 1))) cut = rest.lastIndexOf(') ', cut - 1);
      if (cut > 0) {
        data = rest.slice(2, cut);
        rest = rest.slice(cut + 1);
      } else {
        data = rest.slice(2);
        rest = '';
      }
    }
  }
  const extra: Record<string, string> = {};
  if (rest !== '') {
    for (const pair of rest.trim().split(' ')) {
      const eq = pair.indexOf('=');
      if (eq > 0) extra[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  const resultInt = INTEGER.test(result) ? Number(result) : null;
  return { code: 200, result, resultInt, data, extra };
}

/**
 * Turns reply lines into messages. Stateful only for the multi-line `520-` block,
 * which ends at the first line that starts with `520 `.
 */
export class ReplyDecoder {
  private usage: string[] | null = null;

  /** Returns a message, or null when the line belongs to a 520 block still open. Throws AgiProtocolError on garbage. */
  push(line: string): AgiMessage | null {
    if (this.usage) {
      if (line.startsWith('520 ')) {
        const usage = this.usage.join('\n');
        this.usage = null;
        return { kind: 'syntax', usage };
      }
      if (this.usage.length < 200) this.usage.push(line);
      return null;
    }
    if (line === 'HANGUP') return { kind: 'hangup' };
    if (line.startsWith('200 ')) return { kind: 'reply', reply: parseReply200(line) };
    if (line.startsWith('510 ') || line === '510') return { kind: 'invalid', code: 510 };
    if (line.startsWith('511 ') || line === '511') return { kind: 'invalid', code: 511 };
    if (line.startsWith('520-')) {
      this.usage = [];
      return null;
    }
    if (line.startsWith('520 ') || line === '520') return { kind: 'syntax', usage: '' };
    throw new AgiProtocolError(`unexpected line from Asterisk: ${JSON.stringify(line.slice(0, 200))}`);
  }
}
