import type { AttemptRecord } from '../../src/calls/records.js';
import type { RunConnection } from './case-runs.js';
import type { ReplayResult } from './replay-asterisk.js';

/** The SET VARIABLEs that end a call, in the contract's order (contract, AGI commands 4). */
export const FINAL_SETS = ['FAILOVER_STATUS', 'FAILOVER_CARRIER', 'FAILOVER_ATTEMPTS', 'FAILOVER_CAUSE', 'DIALSTATUS'] as const;

const show = (v: string | undefined): string => (v === undefined ? 'not set' : JSON.stringify(v));

/** The daemon's records per Dial: consecutive records of one Dial string (a simultaneous Dial has one per leg). */
export function recordsPerDial(records: readonly AttemptRecord[]): AttemptRecord[][] {
  const groups: AttemptRecord[][] = [];
  for (const r of records) {
    if (r.verdict === 'skipped' || r.dialString === '') continue;
    const last = groups.at(-1);
    if (last && last[0]?.dialString === r.dialString) last.push(r);
    else groups.push([r]);
  }
  return groups;
}

/**
 * Every way one connection's replay differs from what the contract says about the capture, one readable line each
 * (an empty list means it conforms).
 */
export function checkConnection(c: RunConnection, r: ReplayResult, records: readonly AttemptRecord[]): string[] {
  const e = c.expected;
  const out: string[] = [...r.violations];
  if (r.dials.length !== e.verdicts.length) {
    out.push(`Dials: expected ${e.verdicts.length}, got ${r.dials.length}${r.dials.length ? `: ${r.dials.map((d) => JSON.stringify(d.data)).join(', ')}` : ''}`);
  }
  const firstDial = r.dialIndexes[0];
  if (e.verdicts.length > 0) {
    const dialing = r.sets.find((s) => s.name === 'FAILOVER_STATUS' && s.value === 'DIALING');
    if (!dialing) out.push('FAILOVER_STATUS "DIALING": never set (must be set before the first Dial)');
    else if (firstDial !== undefined && dialing.index > firstDial) out.push('FAILOVER_STATUS "DIALING": set after the first Dial, not before it');
  }
  const perDial = recordsPerDial(records);
  e.verdicts.forEach((want, i) => {
    const got = perDial[i]?.map((x) => x.verdict) ?? [];
    if (got.length === 0) out.push(`attempt ${i + 1} verdict: expected ${want}, got no record`);
    else if (got.some((g) => g !== want)) out.push(`attempt ${i + 1} verdict: expected ${want}, got ${got.join(' & ')} (${perDial[i]?.map((x) => `${x.carrier}: ${x.reason}`).join('; ')})`);
  });
  for (const extra of perDial.slice(e.verdicts.length)) out.push(`a record for a Dial beyond the expected ones: ${extra.map((x) => `${x.carrier} ${x.verdict}`).join(' & ')}`);
  const last = (name: string): string | undefined => [...r.sets].reverse().find((s) => s.name === name)?.value;
  const want: [string, string][] = [
    ['FAILOVER_STATUS', e.status],
    ['FAILOVER_CAUSE', e.cause],
    ['DIALSTATUS', e.dialStatus],
    ['FAILOVER_ATTEMPTS', String(e.verdicts.length)],
  ];
  if (c.carrier !== null) want.push(['FAILOVER_CARRIER', c.carrier]);
  for (const [name, value] of want) {
    const got = last(name);
    if (got !== value) out.push(`${name}: expected ${JSON.stringify(value)}, got ${show(got)}`);
  }
  const closing = r.sets.filter((s) => firstDial === undefined || s.index > (r.dialIndexes.at(-1) ?? 0)).map((s) => s.name);
  if (closing.join(',') !== FINAL_SETS.join(',')) out.push(`final SET VARIABLEs: expected ${FINAL_SETS.join(', ')} in that order, got ${closing.join(', ') || 'none'}`);
  for (const l of r.asteriskLog) out.push(`Asterisk would log ${l.level} "${l.text}" (after ${l.command})`);
  return out;
}
