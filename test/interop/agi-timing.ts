/**
 * Timing figures read from Asterisk's own log with `agi set debug on` (logger dateformat with milliseconds):
 * what the daemon costs as Asterisk sees it, on the wire, not as the daemon measures itself.
 * Line shape (multi/*.asterisk.log): `[2026-12-01 19:19:54.146] VERBOSE[15474][C-00000004] res_agi.c: <chan>AGI Tx >> agi_request: …`;
 * the first header lines carry no `<chan>`, so sessions are keyed by the channel thread id.
 */

const LINE = /^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\] VERBOSE\[(\d+)\][^ ]* res_agi\.c: (?:<[^>]*>)?AGI (Tx >>|Rx <<) ?(.*)$/;

export interface AgiSession {
  readonly channelThread: string;
  readonly uniqueid: string;
  /** Last header line (the empty one) → the daemon's first command. */
  readonly headerToFirstCommandMs: number;
  /** Last header line → the first `EXEC Dial`. */
  readonly headerToDialMs: number | null;
  /** Each reply Asterisk sent → the daemon's next command (its turnaround, TCP on loopback included). */
  readonly turnaroundsMs: number[];
  /** Reply to one Dial → the next `EXEC Dial`: everything the daemon does between two attempts. */
  readonly betweenDialsMs: number[];
  readonly commands: number;
}

interface Entry {
  readonly t: number;
  readonly tx: boolean;
  readonly text: string;
}

export function agiTimings(log: string): AgiSession[] {
  const open = new Map<string, Entry[]>();
  const sessions: Entry[][] = [];
  const thread: string[] = [];
  for (const line of log.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const [, stamp, tid, dir, text] = m as unknown as [string, string, string, string, string];
    const t = Date.parse(stamp.replace(' ', 'T'));
    if (dir === 'Tx >>' && text.startsWith('agi_network:')) {
      const s: Entry[] = [];
      open.set(tid, s);
      sessions.push(s);
      thread.push(tid);
    }
    open.get(tid)?.push({ t, tx: dir === 'Tx >>', text });
  }
  return sessions.map((s, i) => summarize(thread[i] ?? '', s)).filter((s): s is AgiSession => s !== null);
}

function summarize(tid: string, s: Entry[]): AgiSession | null {
  const headerEnd = s.findIndex((e) => e.tx && e.text === '');
  if (headerEnd < 0) return null;
  const t0 = s[headerEnd]?.t ?? 0;
  const rest = s.slice(headerEnd + 1);
  const first = rest.find((e) => !e.tx);
  if (!first) return null;
  const dial = rest.find((e) => !e.tx && e.text.startsWith('EXEC Dial'));
  const turnarounds: number[] = [];
  const between: number[] = [];
  let lastDialReply: number | null = null;
  for (let i = 1; i < rest.length; i++) {
    const prev = rest[i - 1];
    const cur = rest[i];
    if (!prev || !cur || cur.tx || !prev.tx) continue;
    turnarounds.push(cur.t - prev.t);
    if (cur.text.startsWith('EXEC Dial') && lastDialReply !== null) between.push(cur.t - lastDialReply);
    const before = rest[i - 2];
    if (before && !before.tx && before.text.startsWith('EXEC Dial')) lastDialReply = prev.t;
  }
  const uid = /agi_uniqueid: (\S+)/.exec(s.map((e) => e.text).join('\n'))?.[1] ?? '';
  return {
    channelThread: tid,
    uniqueid: uid,
    headerToFirstCommandMs: first.t - t0,
    headerToDialMs: dial ? dial.t - t0 : null,
    turnaroundsMs: turnarounds,
    betweenDialsMs: between,
    commands: rest.filter((e) => !e.tx).length,
  };
}

function stats(xs: readonly number[]): string {
  if (xs.length === 0) return 'n/a';
  const s = [...xs].sort((a, b) => a - b);
  const pct = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `n=${s.length} min=${s[0]} median=${pct(0.5)} p95=${pct(0.95)} max=${s[s.length - 1]} ms`;
}

export function summarizeTimings(sessions: readonly AgiSession[]): string {
  const lines = ['interop AGI timing (from Asterisk\'s agi debug log, 1 ms resolution):'];
  for (const s of sessions) {
    lines.push(
      `  ${s.uniqueid}: header→first command ${s.headerToFirstCommandMs} ms, header→EXEC Dial ${s.headerToDialMs ?? '-'} ms, ` +
        `${s.commands} commands, turnaround max ${Math.max(0, ...s.turnaroundsMs)} ms, between Dials [${s.betweenDialsMs.join(', ')}] ms`,
    );
  }
  lines.push(`  header→EXEC Dial: ${stats(sessions.flatMap((s) => (s.headerToDialMs === null ? [] : [s.headerToDialMs])))}`);
  lines.push(`  daemon turnaround per command: ${stats(sessions.flatMap((s) => s.turnaroundsMs))}`);
  lines.push(`  Dial reply → next EXEC Dial: ${stats(sessions.flatMap((s) => s.betweenDialsMs))}`);
  return lines.join('\n');
}
