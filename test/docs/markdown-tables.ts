/** The rows of every Markdown table in a page, each with its table's header, cells trimmed. */

export interface TableRow {
  readonly header: readonly string[];
  readonly cells: readonly string[];
}

/** Cells of one table line: split on '|' outside code spans, `\|` kept as a literal bar. */
export function splitRow(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let code = false;
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === '\\' && body[i + 1] === '|') {
      cell += '|';
      i++;
    } else if (ch === '`') {
      code = !code;
      cell += ch;
    } else if (ch === '|' && !code) {
      cells.push(cell.trim());
      cell = '';
    } else cell += ch;
  }
  cells.push(cell.trim());
  return cells;
}

export function tableRows(markdown: string): TableRow[] {
  const lines = markdown.split('\n');
  const rows: TableRow[] = [];
  let fenced = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (/^\s*```/.test(line)) fenced = !fenced;
    if (fenced || !line.trim().startsWith('|') || !/^\s*\|(\s*:?-+:?\s*\|)+\s*$/.test(lines[i + 1] ?? '')) continue;
    const header = splitRow(line);
    let j = i + 2;
    for (; j < lines.length && (lines[j] ?? '').trim().startsWith('|'); j++) rows.push({ header, cells: splitRow(lines[j] ?? '') });
    i = j - 1;
  }
  return rows;
}
