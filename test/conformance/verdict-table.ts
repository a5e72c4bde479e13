import type { CaptureCase, CapturedAttempt } from './capture-reader.js';
import type { ExpectedConnection } from './expected.js';

/**
 * The verdict table of docs/verdicts.md, built from the captures and the expected table, so the documented table is the
 * captures' table and cannot drift from what the conformance replay checks.
 */

function describeAttempt(a: CapturedAttempt): string {
  const techs = a.keys.map((k) => a.perKey.get(k)?.tech ?? '').filter((t) => t !== '');
  const what = techs.length > 0 ? techs.map((t) => `\`${t}\``).join(' + ') : 'no SIP response';
  const alerted = a.vars['PROGRESSTIME_MS'] ? ' after 183' : a.vars['RINGTIME_MS'] && !techs.includes('SIP 180 Ringing') && a.vars['DIALSTATUS'] !== 'ANSWER' ? ' after 180' : '';
  const hangup = a.hangupAfterDial ? ', then HANGUP' : '';
  return `${a.vars['DIALSTATUS'] ?? ''}/${a.hangupCause} ${what}${alerted}${hangup}`;
}

export function verdictTableRows(captures: readonly CaptureCase[], expected: Readonly<Record<string, readonly ExpectedConnection[]>>): string[] {
  const rows = ['| capture | each attempt: DIALSTATUS/HANGUPCAUSE, the leg\'s own response | verdicts | FAILOVER_STATUS | FAILOVER_CAUSE |', '|---|---|---|---|---|'];
  for (const c of [...captures].sort((a, b) => a.name.localeCompare(b.name))) {
    const exp = expected[c.name];
    if (!exp) continue;
    c.connections.forEach((conn, i) => {
      const e = exp[i];
      if (!e) return;
      const attempts = conn.attempts.filter((a) => !a.extra).slice(0, e.verdicts.length);
      const name = c.connections.length > 1 ? `${c.name} (run ${i + 1})` : c.name;
      rows.push(`| \`${name}\` | ${attempts.map(describeAttempt).join('; ')} | ${e.verdicts.join(', ')} | ${e.status} | ${e.cause || '(empty)'} |`);
    });
  }
  return rows;
}

export const TABLE_START = '<!-- verdict table: generated from the captures by test/conformance/verdict-table.ts -->';
export const TABLE_END = '<!-- end of verdict table -->';
