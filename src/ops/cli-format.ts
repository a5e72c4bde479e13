import { progressText } from '../routing/progress-timeout.js';
import type { PlanPreview } from './plan-preview.js';
import { budgetNote, capacityText, pddText, progressShort, qualityNote, spendText, type DaemonStatus } from './status.js';

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function ago(ms: number): string {
  if (ms < 0) return '-';
  const s = Math.round(ms / 1000);
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

export function formatTable(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => pad(c, widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

/** The table `failover-agi status` prints. */
export function formatStatus(s: DaemonStatus): string {
  const rows = [['CARRIER', 'STATE', 'SINCE', 'DIALS/15m', 'ASR', 'FAILED', 'SKIPPED', 'PDD p50/p95', 'IN USE', 'SPEND', 'PROGRESS', 'ORDER', 'WHY']];
  for (const c of s.carriers) {
    rows.push([
      c.name,
      c.state,
      c.since > 0 ? ago(s.now - c.since) : '-',
      String(c.last15m.dials),
      c.last15m.asr === null ? '-' : `${Math.round(c.last15m.asr * 100)}%`,
      String(c.last15m.failures),
      String(c.last15m.skipped),
      pddText(c),
      capacityText(c),
      spendText(c) || '-',
      progressShort(c),
      c.quality === undefined ? '-' : c.quality.state === 'demoted' ? 'DEMOTED' : c.quality.groups.length > 0 ? 'demoted/group' : 'ok',
      [c.reason, c.capacity.atCap ?? '', budgetNote(c), qualityNote(c)].filter(Boolean).join('; '),
    ]);
  }
  const ami = s.ami.enabled ? (s.ami.connected ? 'connected' : 'DISCONNECTED') : 'off';
  const db = s.db.configured ? `${s.db.connected ? 'connected' : 'DOWN (spooling)'}, queue ${s.db.queued}, spool ${s.db.spoolBytes} B` : 'none (JSONL spool)';
  const routes = s.routes.map((r) => `  ${r.name} (${r.strategy}): ${r.carriers.join(' → ')}`).join('\n');
  return `${s.serverId}: ${s.activeCalls} active calls, AMI ${ami}, database ${db}${clusterLine(s)}\n\n${formatTable(rows)}\n${groupLines(s)}${qualityLines(s)}\nroutes:\n${routes}\n`;
}

/**
 * Quality ordering, one line per carrier: its state and since when, then the figures behind it (recent window vs
 * baseline), so an operator sees why each carrier is ordered where it is. Nothing when no carrier is judged.
 */
function qualityLines(s: DaemonStatus): string {
  const lines = s.carriers.flatMap((c) => {
    const q = c.quality;
    if (!q) return [];
    const head = q.state === 'demoted' ? `DEMOTED${q.since > 0 ? ` ${ago(s.now - q.since)} ago` : ''}` : 'in order';
    // an ok carrier's reason is its figures against its baseline, or why it is not judged (too few Dials)
    const why = q.reason.replace(/^demoted: /, '');
    return [`  ${c.name}: ${head}: ${why}`, ...q.groups.map((g) => `  ${c.name} × ${g.group}: DEMOTED ${ago(s.now - g.since)} ago: ${g.reason.replace(/^demoted: /, '')}`)];
  });
  return lines.length === 0 ? '' : `\nquality (a demoted carrier is dialed after the others, still when nothing else is left):\n${lines.join('\n')}\n`;
}

/** Carriers ejected for one prefix group while they serve every other number; nothing when there are none. */
function groupLines(s: DaemonStatus): string {
  const lines = s.carriers.flatMap((c) =>
    c.groups.map((g) => `  ${c.name} × ${g.group}: ${g.state === 'down' ? `EJECTED${g.until !== null ? ` for ${Math.max(0, Math.round((g.until - s.now) / 1000))} s more` : ''}` : 'probing'} (${g.reason})`),
  );
  return lines.length === 0 ? '' : `\nprefix groups (calls to the group skip the carrier, others still dial it):\n${lines.join('\n')}\n`;
}

/** Shared health: one line, only with cluster.enabled. */
function clusterLine(s: DaemonStatus): string {
  const c = s.cluster;
  if (!c.enabled) return '';
  const peers = c.peers.length === 0 ? 'no peer has published yet' : `peers ${c.peers.map((p) => `${p.server} (last fact ${ago(s.now - p.seenAt)} ago: ${p.carrier}${p.group ? ` × ${p.group}` : ''} ${p.state})`).join(', ')}`;
  const health = c.up
    ? `\ncluster: sharing health, ${peers}`
    : `\ncluster: VIEW LOST${c.lostSince !== null ? ` ${ago(s.now - c.lostSince)} ago` : ''}, deciding alone${c.lastError ? ` (${c.lastError})` : ''}; ${peers}`;
  return health + spendLine(s);
}

/** Cluster-wide budgets: whether the peers' spend is current. */
function spendLine(s: DaemonStatus): string {
  const k = s.cluster.spend;
  if (!k) return '';
  const peers = k.peers.length === 0 ? 'no peer spend this hour or day' : `peers ${k.peers.join(', ')}`;
  const read = k.lastReadAt === null ? 'never read' : `read ${ago(s.now - k.lastReadAt)} ago`;
  if (k.up) return `\ncluster budgets: counting the cluster's spend (${read}), ${peers}`;
  return `\ncluster budgets: SPEND VIEW STALE${k.lostSince !== null ? ` ${ago(s.now - k.lostSince)}` : ''}, counting own spend + the peers' as last ${read}${k.lastError ? ` (${k.lastError})` : ''}`;
}

export function formatPlan(p: PlanPreview): string {
  if (p.error) return `${p.error}\n`;
  const group = p.prefixGroup ? `, prefix group ${p.prefixGroup}` : '';
  const lines = [`route ${p.route} (${p.strategy}, script ${p.script}), number ${p.number}${group}${p.failedOpen ? ' (every carrier down: failing open)' : ''}`];
  if (p.note) lines.push(`  ${p.note}`);
  for (const o of p.orders) {
    if (p.orders.length > 1) lines.push(`  ${Math.round(o.share * 100)}% of calls:`);
    const indent = p.orders.length > 1 ? '    ' : '  ';
    o.dials.forEach((d, i) => {
      lines.push(`${indent}${i + 1}. ${pad(d.carriers.map((c) => c.carrier).join('&'), 12)} ${pad(d.carriers.map((c) => c.state).join('&'), 8)} Dial(${d.dial})`);
      // why it is dialed here and not in the route's order: on its own line, as the reasons are long
      if (d.note) lines.push(`${indent}   ${' '.repeat(12)} ${d.note}`);
      // where the `^progress` of the Dial comes from, for carriers in adaptive mode (a fixed one's is its progressTimeout)
      const adaptive = d.carriers.filter((c) => c.progress.source === 'learned' || c.progress.minSamples > 0);
      const from = adaptive.map((c) => (d.carriers.length > 1 ? `${c.carrier} ${progressText(c.progress)}` : progressText(c.progress)));
      if (from.length > 0) lines.push(`${indent}   progress timeout: ${from.join('; ')}`);
    });
    if (o.dials.length === 0) lines.push(`${indent}(no carrier would be dialed)`);
  }
  for (const s of p.skipped) lines.push(`  -  ${pad(s.carrier, 12)} ${pad(s.state, 8)} skipped: ${s.reason}`);
  return `${lines.join('\n')}\n`;
}
