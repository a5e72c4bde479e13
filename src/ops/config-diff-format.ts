import type { FieldChange, KeyChange, NamedChange, ReloadPlan } from '../config/reload-plan.js';

/** One value as the diff shows it: JSON, so an empty string or a list reads unambiguously. */
function shown(v: unknown): string {
  return v === undefined ? '(none)' : JSON.stringify(v);
}

const change = (c: KeyChange): string => (c.secret ? '(changed)' : `${shown(c.from)} → ${shown(c.to)}`);
const field = (f: FieldChange): string => `${f.field} ${shown(f.from)} → ${shown(f.to)}`;

function namedRows(kind: string, list: readonly NamedChange[]): [string, string, string][] {
  const rows: [string, string, string][] = [];
  for (const n of list) {
    const label = `${kind} ${n.name}`;
    if (n.change !== 'changed') rows.push([label, n.change, 'live']);
    else for (const f of n.fields) rows.push([label, field(f), 'live']);
  }
  return rows;
}

export interface DiffContext {
  /** What FILE was compared with: "the running daemon (…)" or the other file. */
  readonly against: string;
  /** Keys the daemon's environment sets to something else than FILE: a reload keeps the environment's value. */
  readonly envWins?: readonly { readonly key: string; readonly env: string }[];
}

/** `check-config --diff`: each change with old → new (a secret only as "(changed)"), live or restart needed. */
export function formatReloadPlan(plan: ReloadPlan, ctx: DiffContext): string {
  const rows: [string, string, string][] = [
    ...plan.changes.map((c): [string, string, string] => [c.key, change(c), c.live ? 'live' : 'restart needed']),
    ...namedRows('carrier', plan.carriers),
    ...namedRows('route', plan.routes),
  ];
  const out = [`compared with ${ctx.against}:`];
  if (rows.length === 0) out.push('  no change: a reload would apply nothing');
  else {
    const w0 = Math.max(3, ...rows.map((r) => r[0].length));
    const w1 = Math.max(6, ...rows.map((r) => r[1].length));
    out.push(`  ${'KEY'.padEnd(w0)}  ${'CHANGE'.padEnd(w1)}  ON SIGHUP`);
    for (const [k, c, when] of rows) out.push(`  ${k.padEnd(w0)}  ${c.padEnd(w1)}  ${when}`);
  }
  if (ctx.envWins && ctx.envWins.length > 0) {
    out.push(`set by the daemon's environment, so the file's value is not used: ${ctx.envWins.map((e) => `${e.key} (${e.env})`).join(', ')}`);
  }
  if (plan.restartNeeded.length > 0) {
    const live = rows.length - plan.restartNeeded.length;
    const rest = live > 0 ? `SIGHUP applies the other ${live}` : 'SIGHUP has nothing else to apply';
    out.push(`${plan.restartNeeded.length} ${plan.restartNeeded.length === 1 ? 'change needs' : 'changes need'} a restart (${plan.restartNeeded.join(', ')}); ${rest}`);
  } else if (rows.length > 0) out.push('SIGHUP (systemctl reload failover-agi) applies every change');
  return `${out.join('\n')}\n`;
}
