import type { CarrierConfig } from '../config/types.js';
import { oncePerObject } from '../once-per-object.js';

/**
 * Names the carrier a dialed channel belongs to: `SIP/carrier-primary-00000003` came from
 * `SIP/${number}@carrier-primary`, `IAX2/carrier-c-1234` from `IAX2/carrier-c/${number}`.
 */
export function carrierOfChannel(channel: string, carriers: readonly CarrierConfig[]): CarrierConfig | null {
  for (const c of carriers) {
    for (const prefix of prefixesOf(c)) {
      if (channel.startsWith(prefix)) return c;
    }
  }
  return null;
}

/** `SIP/carrier-primary-`: what the carrier's channels start with, once per config object (a reload makes new ones). */
const prefixesOf = oncePerObject((c: CarrierConfig): readonly string[] => {
  const tech = c.dial.slice(0, c.dial.indexOf('/'));
  return namesOf(c).map((name) => `${tech}/${name}-`);
});

function namesOf(c: CarrierConfig): string[] {
  const names = new Set<string>([c.peer]);
  const rest = c.dial.slice(c.dial.indexOf('/') + 1);
  const at = rest.lastIndexOf('@');
  if (at >= 0) names.add(rest.slice(at + 1));
  else names.add(rest.split('/')[0] ?? '');
  names.delete('');
  names.delete('${number}');
  return [...names];
}
