import type { CarrierConfig } from '../config/types.js';

/**
 * Names the carrier a dialed channel belongs to: `SIP/carrier-primary-00000003` came from
 * `SIP/${number}@carrier-primary`, `IAX2/carrier-c-1234` from `IAX2/carrier-c/${number}`.
 */
export function carrierOfChannel(channel: string, carriers: readonly CarrierConfig[]): CarrierConfig | null {
  for (const c of carriers) {
    const tech = c.dial.slice(0, c.dial.indexOf('/'));
    for (const name of namesOf(c)) {
      if (channel.startsWith(`${tech}/${name}-`)) return c;
    }
  }
  return null;
}

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
