import type { ExplainRow } from '../store/explain-query.js';
import { formatTable } from './cli-format.js';

/** A call is the rows of one AGI run: (dialer, uniqueid, run); a second AGI run on the same channel is a call of its own. */
function calls(rows: readonly ExplainRow[]): ExplainRow[][] {
  const out: ExplainRow[][] = [];
  for (const r of rows) {
    const last = out[out.length - 1];
    const prev = last?.[last.length - 1];
    if (!last || !prev || r.uniqueid !== prev.uniqueid || r.serverId !== prev.serverId || r.runId !== prev.runId || (r.runId === '' && r.attempt <= prev.attempt)) out.push([r]);
    else last.push(r);
  }
  return out;
}

function time(d: Date): string {
  return new Date(d).toISOString().replace('T', ' ').replace('Z', '');
}

/** What `failover-agi explain` prints: per call a header line, then each attempt with its outcome, verdict and why. */
export function formatExplain(rows: readonly ExplainRow[], asked: string): string {
  if (rows.length === 0) return `no attempt rows for ${asked} (is this the right dialer's database, and has the writer caught up?)\n`;
  return calls(rows)
    .map((call) => {
      const first = call[0] as ExplainRow;
      const head = `call ${first.uniqueid} on ${first.serverId}: route ${first.route || '-'} (${first.strategy || '-'}), number ${first.number || '-'}${first.leadId !== null ? `, lead ${first.leadId}` : ''}${first.campaign ? `, campaign ${first.campaign}` : ''}${first.prefixGroup ? `, prefix group ${first.prefixGroup}` : ''}, started ${time(first.startedAt)} UTC`;
      const table = [['#', 'CARRIER', 'HEALTH', 'DIAL', 'VERDICT', 'DIALSTATUS', 'CAUSE', 'SIP', 'PDD ms', 'RING ms', 'TALK ms', 'WHY']];
      for (const r of call) {
        table.push([
          String(r.attempt),
          r.carrier || '-',
          r.healthState || '-',
          r.dialString || '-',
          r.verdict,
          r.dialStatus || '-',
          r.cause === null ? '-' : String(r.cause),
          r.sipCode === null ? '-' : `${r.sipCode}${r.sipReason ? ` ${r.sipReason}` : ''}`,
          r.pddMs === null ? '-' : String(r.pddMs),
          String(r.ringMs),
          String(r.talkMs),
          r.reason,
        ]);
      }
      return `${head}\n${formatTable(table)
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n')}\n`;
    })
    .join('\n');
}
