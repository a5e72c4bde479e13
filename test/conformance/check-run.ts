import type { AttemptRecord } from '../../src/calls/records.js';
import type { RunConnection } from './case-runs.js';
import type { ReplayResult } from './replay-asterisk.js';

/** The result variables that end a call, in the contract's order (contract, AGI commands 4), whether by SET VARIABLE or SET(). */
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

const msOrNull = (v: string | undefined): number | null => (v === undefined || !/^\d+$/.test(v) ? null : Number(v));

/**
 * Each Dial's records carry the timers Asterisk left after it, as served from the capture: RINGTIME_MS and
 * PROGRESSTIME_MS as they were, the post-dial delay the earlier of the two, and for an answered Dial the talk time
 * ANSWEREDTIME_MS (app_dial.c:1253, :1600, :1634, :2318).
 */
export function timingProblems(r: ReplayResult, perDial: readonly (readonly AttemptRecord[])[]): string[] {
  const out: string[] = [];
  r.dials.forEach((d, i) => {
    if (!d.attempt) return;
    const ring = msOrNull(d.attempt.vars['RINGTIME_MS']);
    const progress = msOrNull(d.attempt.vars['PROGRESSTIME_MS']);
    const alerts = [ring, progress].filter((x): x is number => x !== null);
    const want = { pddMs: alerts.length ? Math.min(...alerts) : null, ringtimeMs: ring, progresstimeMs: progress };
    for (const rec of perDial[i] ?? []) {
      const got = { pddMs: rec.pddMs ?? null, ringtimeMs: rec.ringtimeMs ?? null, progresstimeMs: rec.progresstimeMs ?? null };
      if (JSON.stringify(got) !== JSON.stringify(want)) out.push(`attempt ${i + 1} timers: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
      const talk = msOrNull(d.attempt.vars['ANSWEREDTIME_MS']);
      if (rec.verdict === 'answered' && rec.talkMs !== talk) out.push(`attempt ${i + 1} talk_ms: expected ANSWEREDTIME_MS ${talk}, got ${rec.talkMs}`);
    }
  });
  return out;
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
  out.push(...timingProblems(r, perDial));
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
  if (closing.join(',') !== FINAL_SETS.join(',')) out.push(`final result variables: expected ${FINAL_SETS.join(', ')} in that order, got ${closing.join(', ') || 'none'}`);
  for (const l of r.asteriskLog) out.push(`Asterisk would log ${l.level} "${l.text}" (after ${l.command})`);
  return out;
}
