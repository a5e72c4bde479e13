import type { CarrierConfig } from '../config/types.js';
import { SAFE_NUMBER } from './number.js';

const TECHS = ['SIP', 'PJSIP', 'IAX2', 'DAHDI', 'Local', 'Motif', 'unistim', 'Skinny'];

/** One Asterisk channel: TECH/resource with no Dial separators (`&` adds a channel, `,` starts Dial's arguments). */
const TEMPLATE = new RegExp(`^(?:${TECHS.join('|')})/[A-Za-z0-9_.@:/+\\-]*\\$\\{number\\}[A-Za-z0-9_.@:/+\\-]*$`);

/** Returns a reason the template is unsafe or not one channel, or null when it is fine. */
export function checkDialTemplate(template: string): string | null {
  const count = template.split('${number}').length - 1;
  if (count !== 1) return `must hold \${number} exactly once (found ${count})`;
  if (!TEMPLATE.test(template)) {
    return `must be one Asterisk channel such as SIP/\${number}@peer, PJSIP/\${number}@endpoint or IAX2/peer/\${number} (technology one of ${TECHS.join(', ')}; no &, comma, space, quote or other dialplan characters)`;
  }
  return null;
}

/** Dial options are letters with optional (args) and ^; no comma, which would end Dial's option field. */
export const SAFE_DIAL_OPTIONS = /^[A-Za-z0-9()^:]*$/;

/** Builds the channel part of a Dial; the number must already be normalized, and is checked again here. */
export function buildChannel(carrier: Pick<CarrierConfig, 'dial'>, number: string): string {
  if (!SAFE_NUMBER.test(number)) throw new Error(`refusing to build a Dial string from ${JSON.stringify(number)}`);
  return carrier.dial.replace('${number}', number);
}

/** `<channel>[&<channel>…],<ring>^<progress>,<options>`: the data of one `EXEC Dial`. */
export function buildDialData(channels: readonly string[], ringTimeout: number, progressTimeout: number, options: string): string {
  if (!SAFE_DIAL_OPTIONS.test(options)) throw new Error(`refusing Dial options ${JSON.stringify(options)}`);
  const timeout = progressTimeout > 0 ? `${ringTimeout}^${progressTimeout}` : `${ringTimeout}`;
  return `${channels.join('&')},${timeout},${options}`;
}
