import type { CarrierConfig } from '../config/types.js';

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

// a carrier's config object is replaced, never changed, on a reload: its channel prefixes are worked out once per object
const prefixes = new WeakMap<CarrierConfig, readonly string[]>();

function prefixesOf(c: CarrierConfig): readonly string[] {
  let p = prefixes.get(c);
  if (p === undefined) {
    const tech = c.dial.slice(0, c.dial.indexOf('/'));
    p = namesOf(c).map((name) => `${tech}/${name}-`);
    prefixes.set(c, p);
  }
  return p;
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
