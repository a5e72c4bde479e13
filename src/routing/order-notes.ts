import type { PlannedTarget } from './plan.js';

/**
 * The trace a reordered carrier leaves on its rows (order_reason): a demoted one says why, one moved ahead says
 * ahead of which; a carrier whose place did not change has none.
 */
export function orderNotes(before: readonly PlannedTarget[], after: readonly PlannedTarget[], why: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  after.forEach((t, i) => {
    const name = t.carrier.name;
    const r = why.get(name);
    if (r !== undefined) out.set(name, `demoted: ${r}`);
    else if (before[i]?.carrier.name !== name) {
      const passed = before.slice(0, before.findIndex((b) => b.carrier.name === name)).filter((b) => why.has(b.carrier.name)).map((b) => b.carrier.name);
      out.set(name, `moved ahead of demoted ${passed.join(', ')}`);
    }
  });
  return out;
}
