/** Plain-text tables for the terminal: the bench prints figures for people, the JSON file is for machines. */

export type Cell = string | number;

function cellText(c: Cell): string {
  if (typeof c === 'string') return c;
  if (!Number.isFinite(c)) return '-';
  if (Number.isInteger(c)) return String(c);
  return Math.abs(c) >= 100 ? c.toFixed(0) : Math.abs(c) >= 10 ? c.toFixed(1) : c.toFixed(2);
}

export function printTable(title: string, head: readonly string[], rows: readonly (readonly Cell[])[]): void {
  const text = rows.map((r) => r.map(cellText));
  const widths = head.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  console.log(`\n== ${title}`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of text) console.log(line(r));
}

/** "meets" / "MISSES" against a target; the bench reports, it never fails the run on timing. */
export function verdict(ok: boolean): string {
  return ok ? 'meets' : 'MISSES';
}

export const mb = (bytes: number): number => bytes / (1024 * 1024);
export const ms = (us: number): number => us / 1000;
